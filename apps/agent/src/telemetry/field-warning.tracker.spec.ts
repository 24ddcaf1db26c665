import type { CollectContext, MinerDriver, MinerReading } from '@rigwarden/drivers-core';
import { AgentStatus, MinerSnapshot, encodeJson } from '@rigwarden/protocol';
import { createLogger, systemClock } from '@rigwarden/shared';
import { CollectorRuntime, type CollectOutcome } from '../runtime/collector-runtime';
import { FieldWarningTracker } from './field-warning.tracker';

function reading(over: Partial<MinerReading>): MinerReading {
  const { rigId: _r, minerId: _m, seq: _s, agentId: _a, collectedAt: _c, ...rest } = MinerSnapshot.fromPartial({ driver: 'fake', hashrate5sHs: 5 });
  return { ...rest, ...over };
}

/** A driver that returns what the test gives it: a real implementation of the interface, not a mock. */
class FixedDriver implements MinerDriver {
  readonly name = 'fake';
  readonly endpoint = { host: '127.0.0.1', port: 1 };
  constructor(private readonly value: MinerReading) {}
  collect(_ctx: CollectContext): Promise<MinerReading> {
    return Promise.resolve(this.value);
  }
}

describe('field warnings in the agent', () => {
  it('the runtime sanitises every driver\'s reading: a negative power and an invalid share date are left out, the rest is kept', async () => {
    const outcomes: CollectOutcome[] = [];
    const bad = reading({
      powerW: -1400, accepted: 12,
      pools: [{ index: 0, url: 'stratum+tcp://a:1', user: 'u', status: 1, active: true, activeEvidence: '', lastShareTime: new Date(Number.NaN) }],
    });
    const runtime = new CollectorRuntime([{ rigId: 'r1', minerId: 'm1', driver: new FixedDriver(bad) }], {
      intervalMs: 60_000, timeoutMs: 1000, jitterMs: 0, clock: systemClock, logger: createLogger('t', { write: () => undefined }),
      random: () => 0, onOutcome: (o) => outcomes.push(o),
    });
    await runtime.collectAll();
    const r = outcomes[0]!.reading!;
    expect(r.powerW).toBeUndefined();
    expect(r.accepted).toBe(12);
    expect(r.pools[0]!.lastShareTime).toBeUndefined();
    expect(r.fieldWarnings.map((w) => [w.field, w.reason])).toEqual([['pools[0].lastShareTime', 'out of range'], ['powerW', 'negative']]);
    expect(() => encodeJson(MinerSnapshot, MinerSnapshot.fromPartial({ ...r, rigId: 'r1', minerId: 'm1', seq: 1, collectedAt: new Date(0) }))).not.toThrow();
  });

  it('counts per rig, field and reason across polls, and logs each rig+field once', () => {
    const lines: string[] = [];
    const tracker = new FieldWarningTracker(createLogger('t', { write: (l) => lines.push(l) }));
    const w = { field: 'devs[1].Accepted', value: '1701146671', reason: 'implausible' };
    for (let poll = 0; poll < 5; poll++) tracker.observe('rig-a', 'm', [w, { field: 'powerW', value: '-1', reason: 'negative' }]);
    tracker.observe('rig-b', 'm', [w]);
    expect(tracker.snapshot()).toEqual([
      { rigId: 'rig-a', field: 'devs[1].Accepted', reason: 'implausible', count: 5 },
      { rigId: 'rig-a', field: 'powerW', reason: 'negative', count: 5 },
      { rigId: 'rig-b', field: 'devs[1].Accepted', reason: 'implausible', count: 1 },
    ]);
    expect(lines).toHaveLength(3); // rig-a twice (two fields), rig-b once: not once per poll
    expect(lines.join('\n')).toContain('devs[1].Accepted');
    const status = AgentStatus.fromPartial({ agentId: 'a', at: new Date(0), fieldWarnings: tracker.snapshot() });
    expect(JSON.parse(encodeJson(AgentStatus, status).toString()).fieldWarnings[0]).toEqual({ rigId: 'rig-a', field: 'devs[1].Accepted', reason: 'implausible', count: 5 });
  });
});
