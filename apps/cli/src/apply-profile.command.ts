import { ApplyProfileRequest, type CommandStatus } from '@rigwarden/protocol';
import { UsageError, unary, value } from './fleet-command';
import { RIG_ID_ARGUMENT, TARGET_FLAGS, reportCommand, targetFrom, waitingContext, type OperatorCommand } from './operator-command';

/** rigctl apply-profile: apply a tuning profile (work mode, frequency, GPU clocks) from the agent's config. */
export const applyProfileCommand: OperatorCommand = {
  name: 'apply-profile',
  summary: 'apply a tuning profile from the agent config and wait for the result',
  arguments: [RIG_ID_ARGUMENT],
  flags: { profile: { kind: 'value', placeholder: 'NAME', description: "the profile's name in the agent config (required)" }, ...TARGET_FLAGS },
  checksExtraArguments: true,
  examples: ['rigctl apply-profile sim-001 --profile eco --timeout-seconds 120'],
  async run(ctx, args) {
    const target = targetFrom(args, 'apply-profile');
    const profile = value(args, 'profile');
    if (!profile) throw new UsageError('apply-profile needs --profile NAME');
    const c = target.wait ? waitingContext(ctx, target.timeoutSeconds) : ctx;
    const status: CommandStatus = await unary(c, ctx.client.applyProfile, ApplyProfileRequest.fromPartial({ target, profile }));
    return reportCommand(ctx, status);
  },
};
