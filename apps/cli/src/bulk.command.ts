import type { ClientReadableStream } from '@grpc/grpc-js';
import { BulkCommandRequest, CommandStatus, type BulkProgress } from '@rigwarden/protocol';
import { commandsTable, progressBar, stateName } from './command-status.format';
import { EXIT } from './exit-codes';
import { SELECTOR_FLAGS, UsageError, positiveInt, selectorFrom, value, type ParsedArgs } from './fleet-command';
import type { OperatorCommand } from './operator-command';
import { poolsFrom } from './set-pools.command';

const ACTIONS = ['restart', 'reboot', 'power-cycle', 'set-pools', 'apply-profile', 'switch-pool'] as const;

function commandFrom(action: string, args: ParsedArgs): BulkCommandRequest['command'] {
  switch (action) {
    case 'restart': return { $case: 'restartMiner', value: {} };
    case 'reboot': return { $case: 'rebootHost', value: {} };
    case 'power-cycle': return { $case: 'powerCycle', value: {} };
    case 'set-pools': return { $case: 'setPools', value: { pools: poolsFrom(args) } };
    case 'apply-profile': {
      const profile = value(args, 'profile');
      if (!profile) throw new UsageError('bulk apply-profile needs --profile NAME');
      return { $case: 'applyProfile', value: { profile } };
    }
    case 'switch-pool': {
      const text = value(args, 'pool-index');
      const poolIndex = Number(text);
      if (text === undefined || !Number.isInteger(poolIndex) || poolIndex < 0) throw new UsageError(`bulk switch-pool needs --pool-index N (0 or more), got ${JSON.stringify(text ?? '')}`);
      return { $case: 'switchPool', value: { poolIndex } };
    }
    default:
      throw new UsageError(`bulk needs an action: ${ACTIONS.join(', ')}${action ? `; got "${action}"` : ''}`);
  }
}

/**
 * rigctl bulk <action>: one command over every rig a selector matches, `--concurrency` rigs at a time. Progress goes
 * to stderr (a bar on a terminal, a line per rig otherwise); the per-rig results to stdout (a table, or --json).
 */
export const bulkCommand: OperatorCommand = {
  name: 'bulk',
  summary: 'one command over every rig a selector matches, with per-rig progress',
  description: `One command over every rig the selector (or --all) matches, --concurrency rigs at a time. Progress goes to stderr
(a bar on a terminal, a line per rig otherwise), the per-rig results to stdout. Exit 1 if any rig did not succeed,
3 if no rig matches.`,
  arguments: [{ name: '<action>', description: ACTIONS.join(', '), choices: ACTIONS }],
  flags: {
    ...SELECTOR_FLAGS,
    all: { kind: 'switch', description: 'every rig (instead of a selector)' },
    pool: { kind: 'multi', placeholder: 'URL,USER[,PASSWORD]', description: 'set-pools: a pool; repeat it for backups, in priority order' },
    profile: { kind: 'value', placeholder: 'NAME', description: 'apply-profile: the profile' },
    'pool-index': { kind: 'value', placeholder: 'N', description: 'switch-pool: the pool to switch to (0 or more)' },
    reason: { kind: 'value', placeholder: 'TEXT', description: 'why, for the command log, the events and the audit log' },
    concurrency: { kind: 'value', placeholder: 'N', description: 'rigs at a time (default 50)' },
    'timeout-seconds': { kind: 'value', placeholder: 'N', description: "each rig's command deadline (default 60)" },
    'dry-run': { kind: 'switch', description: 'list the rigs that would get it; send nothing' },
  },
  checksExtraArguments: true,
  examples: [
    'rigctl bulk restart --group demo --concurrency 10 --reason "nightly"',
    'rigctl bulk set-pools --label row=1 --pool stratum+tcp://pool-b.example:3333,farm.w1',
    'rigctl bulk reboot --all --dry-run',
  ],
  async run(ctx, args) {
    const [action = '', ...extra] = args.positional;
    if (extra.length > 0) throw new UsageError(`bulk takes one action and selector flags, not "${extra.join(' ')}" (use --rig ID to name rigs)`);
    const command = commandFrom(action, args);
    const selector = selectorFrom(args);
    const selects = selector.rigIds.length > 0 || selector.group !== '' || Object.keys(selector.labels).length > 0 || selector.status !== '' || selector.model !== '';
    if (!selects && !args.switches.has('all')) throw new UsageError('bulk needs a selector (--rig, --group, --label, --status, --model) or --all for every rig');
    const request = BulkCommandRequest.fromPartial({
      selector, command, reason: value(args, 'reason') ?? '', dryRun: args.switches.has('dry-run'),
      concurrency: positiveInt(args, 'concurrency', 50), timeoutSeconds: positiveInt(args, 'timeout-seconds', 60),
    });

    const results: CommandStatus[] = [];
    let last: BulkProgress | undefined;
    const stream: ClientReadableStream<BulkProgress> = ctx.client.bulkCommand(request, ctx.metadata);
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (progress: BulkProgress) => {
        last = progress;
        if (progress.command) {
          results.push(progress.command);
          const c = progress.command;
          if (!ctx.tty) ctx.err(`[${progress.done}/${progress.total}] ${c.rigId} ${stateName(c.state)}${c.attempts ? ` (${c.attempts} attempt${c.attempts === 1 ? '' : 's'})` : ''}${c.cause ? `: ${c.cause}` : ''}`);
        }
        if (ctx.tty && !request.dryRun) process.stderr.write(`\r${progressBar(progress.done, progress.total, progress.succeeded, progress.failed)}${progress.finished ? '\n' : ''}`);
      });
      stream.on('error', reject);
      stream.on('end', () => resolve());
    });

    const total = last?.total ?? 0;
    const failed = last?.failed ?? 0;
    if (ctx.json) {
      ctx.out(JSON.stringify({ total, succeeded: last?.succeeded ?? 0, failed, dryRun: request.dryRun, rigs: results.map((r) => CommandStatus.toJSON(r)) }, null, 2));
    } else if (total === 0) {
      ctx.out('no rig matches the selector (rigctl rigs with the same flags shows what it selects)');
    } else {
      ctx.out(commandsTable(results, ctx.now()));
      ctx.out(request.dryRun ? `\ndry run: ${total} rig${total === 1 ? '' : 's'} would get ${action}; nothing was sent` : `\n${total} rig${total === 1 ? '' : 's'}: ${last?.succeeded ?? 0} succeeded, ${failed} failed`);
    }
    if (total === 0) return EXIT.NOT_FOUND;
    return failed > 0 ? EXIT.FAILED : EXIT.OK;
  },
};
