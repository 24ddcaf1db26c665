import { execFile } from 'node:child_process';
import {
  DriverError, hasMinerControl, hasPoolControl, isGpuTunable, isRestartable, type ControlResult, type GpuTuner, type GpuTuning, type MinerDriver,
} from '@rigwarden/drivers-core';
import type { ProfileSettings } from '../config/agent-config';
import type { PduOutlet } from '@rigwarden/drivers-pdu';
import { CommandOutcome, type CommandEnvelope } from '@rigwarden/protocol';
import type { ScheduledMiner } from '../runtime/collector-runtime';

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
          return await this.reboot(target, this.miner(target, envelope.minerId, true)?.driver, signal);
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
            if (!driver.controlCapabilities().switchPool) return unsupported(driver, 'switching pools');
            return fromControl(await driver.control({ kind: 'switchpool', pool: payload.value.poolIndex }, ctx));
          }
          if (hasPoolControl(driver)) {
            await driver.switchPool(payload.value.poolIndex, ctx);
            return ok(`switched to pool ${payload.value.poolIndex}`);
          }
          return unsupported(driver, 'switching pools');
        case 'setPools':
          if (hasMinerControl(driver) && driver.controlCapabilities().setPools) {
            return fromControl(await driver.setPools(payload.value.pools.map((p) => ({ url: p.url, user: p.user, password: p.password })), ctx));
          }
          return unsupported(driver, 'setting the pool list');
        case 'restartMiner':
          if (hasMinerControl(driver) && driver.controlCapabilities().restart) return fromControl(await driver.control({ kind: 'restart', waitForApiMs: 20_000 }, ctx));
          if (isRestartable(driver)) {
            await driver.restartMiner(ctx);
            return ok('miner restarted');
          }
          return unsupported(driver, 'restarting the miner');
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
      if (tuners.length === 0) return unsupported(driver, `applying GPU profile "${name}" (no GPU tuner: set gpu.tuning: true on a GPU rig)`);
      for (const tuner of tuners) {
        // A tuner restores the defaults it recorded when an apply fails, so a half-applied profile never stays.
        const result = await tuner.apply(profile.gpu as GpuTuning, { signal: ctx.signal });
        done.push(...result.steps.map((s) => `${s.setting} ${s.action} ${s.value}`));
      }
    }
    if (profile.workMode !== undefined || profile.frequencyMhz !== undefined) {
      if (!hasMinerControl(driver)) return unsupported(driver, `applying profile "${name}"`);
      const caps = driver.controlCapabilities();
      if (profile.workMode !== undefined) {
        if (!caps.workMode) return unsupported(driver, 'changing the work mode');
        const r = await driver.control({ kind: 'workmode', mode: profile.workMode }, ctx);
        if (!r.ok) return fromControl(r);
        done.push(`work mode ${profile.workMode}`);
      }
      if (profile.frequencyMhz !== undefined) {
        if (!caps.frequency) return unsupported(driver, 'changing the chip frequency');
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

  private reboot(target: CommandTarget, driver: MinerDriver | undefined, signal: AbortSignal): Promise<ExecutionResult> {
    const argv = target.rebootCommand;
    if (!argv || argv.length === 0) {
      return Promise.resolve(failed(`rig ${target.rigId} has no reboot command configured (rigs.${target.rigId}.rebootCommand in the agent config)`));
    }
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

function unsupported(driver: MinerDriver, what: string): ExecutionResult {
  return failed(`unsupported: driver ${driver.name} at ${driver.endpoint.host}:${driver.endpoint.port} cannot do ${what}`);
}
