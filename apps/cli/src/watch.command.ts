import { status } from '@grpc/grpc-js';
import { RigUpdate, WatchRigsRequest } from '@rigwarden/protocol';
import { livenessText, rigHashrate } from './format';
import { EXIT, exitCodeForStatus } from './exit-codes';
import { SELECTOR_FLAGS, explainGrpcError, isServiceError, positiveInt, selectorFrom, type FleetCommand } from './fleet-command';

function line(update: RigUpdate): string {
  const rig = update.rig!;
  const temps = rig.miners.flatMap((m) => m.boards.flatMap((b) => [b.boardTempC, b.chipTempC])).filter((t): t is number => t !== undefined);
  return [
    new Date().toISOString(), update.initial ? 'now' : 'changed', rig.rigId, livenessText(rig),
    rigHashrate(rig.miners), temps.length > 0 ? `${Math.max(...temps).toFixed(1)} C` : '- C', `seq ${rig.lastSeq}`, rig.group || '-',
    rig.quarantined ? 'QUARANTINED' : '',
  ].join('  ').trimEnd();
}

/** rigctl watch: the selected rigs now, then each change as the controller ingests it, until Ctrl-C or --count. */
export const watchCommand: FleetCommand = {
  name: 'watch',
  summary: 'the selected rigs now, then every change as it is ingested, until Ctrl-C',
  description: 'The selected rigs now, then every change as the controller ingests it, until Ctrl-C or --count updates\n(--json: one RigUpdate per line). Exits 5 if the controller is unreachable, goes away or ends the watch.',
  flags: { ...SELECTOR_FLAGS, count: { kind: 'value', placeholder: 'N', description: 'stop after N updates' } },
  examples: ['rigctl watch --group demo', 'rigctl watch --rig sim-001 --count 1 --json'],
  run(ctx, args) {
    const selector = selectorFrom(args);
    const count = args.values.has('count') ? positiveInt(args, 'count', 1) : Infinity;
    return new Promise<number>((resolve) => {
      let seen = 0;
      let done = false;
      const stream = ctx.client.watchRigs(WatchRigsRequest.fromPartial({ selector }), ctx.metadata);
      const finish = (code: number): void => {
        if (done) return;
        done = true;
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
        stream.cancel();
        resolve(code);
      };
      const interrupt = (): void => finish(EXIT.OK);
      process.on('SIGINT', interrupt);
      process.on('SIGTERM', interrupt);
      stream.on('data', (update: RigUpdate) => {
        if (done) return;
        ctx.out(ctx.json ? JSON.stringify(RigUpdate.toJSON(update)) : line(update));
        if (++seen >= count) finish(EXIT.OK);
      });
      stream.on('error', (err) => {
        if (done || (isServiceError(err) && err.code === status.CANCELLED)) return;
        // The same exit code as every other command for the status (5 unreachable, 4 denied, ...).
        ctx.err(`rigctl: ${isServiceError(err) ? explainGrpcError(err, ctx.connection) : err.message}`);
        finish(isServiceError(err) ? exitCodeForStatus(err.code) : EXIT.FAILED);
      });
      // Only the controller ends a watch (it is stopping): the rigs are no longer watched, as if it were unreachable.
      stream.on('end', () => {
        if (done) return;
        ctx.err(`rigctl: the controller at ${ctx.connection.server} ended the watch (it is stopping or restarting)`);
        finish(EXIT.UNREACHABLE);
      });
    });
  },
};
