import { execFile } from 'node:child_process';
import {
  DriverError, POWER_MODES, capabilityNames, hasFaultLight, hasMinerControl, hasPoolControl, hasPowerModeControl, hasPowerTarget, isGpuTunable,
  isRebootable, isRestartable, type CapabilityName, type CollectContext, type ControlResult, type GpuTuner, type GpuTuning, type MinerDriver,
  type PowerMode,
} from '@rigwarden/drivers-core';
import type { ProfileSettings } from '../config/agent-config';
import type { PduOutlet } from '@rigwarden/drivers-pdu';
import { CommandOutcome, type CommandEnvelope } from '@rigwarden/protocol';
import type { ScheduledMiner } from '../runtime/collector-runtime';
import { missingCapability } from './capability-refusal';

/** What a rig offers to commands: its miners, and optionally a reboot command and a PDU outlet. */
export interface CommandTarget {
  rigId: string;
  miners: ScheduledMiner[];
  /** argv with {host} replaced by the miner's host, run with a timeout. */
  rebootCommand?: string[];
  outlet?: PduOutlet;
}

export interface ExecutionResult {
  outcome: CommandOutcome;
  cause: string;
}

const ok = (cause: string): ExecutionResult => ({ outcome: CommandOutcome.COMMAND_OUTCOME_SUCCEEDED, cause });
const failed = (cause: string): ExecutionResult => ({ outcome: CommandOutcome.COMMAND_OUTCOME_FAILED, cause });
/** Refused before anything was sent to the miner: it cannot do this (or the command asks for something impossible). */
const rejected = (cause: string): ExecutionResult => ({ outcome: CommandOutcome.COMMAND_OUTCOME_REJECTED, cause });

/** Most watts a power target may ask for (the drivers check their own range too). */
const MAX_POWER_TARGET_W = 20_000;

function fromControl(result: ControlResult): ExecutionResult {
  return result.ok ? ok(result.message) : failed(result.error.message);
}

/** Carries out a verified command through the driver's capabilities. Never throws: every failure is a result. */
export class CommandExecutor {
  constructor(
    private readonly targets: ReadonlyMap<string, CommandTarget>,
    private readonly profiles: Readonly<Record<string, ProfileSettings>> = {},
    private readonly timeoutMs = 60_000,
    /** This machine's GPU tuners (gpu.tuning), used when the miner's driver offers none of its own. */
    private readonly machineTuners: () => readonly GpuTuner[] = () => [],
  ) {}

