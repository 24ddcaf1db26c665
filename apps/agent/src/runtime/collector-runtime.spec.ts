import { DriverError, type CollectContext, type MinerDriver, type MinerReading } from '@rigwarden/drivers-core';
import { MinerSnapshot } from '@rigwarden/protocol';
import { createLogger, systemClock } from '@rigwarden/shared';
import { CollectorRuntime, type CollectOutcome } from './collector-runtime';

const silent = createLogger('test', { write: () => undefined });

function reading(hashrate: number): MinerReading {
  const { rigId: _r, minerId: _m, seq: _s, agentId: _a, collectedAt: _c, ...rest } = MinerSnapshot.fromPartial({ hashrate5sHs: hashrate, driver: 'fake' });
  return rest;
}

/** A driver whose behaviour each test scripts. Drivers are interfaces, so this is a real implementation, not a mock. */
class ScriptedDriver implements MinerDriver {
  readonly name = 'fake';
  readonly endpoint = { host: '127.0.0.1', port: 1 };
  calls = 0;
  constructor(private readonly behaviour: (ctx: CollectContext, call: number) => Promise<MinerReading>) {}
  collect(ctx: CollectContext): Promise<MinerReading> {
    return this.behaviour(ctx, ++this.calls);
  }
}

function runtimeFor(drivers: Array<{ rig: string; driver: MinerDriver }>, timeoutMs = 200) {
  const outcomes: CollectOutcome[] = [];
  const runtime = new CollectorRuntime(
    drivers.map(({ rig, driver }) => ({ rigId: rig, minerId: `${rig}-m`, driver })),
    { intervalMs: 60_000, timeoutMs, jitterMs: 0, clock: systemClock, logger: silent, random: () => 0, onOutcome: (o) => outcomes.push(o) },
  );
  return { runtime, outcomes };
}

describe('CollectorRuntime', () => {
  it('passes a reading through with its rig and miner ids', async () => {
    const { runtime, outcomes } = runtimeFor([{ rig: 'r1', driver: new ScriptedDriver(async () => reading(5)) }]);
    await runtime.collectAll();
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ rigId: 'r1', minerId: 'r1-m', driver: 'fake', errors: [] });
    expect(outcomes[0]!.reading!.hashrate5sHs).toBe(5);
    expect(runtime.counterSnapshot()['fake']).toMatchObject({ successes: 1, errors: 0, timeouts: 0 });
  });

  it('gives up on a hung driver at the deadline, aborts it, and reports a timeout', async () => {
    let aborted = false;
    const hung = new ScriptedDriver((ctx) => new Promise(() => { ctx.signal.addEventListener('abort', () => { aborted = true; }); }));
    const { runtime, outcomes } = runtimeFor([{ rig: 'r1', driver: hung }], 100);
    await runtime.collectAll();
    expect(aborted).toBe(true);
    expect(outcomes[0]!.reading).toBeUndefined();
    expect(outcomes[0]!.errors[0]).toMatchObject({ kind: 'timeout' });
    expect(runtime.counterSnapshot()['fake']!.timeouts).toBe(1);
  });

  it('keeps the miner STATUS code of a driver error', async () => {
    const denied = new ScriptedDriver(async () => {
      throw new DriverError('access_denied', 'Access denied', { host: 'h', port: 4028, command: 'switchpool', statusLetter: 'E', statusCode: 45 });
    });
    const { runtime, outcomes } = runtimeFor([{ rig: 'r1', driver: denied }]);
    await runtime.collectAll();
    expect(outcomes[0]!.errors[0]).toMatchObject({ kind: 'access_denied', statusLetter: 'E', statusCode: 45, command: 'switchpool' });
  });

  it('does not let one failing miner stop the others', async () => {
    const broken = new ScriptedDriver(async () => { throw new TypeError('driver bug'); });
    const fine = new ScriptedDriver(async () => reading(7));
    const { runtime, outcomes } = runtimeFor([{ rig: 'bad', driver: broken }, { rig: 'good', driver: fine }]);
    await runtime.collectAll();
    await runtime.collectAll();
    expect(outcomes.filter((o) => o.rigId === 'good' && o.reading)).toHaveLength(2);
    expect(outcomes.filter((o) => o.rigId === 'bad').map((o) => o.errors[0]!.kind)).toEqual(['internal', 'internal']);
  });

  it('skips a tick while the previous collect of the same miner is still running', async () => {
    let release!: () => void;
    const slow = new ScriptedDriver(() => new Promise((resolve) => { release = () => resolve(reading(1)); }));
    const { runtime, outcomes } = runtimeFor([{ rig: 'r1', driver: slow }], 5_000);
    const first = runtime.collectAll();
    const second = runtime.collectAll();
    release();
    await Promise.all([first, second]);
    expect(slow.calls).toBe(1);
    expect(outcomes).toHaveLength(1);
    expect(runtime.counterSnapshot()['fake']!.skipped).toBe(1);
  });

  it('keeps polling a healthy miner on time while another one hangs', async () => {
    const hung = new ScriptedDriver(() => new Promise(() => undefined));
    const fast = new ScriptedDriver(async () => reading(3));
    const outcomes: CollectOutcome[] = [];
    const runtime = new CollectorRuntime(
      [{ rigId: 'hung', minerId: 'h', driver: hung }, { rigId: 'fast', minerId: 'f', driver: fast }],
      { intervalMs: 100, timeoutMs: 90, jitterMs: 0, clock: systemClock, logger: silent, random: () => 0.5, onOutcome: (o) => outcomes.push(o) },
    );
    jest.useFakeTimers();
    try {
      runtime.start();
      await jest.advanceTimersByTimeAsync(1_000);
      const stopped = runtime.stop(); // waits for the hung collect's timeout
      await jest.advanceTimersByTimeAsync(100);
      await stopped;
    } finally {
      jest.useRealTimers();
    }
    const fastOnes = outcomes.filter((o) => o.rigId === 'fast');
    expect(fastOnes.length).toBeGreaterThanOrEqual(10); // a poll every 100 ms of fake time; the hung miner costs it nothing
    expect(fastOnes.every((o) => o.reading !== undefined)).toBe(true);
    expect(outcomes.filter((o) => o.rigId === 'hung').every((o) => o.errors[0]!.kind === 'timeout')).toBe(true);
  });

  it('polls on its own schedule until stopped', async () => {
    const driver = new ScriptedDriver(async () => reading(1));
    const outcomes: CollectOutcome[] = [];
    const runtime = new CollectorRuntime([{ rigId: 'r', minerId: 'm', driver }], {
      intervalMs: 60, timeoutMs: 50, jitterMs: 0, clock: systemClock, logger: silent, random: () => 0.5, onOutcome: (o) => outcomes.push(o),
    });
    jest.useFakeTimers();
    try {
      runtime.start();
      await jest.advanceTimersByTimeAsync(400);
      await runtime.stop();
      const count = outcomes.length;
      expect(count).toBeGreaterThanOrEqual(6); // 0, 60, ... 360 ms
      await jest.advanceTimersByTimeAsync(1_000); // stopped: nothing more, however long
      expect(outcomes.length).toBe(count);
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});
