/**
 * Whether a rig is alive, judged by the controller from what it observed itself: how long ago telemetry for the rig
 * arrived against the rig's own cadence, what the rig's agent did (its last will, its shutdown, how long its status
 * has been silent), the rig's retained state, and whether the newest snapshot could read the miner at all. Never
 * taken from what a client claims: an agent's retained "online" is one input, not the answer.
 *
 * Pure: every time is epoch ms handed in (receipt times on the controller's clock), so each rule is a table test.
 */

export type LivenessState = 'online' | 'stale' | 'offline' | 'miner-unreachable';

export const LIVENESS_STATES: readonly LivenessState[] = ['online', 'stale', 'offline', 'miner-unreachable'];

/** Machine-readable: what the event log, metrics and selectors group by. */
export type LivenessReason =
  | 'telemetry-fresh'
  | 'awaiting-telemetry'
  | 'no-telemetry'
  | 'agent-last-will'
  | 'agent-shutdown'
  | 'agent-status-stale'
  | 'rig-state-offline'
  | 'miner-unreachable';

export interface LivenessParams {
  /** The expected time between two snapshots of a rig until its cadence is learned (the agent's default poll). */
  readonly defaultIntervalMs: number;
  /** A learned cadence is clamped to [minIntervalMs, maxIntervalMs]. */
  readonly minIntervalMs: number;
  readonly maxIntervalMs: number;
  /** No telemetry for this many expected intervals (plus graceMs) makes a rig stale ... */
  readonly staleAfterIntervals: number;
  /** ... and for this many, offline. */
  readonly offlineAfterIntervals: number;
  /** Transport and batching slack added to both bounds. */
  readonly graceMs: number;
  /** The expected time between two statuses of an agent until it is learned (the agent's default status interval). */
  readonly agentStatusDefaultIntervalMs: number;
  /** An agent whose status is older than this many of its intervals (plus graceMs) counts as gone for quiet rigs. */
  readonly agentStatusStaleAfterIntervals: number;
  /** How often every rig is judged again (the sweep). */
  readonly sweepMs: number;
  /**
   * True with --mqtt-shared-group: another controller of the group may take a rig's telemetry, so a rig this one
   * never got telemetry for is judged by its retained state and its agent alone (online while both say so).
   */
  readonly telemetryShared: boolean;
}

export const DEFAULT_LIVENESS_PARAMS: LivenessParams = {
  defaultIntervalMs: 5_000,
  minIntervalMs: 1_000,
  maxIntervalMs: 10 * 60_000,
  staleAfterIntervals: 3,
  offlineAfterIntervals: 6,
  graceMs: 2_000,
  agentStatusDefaultIntervalMs: 30_000,
  agentStatusStaleAfterIntervals: 3,
  sweepMs: 1_000,
  telemetryShared: false,
};

/** What the controller knows of one agent. */
export interface AgentPresence {
  readonly agentId: string;
  /** When the agent was seen going away (receipt of its last will or its offline state/status); absent while up. */
  readonly downAt?: number;
  readonly downCause?: 'last-will' | 'shutdown';
  /** Receipt of its newest status. */
  readonly statusAt?: number;
  /** Its learned status cadence, if known. */
  readonly statusIntervalMs?: number;
}

export interface LivenessInput {
  readonly rigId: string;
  /** Receipt of the rig's newest telemetry (after a controller restart: the stored snapshot's collection time). */
  readonly lastTelemetryAt?: number;
  /** The rig's learned cadence (median gap between snapshots), if known. */
  readonly learnedIntervalMs?: number;
  /** The rig's retained state, with its receipt time. */
  readonly retained?: { readonly online: boolean; readonly at: number };
  /** The agent that reports the rig. */
  readonly agent?: AgentPresence;
  /** Set when the newest snapshot carried errors and no data: why the agent could not read the miner. */
  readonly unreachable?: string;
}

export interface LivenessVerdict {
  readonly state: LivenessState;
  readonly reason: LivenessReason;
  /** The cadence the bounds were computed from. */
  readonly expectedIntervalMs: number;
  /** The facts behind it, for livenessMessage (kept apart so a sweep of the whole fleet builds no strings). */
  readonly ageMs?: number;
  readonly agentId?: string;
  readonly at?: number;
  readonly statusAgeMs?: number;
  readonly statusIntervalMs?: number;
  readonly unreachable?: string;
}

/** online and miner-unreachable: the agent reports for the rig (what `Rig.online` and the `online` column say). */
export function isReporting(state: LivenessState): boolean {
  return state === 'online' || state === 'miner-unreachable';
}

export function expectedIntervalMs(learned: number | undefined, p: LivenessParams): number {
  return Math.min(p.maxIntervalMs, Math.max(p.minIntervalMs, learned ?? p.defaultIntervalMs));
}

