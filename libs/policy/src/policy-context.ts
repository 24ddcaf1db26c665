import { resolveParams } from './policy-defaults';
import type {
  ActionKind,
  ActionRecord,
  Decision,
  DecisionKind,
  DecisionOf,
  DecisionParamsByKind,
  DurationMs,
  EpochMs,
  PolicyInput,
  PolicyName,
  PolicyParams,
  PolicyParamsOverrides,
  ReasonCode,
  RigObservation,
  RigSpec,
  Severity,
} from './policy-types';

/** What every policy derives first from its input: sorted data, freshness, and the rig's policy-set state. */
export interface PolicyContext {
  readonly now: EpochMs;
  readonly spec: RigSpec;
  readonly params: PolicyParams;
  readonly rigId: string;
  readonly minerId?: string;
  /** History plus status.latest, oldest first, none from after `now` (+ the clock skew allowed). */
  readonly observations: readonly RigObservation[];
  /** The observations with a reading (unreachable ones carry no pools or boards), oldest first. */
  readonly reachable: readonly RigObservation[];
  readonly latest?: RigObservation;
  /** True when the latest observation may be acted on: present, recent, and the agent not known offline. */
  readonly fresh: boolean;
  /** Oldest first, none from after `now`. */
  readonly actions: readonly ActionRecord[];
  /** The quarantine in force (no later release), if any. */
  readonly quarantine?: ActionRecord;
  /** The stop-mining in force (no later resume), if any. */
  readonly miningStop?: ActionRecord;
}

// The policies of one evaluation share their context: a pure memo keyed by the (immutable) input object.
const contexts = new WeakMap<PolicyInput, { now: EpochMs; defaults?: PolicyParamsOverrides; ctx: PolicyContext }>();

export function createContext(input: PolicyInput, now: EpochMs, defaults?: PolicyParamsOverrides): PolicyContext {
  const cached = contexts.get(input);
  if (cached && cached.now === now && cached.defaults === defaults) return cached.ctx;
  const ctx = buildContext(input, now, defaults);
  contexts.set(input, { now, ...(defaults ? { defaults } : {}), ctx });
  return ctx;
}

function buildContext(input: PolicyInput, now: EpochMs, defaults?: PolicyParamsOverrides): PolicyContext {
  const params = resolveParams(defaults, input.spec.policy);
  // A reading stamped slightly ahead of `now` is clock skew between agent and controller; further ahead, it is
  // not part of this moment (a replay evaluated at an earlier time) and is left out.
  const observations = mergeObservations(input.history.observations, input.status.latest, now + params.freshness.maxClockSkewMs);
  const latest = observations[observations.length - 1];
  const actions = sortedUpTo(input.history.actions, now);
  const fresh =
    latest !== undefined && input.status.agentOnline !== false && now - latest.at <= params.freshness.staleAfterMs;
  return {
    now,
    spec: input.spec,
    params,
    rigId: input.spec.rigId,
    minerId: input.spec.minerId ?? latest?.minerId,
    observations,
    reachable: observations.every((o) => o.reachable) ? observations : observations.filter((o) => o.reachable),
    latest,
    fresh,
    actions,
    quarantine: inForce(actions, 'quarantine', 'release'),
    miningStop: inForce(actions, 'stop-mining', 'resume-mining'),
  };
}

/**
 * Oldest first, none after `now`, duplicates (same time and seq) once. Usually already sorted: then O(n), and the
 * history itself when it already ends with `latest` (the reconciler appends it before it evaluates): no copy.
 */
function mergeObservations(
  history: readonly RigObservation[],
  latest: RigObservation | undefined,
  now: EpochMs,
): readonly RigObservation[] {
  const last = history[history.length - 1];
  if ((latest === undefined || (last !== undefined && last.at === latest.at && last.seq === latest.seq)) && strictlyAscendingUpTo(history, now)) return history;
  const all = sortedUpTo(latest ? [...history, latest] : history, now);
  const out: RigObservation[] = [];
  for (const o of all) {
    const prev = out[out.length - 1];
    if (prev && prev.at === o.at && prev.seq === o.seq) continue;
    out.push(o);
  }
  return out;
}

/** True when every item is at or before `now` and each is later than the one before (so no duplicates either). */
function strictlyAscendingUpTo(items: readonly RigObservation[], now: EpochMs): boolean {
  for (let i = 0; i < items.length; i++) {
    const at = items[i]!.at;
    if (at > now || (i > 0 && at <= items[i - 1]!.at)) return false;
  }
  return true;
}

