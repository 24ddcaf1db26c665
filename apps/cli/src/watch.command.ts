import { status } from '@grpc/grpc-js';
import { RigUpdate, WatchRigsRequest } from '@rigwarden/protocol';
import { livenessText, rigHashrate } from './format';
import { EXIT_FAILED, EXIT_OK, SELECTOR_FLAGS, SELECTOR_USAGE, explainGrpcError, isServiceError, positiveInt, selectorFrom, type FleetCommand } from './fleet-command';

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
  usage: `watch ${SELECTOR_USAGE} [--count N]
                    the selected rigs now, then every change as it is ingested (--json: one RigUpdate per line)`,
  flags: { ...SELECTOR_FLAGS, count: 'value' },
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
      const interrupt = (): void => finish(EXIT_OK);
      process.on('SIGINT', interrupt);
      process.on('SIGTERM', interrupt);
      stream.on('data', (update: RigUpdate) => {
        if (done) return;
        ctx.out(ctx.json ? JSON.stringify(RigUpdate.toJSON(update)) : line(update));
        if (++seen >= count) finish(EXIT_OK);
      });
      stream.on('error', (err) => {
        if (done || (isServiceError(err) && err.code === status.CANCELLED)) return;
        ctx.err(`rigctl: ${isServiceError(err) ? explainGrpcError(err, ctx.server) : err.message}`);
        finish(EXIT_FAILED);
      });
      stream.on('end', () => finish(EXIT_OK));
    });
  },
};
