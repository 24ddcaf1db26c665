import { Event, ReleaseQuarantineRequest } from '@rigwarden/protocol';
import { EXIT } from './exit-codes';
import { UsageError, unary, value } from './fleet-command';
import type { OperatorCommand } from './operator-command';

/**
 * rigctl release <rig-id> --reason TEXT: the operator fixed a quarantined rig; the watchdog ladder starts again from
 * its first step. Exit 2 without a reason or when the rig is not quarantined, 3 for an unknown rig.
 */
export const releaseCommand: OperatorCommand = {
  name: 'release',
  summary: 'release a quarantined rig after fixing it',
  description: 'Release a quarantined rig after fixing it: the policies act on it again, the watchdog ladder starts from\nrestart-miner (exit 2 without --reason or if the rig is not quarantined, 3 for a rig never heard of).',
  arguments: [{ name: '<rig-id>', description: 'the quarantined rig' }],
  flags: { reason: { kind: 'value', placeholder: 'TEXT', description: 'what was fixed (required)' } },
  checksExtraArguments: true,
  examples: ['rigctl release sim-001 --reason "replaced hashboard 2"'],
  async run(ctx, args) {
    const rigId = args.positional[0];
    if (!rigId) throw new UsageError('release needs a rig id: rigctl release <rig-id> --reason TEXT');
    if (args.positional.length > 1) throw new UsageError(`release takes one rig id, got ${args.positional.length}`);
    const reason = value(args, 'reason')?.trim() ?? '';
    if (reason === '') throw new UsageError('release needs --reason: say what was fixed (e.g. --reason "replaced hashboard 2")');
    const event = await unary(ctx, ctx.client.releaseQuarantine, ReleaseQuarantineRequest.fromPartial({ rigId, reason }));
    if (ctx.json) ctx.out(JSON.stringify(Event.toJSON(event), null, 2));
    else ctx.out(`released rig ${event.rigId} at ${event.at?.toISOString() ?? '?'} (event ${event.eventId}): ${event.message}`);
    return EXIT.OK;
  },
};
