import { ApplyProfileRequest, type CommandStatus } from '@rigwarden/protocol';
import { UsageError, unary, value } from './fleet-command';
import { TARGET_FLAGS, TARGET_USAGE, reportCommand, targetFrom, waitingContext, type OperatorCommand } from './operator-command';

/** rigctl apply-profile: apply a tuning profile (work mode, frequency, GPU clocks) from the agent's config. */
export const applyProfileCommand: OperatorCommand = {
  name: 'apply-profile',
  usage: `apply-profile <rig-id> --profile NAME ${TARGET_USAGE}
                    apply a tuning profile from the agent config and wait for the result`,
  flags: { ...TARGET_FLAGS, profile: 'value' },
  async run(ctx, args) {
    const target = targetFrom(args, 'apply-profile');
    const profile = value(args, 'profile');
    if (!profile) throw new UsageError('apply-profile needs --profile NAME');
    const c = target.wait ? waitingContext(ctx, target.timeoutSeconds) : ctx;
    const status: CommandStatus = await unary(c, ctx.client.applyProfile, ApplyProfileRequest.fromPartial({ target, profile }));
    return reportCommand(ctx, status);
  },
};
