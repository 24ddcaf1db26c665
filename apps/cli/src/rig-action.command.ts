import { RigCommandRequest, type CommandStatus } from '@rigwarden/protocol';
import { unary } from './fleet-command';
import { TARGET_FLAGS, TARGET_USAGE, reportCommand, targetFrom, waitingContext, type OperatorCommand } from './operator-command';

type Rpc = 'restartMiner' | 'rebootRig' | 'powerCycle';

function rigAction(name: string, rpc: Rpc, what: string): OperatorCommand {
  return {
    name,
    usage: `${name} <rig-id> ${TARGET_USAGE}
                    ${what}; waits for the agent's result (exit 1 if it failed, was rejected or timed out)`,
    flags: TARGET_FLAGS,
    async run(ctx, args) {
      const target = targetFrom(args, name);
      const c = target.wait ? waitingContext(ctx, target.timeoutSeconds) : ctx;
      const status: CommandStatus = await unary(c, ctx.client[rpc], RigCommandRequest.fromPartial(target));
      return reportCommand(ctx, status);
    },
  };
}

/** rigctl restart: restart the miner software (the rig's only or first miner unless --miner). */
export const restartCommand = rigAction('restart', 'restartMiner', 'restart the miner');
/** rigctl reboot: run the rig's reboot command (agent config rigs.<rig>.rebootCommand). */
export const rebootCommand = rigAction('reboot', 'rebootRig', 'reboot the rig');
/** rigctl power-cycle: switch the rig's PDU outlet off and on. */
export const powerCycleCommand = rigAction('power-cycle', 'powerCycle', "power-cycle the rig's PDU outlet");
