import { GetRigRequest, Rig } from '@rigwarden/protocol';
import { rigDetail } from './format';
import { EXIT_OK, UsageError, unary, type FleetCommand } from './fleet-command';

/** rigctl rig <rig-id>: one rig with its labels, group, miners, boards, fans and pools. */
export const rigCommand: FleetCommand = {
  name: 'rig',
  summary: 'one rig in detail: group, labels, miners, boards, fans, pools',
  arguments: [{ name: '<rig-id>', description: 'the rig (rigctl rigs lists them)' }],
  flags: {},
  async run(ctx, args) {
    const rigId = args.positional[0] ?? (() => { throw new UsageError('rig needs a rig id: rigctl rig <rig-id>'); })();
    const rig = await unary(ctx, ctx.client.getRig, GetRigRequest.fromPartial({ rigId }));
    ctx.out(ctx.json ? JSON.stringify(Rig.toJSON(rig), null, 2) : rigDetail(rig, ctx.now()));
    return EXIT_OK;
  },
};
