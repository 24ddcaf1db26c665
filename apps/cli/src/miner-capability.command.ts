import { SetFaultLightRequest, SetPowerModeRequest, SetPowerTargetRequest, type CommandStatus } from '@rigwarden/protocol';
import { UsageError, unary, value } from './fleet-command';
import { TARGET_FLAGS, TARGET_USAGE, reportCommand, targetFrom, waitingContext, type OperatorCommand } from './operator-command';

const POWER_MODES = ['normal', 'low', 'sleep'];

/** rigctl power-mode: the miner's named power mode through its own API (capability "power-mode"). */
export const powerModeCommand: OperatorCommand = {
  name: 'power-mode',
  usage: `power-mode <rig-id> --mode normal|low|sleep ${TARGET_USAGE}
                    set the miner's power mode through its API (refused when the rig lacks "power-mode") and wait`,
  flags: { ...TARGET_FLAGS, mode: 'value' },
  async run(ctx, args) {
    const target = targetFrom(args, 'power-mode');
    const mode = value(args, 'mode');
    if (!mode || !POWER_MODES.includes(mode)) throw new UsageError(`power-mode needs --mode ${POWER_MODES.join('|')}`);
    const c = target.wait ? waitingContext(ctx, target.timeoutSeconds) : ctx;
    const status: CommandStatus = await unary(c, ctx.client.setPowerMode, SetPowerModeRequest.fromPartial({ target, mode }));
    return reportCommand(ctx, status);
  },
};

/** rigctl fault-light: blink the miner's locate light, or give it back to the firmware (capability "fault-light"). */
export const faultLightCommand: OperatorCommand = {
  name: 'fault-light',
  usage: `fault-light <rig-id> --on|--off ${TARGET_USAGE}
                    turn the miner's locate / fault light on or off (refused when the rig lacks "fault-light") and wait`,
  flags: { ...TARGET_FLAGS, on: 'switch', off: 'switch' },
  async run(ctx, args) {
    const target = targetFrom(args, 'fault-light');
    const on = args.switches.has('on');
    if (on === args.switches.has('off')) throw new UsageError('fault-light needs exactly one of --on and --off');
    const c = target.wait ? waitingContext(ctx, target.timeoutSeconds) : ctx;
    const status: CommandStatus = await unary(c, ctx.client.setFaultLight, SetFaultLightRequest.fromPartial({ target, on }));
    return reportCommand(ctx, status);
  },
};

/** rigctl power-target: a power limit in watts the firmware tunes to (capability "power-target"). */
export const powerTargetCommand: OperatorCommand = {
  name: 'power-target',
  usage: `power-target <rig-id> --watts N ${TARGET_USAGE}
                    set the miner's power target in watts (refused when the rig lacks "power-target") and wait`,
  flags: { ...TARGET_FLAGS, watts: 'value' },
  async run(ctx, args) {
    const target = targetFrom(args, 'power-target');
    const text = value(args, 'watts');
    const watts = Number(text);
    if (!text || !/^\d+$/.test(text) || watts < 1 || watts > 20_000) throw new UsageError('power-target needs --watts N, a whole number from 1 to 20000');
    const c = target.wait ? waitingContext(ctx, target.timeoutSeconds) : ctx;
    const status: CommandStatus = await unary(c, ctx.client.setPowerTarget, SetPowerTargetRequest.fromPartial({ target, watts }));
    return reportCommand(ctx, status);
  },
};