/** Index of the first observation at or after `at` (observations oldest first); length when there is none. */
export function firstAtOrAfter(observations: readonly RigObservation[], at: EpochMs): number {
  let lo = 0;
  let hi = observations.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (observations[mid]!.at < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function sortedUpTo<T extends { readonly at: EpochMs }>(items: readonly T[], now: EpochMs): T[] {
  const kept = items.filter((x) => x.at <= now);
  for (let i = 1; i < kept.length; i++) {
    if (kept[i]!.at < kept[i - 1]!.at) return kept.sort((a, b) => a.at - b.at);
  }
  return kept;
}

function inForce(actions: readonly ActionRecord[], set: ActionKind, clear: ActionKind): ActionRecord | undefined {
  for (let i = actions.length - 1; i >= 0; i--) {
    const a = actions[i]!;
    if (a.kind === clear) return undefined;
    if (a.kind === set && a.outcome !== 'failed' && a.outcome !== 'rejected') return a;
  }
  return undefined;
}

export interface Run {
  readonly start: RigObservation;
  readonly end: RigObservation;
  readonly items: readonly RigObservation[];
  /** end.at - start.at: how long the condition was seen to hold. */
  readonly heldMs: DurationMs;
}

/**
 * The run of observations, ending with the latest, that all satisfy `predicate`, with no two consecutive ones
 * further apart than maxGapMs. Undefined when the latest does not satisfy it.
 */
export function trailingRun(
  observations: readonly RigObservation[],
  predicate: (o: RigObservation, index: number) => boolean,
  maxGapMs: DurationMs,
): Run | undefined {
  let i = observations.length - 1;
  if (i < 0 || !predicate(observations[i]!, i)) return undefined;
  while (i > 0 && predicate(observations[i - 1]!, i - 1) && observations[i]!.at - observations[i - 1]!.at <= maxGapMs) i--;
  const items = observations.slice(i);
  const start = items[0]!;
  const end = items[items.length - 1]!;
  return { start, end, items, heldMs: end.at - start.at };
}

/** True when the condition held for at least `durationMs` up to the latest observation. */
export function heldFor(
  observations: readonly RigObservation[],
  predicate: (o: RigObservation) => boolean,
  durationMs: DurationMs,
  maxGapMs: DurationMs,
): boolean {
  const run = trailingRun(observations, predicate, maxGapMs);
  return run !== undefined && run.heldMs >= durationMs;
}

/** When the miner process started, from its uptime (clock-independent: both on the agent's reading). */
export function minerStartAt(o: RigObservation): EpochMs | undefined {
  return o.uptimeS === undefined ? undefined : o.at - o.uptimeS * 1000;
}

export function lastAction(
  actions: readonly ActionRecord[],
  predicate: (a: ActionRecord) => boolean,
): ActionRecord | undefined {
  for (let i = actions.length - 1; i >= 0; i--) if (predicate(actions[i]!)) return actions[i];
  return undefined;
}

/** 1, 2, 4, ... for the 1st, 2nd, 3rd ... event, capped. */
export function backoffFactor(events: number, max: number): number {
  return Math.min(2 ** Math.max(0, events - 1), max);
}

export function decide<K extends DecisionKind>(
  ctx: PolicyContext,
  policy: PolicyName,
  kind: K,
  reason: ReasonCode,
  severity: Severity,
  message: string,
  params: DecisionParamsByKind[K],
): Decision {
  const decision: DecisionOf<K> = {
    policy,
    kind,
    reason,
    message: `rig ${ctx.rigId}: ${message}`,
    severity,
    rigId: ctx.rigId,
    ...(ctx.minerId !== undefined ? { minerId: ctx.minerId } : {}),
    at: ctx.now,
    params,
  };
  return decision as unknown as Decision;
}

const applied = (a: ActionRecord) => a.outcome !== 'failed' && a.outcome !== 'rejected';

/** Index of the profile the operator wants: spec.desiredProfile, else the highest. -1 without profiles. */
export function desiredProfileIndex(spec: RigSpec): number {
  const named = spec.desiredProfile ? spec.profiles.findIndex((x) => x.name === spec.desiredProfile) : -1;
  return named >= 0 ? named : spec.profiles.length - 1;
}

/** The profile last applied (by a policy or an operator), else the desired one. -1 without profiles. */
export function currentProfileIndex(ctx: PolicyContext): number {
  const last = lastAction(ctx.actions, (a) => (a.kind === 'apply-profile' || a.kind === 'resume-mining') && applied(a));
  const name = last?.params['profile'];
  const index = typeof name === 'string' ? ctx.spec.profiles.findIndex((x) => x.name === name) : -1;
  return index >= 0 ? index : desiredProfileIndex(ctx.spec);
}

/** "45 s", "5 min", "1 h 30 min": for messages. */
export function formatDuration(ms: DurationMs): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 120) return `${min} min`;
  const h = Math.floor(min / 60);
  return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
}
