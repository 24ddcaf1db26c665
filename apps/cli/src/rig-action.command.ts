import { RigCommandRequest, type CommandStatus } from '@rigwarden/protocol';
import { unary } from './fleet-command';
import { RIG_ID_ARGUMENT, TARGET_FLAGS, reportCommand, targetFrom, waitingContext, type OperatorCommand } from './operator-command';

type Rpc = 'restartMiner' | 'rebootRig' | 'powerCycle';

function rigAction(name: string, rpc: Rpc, what: string): OperatorCommand {
  return {
    name,
    summary: `${what} and wait for the agent's result`,
    description: `${what.charAt(0).toUpperCase()}${what.slice(1)}; waits for the agent's result (exit 1 if it failed, was rejected or timed out).`,
    arguments: [RIG_ID_ARGUMENT],
    flags: TARGET_FLAGS,
    checksExtraArguments: true,
    examples: [`rigctl ${name} sim-001 --reason "hashrate 0 since 10:02"`, `rigctl ${name} sim-001 --no-wait --json`],
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
