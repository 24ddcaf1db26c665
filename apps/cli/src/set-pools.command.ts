import { SetPoolsRequest, type CommandStatus, type PoolTarget } from '@rigwarden/protocol';
import { UsageError, unary, type ParsedArgs } from './fleet-command';
import { RIG_ID_ARGUMENT, TARGET_FLAGS, reportCommand, targetFrom, waitingContext, type OperatorCommand } from './operator-command';

/** `--pool URL,USER[,PASSWORD]`, repeated in priority order. */
export function poolsFrom(args: ParsedArgs): PoolTarget[] {
  const pools = (args.values.get('pool') ?? []).map((text) => {
    const [url = '', user = '', ...password] = text.split(',');
    if (url === '' || user === '') throw new UsageError(`--pool needs URL,USER[,PASSWORD], got "${text}"`);
    return { url, user, password: password.join(',') };
  });
  if (pools.length === 0) throw new UsageError('give at least one --pool URL,USER[,PASSWORD] (repeat it for backups, in priority order)');
  return pools;
}

/** rigctl set-pools: replace a miner's pool list. */
export const setPoolsCommand: OperatorCommand = {
  name: 'set-pools',
  summary: "replace the miner's pool list (first = preferred) and wait for the result",
  arguments: [RIG_ID_ARGUMENT],
  flags: { pool: { kind: 'multi', placeholder: 'URL,USER[,PASSWORD]', description: 'a pool; repeat it for backups, in priority order (at least one)' }, ...TARGET_FLAGS },
  checksExtraArguments: true,
  examples: ['rigctl set-pools sim-001 --pool stratum+tcp://pool-a.example:3333,farm.w1,x --pool stratum+tcp://pool-b.example:3333,farm.w1'],
  async run(ctx, args) {
    const target = targetFrom(args, 'set-pools');
    const pools = poolsFrom(args);
    const c = target.wait ? waitingContext(ctx, target.timeoutSeconds) : ctx;
    const status: CommandStatus = await unary(c, ctx.client.setPools, SetPoolsRequest.fromPartial({ target, pools }));
    return reportCommand(ctx, status);
  },
};