  async execute(envelope: CommandEnvelope, signal: AbortSignal): Promise<ExecutionResult> {
    const target = this.targets.get(envelope.rigId);
    if (!target) return failed(`this agent does not drive rig ${envelope.rigId}`);
    const payload = envelope.payload;
    if (!payload) return failed('the command has no payload');
    try {
      switch (payload.$case) {
        case 'rebootHost':
          return await this.reboot(target, this.miner(target, envelope.minerId, true)?.driver, { signal, deadlineMs: this.timeoutMs });
        case 'powerCycle': {
          if (!target.outlet) return failed(`rig ${target.rigId} has no PDU outlet configured (rigs.${target.rigId}.pdu in the agent config)`);
          const result = await target.outlet.powerCycle({ signal });
          return ok(`power-cycled ${target.outlet.describe()}: off ${result.offMs} ms, back on after ${result.durationMs} ms`);
        }
        default:
          break;
      }
      const miner = this.miner(target, envelope.minerId, false);
      if (!miner) return failed(`rig ${target.rigId} has no miner "${envelope.minerId}"; it has: ${target.miners.map((m) => m.minerId).join(', ')}`);
      const driver = miner.driver;
      const ctx = { signal, deadlineMs: this.timeoutMs };
      switch (payload.$case) {
        case 'switchPool':
          if (hasMinerControl(driver)) {
            if (!driver.controlCapabilities().switchPool) return unsupported(driver, 'switching pools', 'switch-pool');
            return fromControl(await driver.control({ kind: 'switchpool', pool: payload.value.poolIndex }, ctx));
          }
          if (hasPoolControl(driver) && can(driver, 'switch-pool')) {
            await driver.switchPool(payload.value.poolIndex, ctx);
            return ok(`switched to pool ${payload.value.poolIndex}`);
          }
          return unsupported(driver, 'switching pools', 'switch-pool');
        case 'setPools':
          if (hasMinerControl(driver) && driver.controlCapabilities().setPools && can(driver, 'set-pools')) {
            return fromControl(await driver.setPools(payload.value.pools.map((p) => ({ url: p.url, user: p.user, password: p.password })), ctx));
          }
          return unsupported(driver, 'setting the pool list', 'set-pools');
        case 'restartMiner':
          if (!can(driver, 'restart')) return unsupported(driver, 'restarting the miner', 'restart');
          if (hasMinerControl(driver) && driver.controlCapabilities().restart) return fromControl(await driver.control({ kind: 'restart', waitForApiMs: 20_000 }, ctx));
          if (isRestartable(driver)) {
            await driver.restartMiner(ctx);
            return ok('miner restarted');
          }
          return unsupported(driver, 'restarting the miner', 'restart');
        case 'setPowerMode':
          return await this.setPowerMode(driver, payload.value.mode, ctx);
        case 'setFaultLight': {
          if (!hasFaultLight(driver) || !can(driver, 'fault-light')) return unsupported(driver, 'switching the fault light', 'fault-light');
          await driver.setFaultLight(payload.value.on, ctx);
          return ok(`fault light ${payload.value.on ? 'on' : 'off'}`);
        }
        case 'setPowerTarget': {
          const watts = payload.value.watts;
          if (!Number.isInteger(watts) || watts < 1 || watts > MAX_POWER_TARGET_W) {
            return rejected(`bad_request: a power target is a whole number of watts from 1 to ${MAX_POWER_TARGET_W}, got ${watts}`);
          }
          if (!hasPowerTarget(driver) || !can(driver, 'power-target')) return unsupported(driver, 'setting a power target', 'power-target');
          await driver.setPowerTargetW(watts, ctx);
          return ok(`power target ${watts} W`);
        }
        case 'applyProfile':
          return await this.applyProfile(driver, payload.value.profile, ctx);
        default:
          return failed('unknown command type');
      }
    } catch (err) {
      if (err instanceof DriverError) return failed(err.message);
      return failed(err instanceof Error ? err.message : String(err));
    }
  }

  private async applyProfile(driver: MinerDriver, name: string, ctx: { signal: AbortSignal; deadlineMs: number }): Promise<ExecutionResult> {
    const profile = this.profiles[name];
    if (!profile) {
      return failed(`unknown profile "${name}"; this agent's profiles are: ${Object.keys(this.profiles).join(', ') || '(none: add profiles: to the agent config)'}`);
    }
    const done: string[] = [];
    if (profile.gpu) {
      const tuners = isGpuTunable(driver) && driver.gpuTuners().length > 0 ? driver.gpuTuners() : this.machineTuners();
      if (tuners.length === 0) return unsupported(driver, `applying GPU profile "${name}" (no GPU tuner: set gpu.tuning: true on a GPU rig)`, 'overclock');
      for (const tuner of tuners) {
        // A tuner restores the defaults it recorded when an apply fails, so a half-applied profile never stays.
        const result = await tuner.apply(profile.gpu as GpuTuning, { signal: ctx.signal });
        done.push(...result.steps.map((s) => `${s.setting} ${s.action} ${s.value}`));
      }
    }
    if (profile.workMode !== undefined || profile.frequencyMhz !== undefined) {
      if (!hasMinerControl(driver)) return unsupported(driver, `applying profile "${name}"`, 'power-mode');
      const caps = driver.controlCapabilities();
      if (profile.workMode !== undefined) {
        if (!caps.workMode) return unsupported(driver, 'changing the work mode', 'power-mode');
        const r = await driver.control({ kind: 'workmode', mode: profile.workMode }, ctx);
        if (!r.ok) return fromControl(r);
        done.push(`work mode ${profile.workMode}`);
      }
      if (profile.frequencyMhz !== undefined) {
        if (!caps.frequency) return unsupported(driver, 'changing the chip frequency', 'overclock');
        const r = await driver.control({ kind: 'frequency', mhz: profile.frequencyMhz }, ctx);
        if (!r.ok) return fromControl(r);
        done.push(`frequency ${profile.frequencyMhz} MHz`);
      }
    }
    return ok(`applied profile "${name}": ${done.join('; ')}`);
  }

