import { SetPoolsRequest, type CommandStatus, type PoolTarget } from '@rigwarden/protocol';
import { UsageError, unary, type ParsedArgs } from './fleet-command';
import { TARGET_FLAGS, TARGET_USAGE, reportCommand, targetFrom, waitingContext, type OperatorCommand } from './operator-command';

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
  usage: `set-pools <rig-id> --pool URL,USER[,PASSWORD]... ${TARGET_USAGE}
                    replace the miner's pool list (first = preferred) and wait for the result`,
  flags: { ...TARGET_FLAGS, pool: 'multi' },
  async run(ctx, args) {
    const target = targetFrom(args, 'set-pools');
    const pools = poolsFrom(args);
    const c = target.wait ? waitingContext(ctx, target.timeoutSeconds) : ctx;
    const status: CommandStatus = await unary(c, ctx.client.setPools, SetPoolsRequest.fromPartial({ target, pools }));
    return reportCommand(ctx, status);
  },
};