/** Stale and offline bounds (ms of telemetry silence) for a cadence. */
export function livenessBounds(intervalMs: number, p: LivenessParams): { staleAfterMs: number; offlineAfterMs: number } {
  return { staleAfterMs: intervalMs * p.staleAfterIntervals + p.graceMs, offlineAfterMs: intervalMs * p.offlineAfterIntervals + p.graceMs };
}

export function judgeLiveness(input: LivenessInput, now: number, p: LivenessParams = DEFAULT_LIVENESS_PARAMS): LivenessVerdict {
  const expected = expectedIntervalMs(input.learnedIntervalMs, p);
  const last = input.lastTelemetryAt;
  const agent = input.agent;
  const agentId = agent?.agentId;

  // The agent went away after the rig's newest telemetry: every rig it reported is offline, not only the one whose
  // state carried the connection's last will.
  if (agent?.downAt !== undefined && (last === undefined || agent.downAt >= last)) {
    return { state: 'offline', reason: agent.downCause === 'shutdown' ? 'agent-shutdown' : 'agent-last-will', expectedIntervalMs: expected, agentId: agent.agentId, at: agent.downAt };
  }
  if (input.retained && !input.retained.online && (last === undefined || input.retained.at >= last)) {
    return { state: 'offline', reason: 'rig-state-offline', expectedIntervalMs: expected, at: input.retained.at, ...(agentId ? { agentId } : {}) };
  }
  const { staleAfterMs, offlineAfterMs } = livenessBounds(expected, p);
  if (last === undefined) {
    if (input.retained?.online && (p.telemetryShared || now - input.retained.at <= staleAfterMs)) {
      return { state: 'online', reason: 'awaiting-telemetry', expectedIntervalMs: expected, at: input.retained.at, ...(agentId ? { agentId } : {}) };
    }
    return { state: 'offline', reason: 'no-telemetry', expectedIntervalMs: expected };
  }
  const ageMs = Math.max(0, now - last);
  if (ageMs > offlineAfterMs) return { state: 'offline', reason: 'no-telemetry', expectedIntervalMs: expected, ageMs };
  if (ageMs > staleAfterMs) {
    const statusIntervalMs = agent?.statusIntervalMs ?? p.agentStatusDefaultIntervalMs;
    const statusAgeMs = agent?.statusAt === undefined ? undefined : Math.max(0, now - agent.statusAt);
    if (agent && statusAgeMs !== undefined && statusAgeMs > statusIntervalMs * p.agentStatusStaleAfterIntervals + p.graceMs) {
      return { state: 'offline', reason: 'agent-status-stale', expectedIntervalMs: expected, ageMs, agentId: agent.agentId, statusAgeMs, statusIntervalMs };
    }
    return { state: 'stale', reason: 'no-telemetry', expectedIntervalMs: expected, ageMs };
  }
  if (input.unreachable !== undefined) {
    return { state: 'miner-unreachable', reason: 'miner-unreachable', expectedIntervalMs: expected, ageMs, unreachable: input.unreachable, ...(agentId ? { agentId } : {}) };
  }
  return { state: 'online', reason: 'telemetry-fresh', expectedIntervalMs: expected, ageMs };
}

/** One sentence for a human: "no telemetry for 47 s, expected every 5 s", "agent agent-1 went offline at ... (last will)". */
export function livenessMessage(v: LivenessVerdict): string {
  const every = `expected every ${seconds(v.expectedIntervalMs)}`;
  const agent = v.agentId ?? '?';
  const silent = `no telemetry for ${seconds(v.ageMs ?? 0)}, ${every}`;
  switch (v.reason) {
    case 'agent-last-will': return `agent ${agent} went offline at ${iso(v.at ?? 0)} (last will)`;
    case 'agent-shutdown': return `agent ${agent} went offline at ${iso(v.at ?? 0)} (shut down)`;
    case 'rig-state-offline': return `the rig's retained state says offline since ${iso(v.at ?? 0)}`;
    case 'awaiting-telemetry': return `agent ${agent} announced the rig at ${iso(v.at ?? 0)}; no telemetry yet`;
    case 'agent-status-stale': return `${silent}; agent ${agent} sent no status for ${seconds(v.statusAgeMs ?? 0)} (expected every ${seconds(v.statusIntervalMs ?? 0)})`;
    case 'miner-unreachable': return `agent ${agent} reports, but cannot read the miner: ${v.unreachable ?? ''}`;
    case 'no-telemetry': return v.ageMs === undefined ? 'no telemetry received for this rig' : silent;
    // No age here: the same verdict reads the same from one call to the next (last_seen has the time).
    case 'telemetry-fresh': return `telemetry arriving, ${every}`;
  }
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${Math.round(ms / 100) / 10} s` : `${Math.round(ms / 1000)} s`;
}

function iso(at: number): string {
  return new Date(at).toISOString();
}