  private miner(target: CommandTarget, minerId: string, optional: boolean): ScheduledMiner | undefined {
    if (minerId === '') return optional || target.miners.length === 1 ? target.miners[0] : undefined;
    return target.miners.find((m) => m.minerId === minerId);
  }

  /** Checked against the modes this miner offers, so a mode its firmware lacks is refused before any write. */
  private async setPowerMode(driver: MinerDriver, mode: string, ctx: CollectContext): Promise<ExecutionResult> {
    if (!(POWER_MODES as readonly string[]).includes(mode)) {
      return rejected(`bad_request: power mode ${JSON.stringify(mode)} is not one of ${POWER_MODES.join(', ')}`);
    }
    if (!hasPowerModeControl(driver) || !can(driver, 'power-mode')) return unsupported(driver, 'setting the power mode', 'power-mode');
    const offered = driver.powerModes();
    if (!offered.includes(mode as PowerMode)) {
      return rejected(`unsupported: driver ${driver.name} at ${driver.endpoint.host}:${driver.endpoint.port} cannot do power mode "${mode}": this firmware offers ${offered.join(', ')}`);
    }
    await driver.setPowerMode(mode as PowerMode, ctx);
    return ok(`power mode ${mode}`);
  }

  /** The rig's reboot command when it has one; else the miner's own API (Rebootable); else refused, saying how to get either. */
  private async reboot(target: CommandTarget, driver: MinerDriver | undefined, ctx: CollectContext): Promise<ExecutionResult> {
    const argv = target.rebootCommand;
    if (!argv || argv.length === 0) {
      if (driver && isRebootable(driver) && can(driver, 'reboot')) {
        await driver.rebootMiner(ctx);
        return ok(`rebooted through the miner's API (${driver.name} at ${driver.endpoint.host}:${driver.endpoint.port})`);
      }
      const api = driver ? ` and driver ${driver.name} cannot reboot the miner through its API (capability "reboot" missing)` : '';
      return rejected(`unsupported: rig ${target.rigId} has no reboot command configured (rigs.${target.rigId}.rebootCommand in the agent config)${api}`
        + '; drivers that reboot through the miner\'s API: antminer-web, braiins-grpc, whatsminer-v3');
    }
    const signal = ctx.signal;
    const host = driver?.endpoint.host ?? '';
    const [file, ...args] = argv.map((a) => a.replaceAll('{host}', host));
    return new Promise((resolve) => {
      execFile(file!, args, { timeout: this.timeoutMs, signal, windowsHide: true }, (err, _stdout, stderr) => {
        if (err) resolve(failed(`reboot command ${file} failed: ${(stderr || err.message).trim().slice(0, 300)}`));
        else resolve(ok(`reboot command ${file} ran`));
      });
    });
  }
}

/** The capability list the agent publishes in telemetry is the one commands are checked against. */
function can(driver: MinerDriver, capability: CapabilityName): boolean {
  return capabilityNames(driver).includes(capability);
}

function unsupported(driver: MinerDriver, what: string, capability: CapabilityName): ExecutionResult {
  return rejected(missingCapability(driver, capability, what));
}
