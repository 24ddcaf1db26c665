import { DEFAULT_LIVENESS_PARAMS, judgeLiveness, livenessMessage, type LivenessInput, type LivenessReason, type LivenessState } from './rig-liveness';
import { TelemetryCadence } from './telemetry-cadence';

const T0 = Date.parse('2026-12-03T12:00:00Z');
const S = 1000;
const p = DEFAULT_LIVENESS_PARAMS; // 5 s until learned; stale after 3 intervals + 2 s, offline after 6 + 2 s
const rig = (over: Partial<LivenessInput>): LivenessInput => ({ rigId: 'r1', agent: { agentId: 'agent-1', statusAt: T0 }, ...over });

describe('judgeLiveness', () => {
  it.each<[string, LivenessInput, number, LivenessState, LivenessReason, RegExp]>([
    ['telemetry 2 s ago at a 5 s cadence: online', rig({ lastTelemetryAt: T0 - 2 * S, learnedIntervalMs: 5 * S }), T0, 'online', 'telemetry-fresh', /^telemetry arriving, expected every 5 s$/],
    ['16 s of silence at 5 s: stale', rig({ lastTelemetryAt: T0 - 18 * S, learnedIntervalMs: 5 * S }), T0, 'stale', 'no-telemetry', /no telemetry for 18 s, expected every 5 s/],
    ['47 s of silence at 5 s: offline', rig({ lastTelemetryAt: T0 - 47 * S, learnedIntervalMs: 5 * S }), T0, 'offline', 'no-telemetry', /no telemetry for 47 s, expected every 5 s/],
    ['47 s of silence at a learned 60 s cadence: online', rig({ lastTelemetryAt: T0 - 47 * S, learnedIntervalMs: 60 * S }), T0, 'online', 'telemetry-fresh', /every 60 s/],
    ['a learned cadence below the floor is clamped to 1 s', rig({ lastTelemetryAt: T0 - 6 * S, learnedIntervalMs: 10 }), T0, 'stale', 'no-telemetry', /expected every 1 s/],
    ['the last will after the newest telemetry: offline at once', rig({ lastTelemetryAt: T0 - S, agent: { agentId: 'agent-1', downAt: T0, downCause: 'last-will' } }), T0, 'offline', 'agent-last-will', /agent agent-1 went offline at 2026-12-03T12:00:00.000Z \(last will\)/],
    ['a shutdown status: offline, says so', rig({ lastTelemetryAt: T0 - S, agent: { agentId: 'agent-1', downAt: T0, downCause: 'shutdown' } }), T0, 'offline', 'agent-shutdown', /shut down/],
    ['telemetry after the will: the agent is back', rig({ lastTelemetryAt: T0, agent: { agentId: 'agent-1', downAt: T0 - S, downCause: 'last-will' } }), T0, 'online', 'telemetry-fresh', /telemetry/],
    ['the retained state offline after the newest telemetry', rig({ lastTelemetryAt: T0 - 3 * S, retained: { online: false, at: T0 - S } }), T0, 'offline', 'rig-state-offline', /retained state says offline/],
    ['quiet rig, agent status silent for 100 s (30 s cadence): offline, the agent is gone', rig({ lastTelemetryAt: T0 - 20 * S, agent: { agentId: 'agent-1', statusAt: T0 - 100 * S } }), T0, 'offline', 'agent-status-stale', /agent agent-1 sent no status for 100 s \(expected every 30 s\)/],
    ['fresh telemetry with a silent agent status: online (telemetry proves the agent)', rig({ lastTelemetryAt: T0 - S, agent: { agentId: 'agent-1', statusAt: T0 - 500 * S } }), T0, 'online', 'telemetry-fresh', /telemetry/],
    ['fresh snapshots that cannot read the miner: miner-unreachable, not agent offline', rig({ lastTelemetryAt: T0 - S, unreachable: 'unreachable: connect ECONNREFUSED' }), T0, 'miner-unreachable', 'miner-unreachable', /agent agent-1 reports, but cannot read the miner: unreachable: connect ECONNREFUSED/],
    ['stale beats unreachable', rig({ lastTelemetryAt: T0 - 20 * S, unreachable: 'timeout' }), T0, 'stale', 'no-telemetry', /no telemetry/],
    ['a birth and no telemetry yet: online, awaiting', rig({ retained: { online: true, at: T0 - S } }), T0, 'online', 'awaiting-telemetry', /no telemetry yet/],
    ['a birth long ago and never telemetry: offline', rig({ retained: { online: true, at: T0 - 60 * S } }), T0, 'offline', 'no-telemetry', /no telemetry received/],
  ])('%s', (_name, input, now, state, reason, message) => {
    const verdict = judgeLiveness(input, now, p);
    expect({ state: verdict.state, reason: verdict.reason }).toEqual({ state, reason });
    expect(livenessMessage(verdict)).toMatch(message);
  });

  it('with a shared subscription group, a rig whose telemetry goes to another controller is judged by its state and agent', () => {
    const shared = { ...p, telemetryShared: true };
    expect(judgeLiveness(rig({ retained: { online: true, at: T0 - 3600 * S } }), T0, shared)).toMatchObject({ state: 'online', reason: 'awaiting-telemetry' });
    expect(judgeLiveness(rig({ retained: { online: true, at: T0 - 3600 * S }, agent: { agentId: 'agent-1', downAt: T0 - S, downCause: 'last-will' } }), T0, shared))
      .toMatchObject({ state: 'offline', reason: 'agent-last-will' });
  });

  it('the bounds follow the cadence: stale just past 3 intervals + grace, offline just past 6', () => {
    const at = (silentMs: number) => judgeLiveness(rig({ lastTelemetryAt: T0 - silentMs, learnedIntervalMs: 10 * S }), T0, p).state;
    expect([at(32 * S), at(32 * S + 1), at(62 * S), at(62 * S + 1)]).toEqual(['online', 'stale', 'stale', 'offline']);
  });
});

describe('TelemetryCadence', () => {
  it('learns the median gap per miner and ignores a late poll, replays and same-instant miners', () => {
    const c = new TelemetryCadence();
    expect(c.intervalMs()).toBeUndefined();
    for (const [miner, at] of [['a', 0], ['b', 10], ['a', 5000], ['b', 5010], ['a', 10_000], ['a', 19_000], ['a', 24_000], ['a', 23_000], ['b', 10_010]] as const) c.observe(miner, T0 + at);
    // a: gaps 5 s, 5 s, 9 s, 5 s (the 23 s replay is ignored) -> 5 s; b: 5 s, 5 s -> 5 s
    expect(c.intervalMs()).toBe(5000);
  });

  it('a rig with one slow poller and one fast miner takes the fast one', () => {
    const c = new TelemetryCadence();
    for (let i = 0; i < 4; i++) { c.observe('slow', T0 + i * 60_000); c.observe('fast', T0 + i * 2000); }
    expect(c.intervalMs()).toBe(2000);
  });
});
