import { SetFaultLightRequest, SetPowerModeRequest, SetPowerTargetRequest, type CommandStatus } from '@rigwarden/protocol';
import { UsageError, unary, value } from './fleet-command';
import { RIG_ID_ARGUMENT, TARGET_FLAGS, reportCommand, targetFrom, waitingContext, type OperatorCommand } from './operator-command';

const POWER_MODES = ['normal', 'low', 'sleep'];

/** rigctl power-mode: the miner's named power mode through its own API (capability "power-mode"). */
export const powerModeCommand: OperatorCommand = {
  name: 'power-mode',
  summary: "set the miner's power mode through its API and wait",
  description: 'Set the miner\'s power mode through its API and wait for the result (refused, exit 2, when the rig lacks "power-mode").',
  arguments: [RIG_ID_ARGUMENT],
  flags: { mode: { kind: 'value', placeholder: 'M', choices: POWER_MODES, description: 'normal, low or sleep (required)' }, ...TARGET_FLAGS },
  checksExtraArguments: true,
  examples: ['rigctl power-mode wm-07 --mode low --reason "curtailment"'],
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
  summary: "turn the miner's locate / fault light on or off and wait",
  description: 'Turn the miner\'s locate / fault light on, or give it back to the firmware (--off), and wait for the result\n(refused, exit 2, when the rig lacks "fault-light").',
  arguments: [RIG_ID_ARGUMENT],
  flags: {
    on: { kind: 'switch', description: 'light on (one of --on and --off)' },
    off: { kind: 'switch', description: 'give the light back to the firmware' },
    ...TARGET_FLAGS,
  },
  checksExtraArguments: true,
  examples: ['rigctl fault-light wm-07 --on'],
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
  summary: "set the miner's power target in watts and wait",
  description: 'Set the power limit in watts the firmware tunes to, and wait for the result (refused, exit 2, when the rig lacks\n"power-target").',
  arguments: [RIG_ID_ARGUMENT],
  flags: { watts: { kind: 'value', placeholder: 'N', description: 'a whole number from 1 to 20000 (required)' }, ...TARGET_FLAGS },
  checksExtraArguments: true,
  examples: ['rigctl power-target bos-03 --watts 3000'],
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
