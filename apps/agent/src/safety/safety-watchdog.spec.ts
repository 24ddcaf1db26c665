import type { CollectContext, MinerDriver, MinerReading, MiningSwitch } from '@rigwarden/drivers-core';
import { MinerSnapshot, type RigEvent } from '@rigwarden/protocol';
import { ManualClock, createLogger } from '@rigwarden/shared';
import type { CollectOutcome, ScheduledMiner } from '../runtime/collector-runtime';
import { DEFAULT_SAFETY, SafetyWatchdog, type SafetyConfig } from './safety-watchdog';

/** A miner that records stop/resume calls: a real implementation of the capability, not a mock. */
class SwitchableMiner implements MinerDriver, MiningSwitch {
  readonly name = 'switchable';
  readonly endpoint = { host: '10.0.0.7', port: 4028 };
  calls: string[] = [];
  failNext = false;
  async collect(): Promise<MinerReading> { throw new Error('not used'); }
  async stopMining(_ctx: CollectContext): Promise<void> {
    if (this.failNext) { this.failNext = false; throw new Error('Access denied (Code 45)'); }
    this.calls.push('stop');
  }
  async resumeMining(_ctx: CollectContext): Promise<void> { this.calls.push('resume'); }
}

class ReadOnlyMiner implements MinerDriver {
  readonly name = 'readonly';
  readonly endpoint = { host: '10.0.0.8', port: 4028 };
  async collect(): Promise<MinerReading> { throw new Error('not used'); }
}

function outcome(temps: Array<number | undefined>, chip?: number): CollectOutcome {
  const { rigId: _r, minerId: _m, seq: _s, agentId: _a, collectedAt: _c, ...reading } = MinerSnapshot.fromPartial({
    boards: temps.map((t, i) => ({ index: i, boardTempC: t, chipTempC: i === 0 ? chip : undefined })),
  });
  return { rigId: 'r1', minerId: 'm1', driver: 'x', host: 'h', port: 1, collectedAt: 0, reading, errors: [] };
}

describe('safety watchdog', () => {
  const clock = new ManualClock(1_000);
  const silent = createLogger('t', { write: () => undefined });
  let events: RigEvent[];
  let driver: SwitchableMiner;
  let miner: ScheduledMiner;
  const make = (config: Partial<SafetyConfig> = {}): SafetyWatchdog => new SafetyWatchdog({ ...DEFAULT_SAFETY, ...config }, (e) => events.push(e), clock, silent);

  beforeEach(() => {
    events = [];
    driver = new SwitchableMiner();
    miner = { rigId: 'r1', minerId: 'm1', driver };
  });

  it.each([
    ['a board at the critical temperature', [70, 95], undefined, ['stop']],
    ['a chip above it', [70, 71], 97, ['stop']],
    ['everything just below it', [94.9, 90], 94.9, []],
    ['no readings at all', [undefined], undefined, []],
  ])('%s -> %j', async (_label, temps, chip, calls) => {
    const watchdog = make();
    watchdog.observe(miner, outcome(temps, chip));
    await watchdog.idle();
    expect(driver.calls).toEqual(calls);
  });

  it('acts once per crossing, resumes only below the hysteresis threshold, and reports both as events', async () => {
    const watchdog = make();
    for (const t of [96, 99, 90, 81, 80.5, 79.9, 85]) {
      watchdog.observe(miner, outcome([t]));
      await watchdog.idle();
    }
    expect(driver.calls).toEqual(['stop', 'resume']);
    expect(events.map((e) => [e.kind, e.reason, e.severity])).toEqual([
      ['safety.critical_temperature', 'local_watchdog_stop', 'critical'],
      ['safety.resumed', 'local_watchdog_resume', 'info'],
    ]);
    expect(events[0]!.message).toBe('rig r1 miner m1: 96.0 °C is at or above the critical 95 °C; stopped mining');
    expect(watchdog.isTripped('r1', 'm1')).toBe(false);
  });

  it('stays tripped while the miner cannot be read', async () => {
    const watchdog = make();
    watchdog.observe(miner, outcome([99]));
    watchdog.observe(miner, { ...outcome([]), reading: undefined, errors: [{ kind: 'timeout', message: 'x', statusLetter: '', statusCode: undefined, command: '' }] });
    await watchdog.idle();
    expect(watchdog.isTripped('r1', 'm1')).toBe(true);
    expect(driver.calls).toEqual(['stop']);
  });

  it('reports a failed action as a critical event with the cause', async () => {
    driver.failNext = true;
    const watchdog = make();
    watchdog.observe(miner, outcome([100]));
    await watchdog.idle();
    expect(events[0]).toMatchObject({ kind: 'safety.critical_temperature', reason: 'local_watchdog_trip_failed', severity: 'critical' });
    expect(events[0]!.message).toContain('could not stop mining: Access denied (Code 45)');
    expect(watchdog.counters.actionFailures).toBe(1);
  });

  it('says so when the driver can do nothing about it', async () => {
    const watchdog = make();
    watchdog.observe({ rigId: 'r1', minerId: 'm1', driver: new ReadOnlyMiner() }, outcome([120]));
    await watchdog.idle();
    expect(events[0]!.message).toContain('driver readonly can neither stop mining nor change its work mode');
  });

  it('refuses a resume threshold at or above the critical one', () => {
    expect(() => make({ criticalTempC: 90, resumeBelowC: 90 })).toThrow(/must be below safety.criticalTempC/);
  });
});
