/**
 * A tiny simulated rig for the story tests: it answers decisions the way a miner would (a profile change cools
 * it, a switch moves it, a restart or reboot takes it offline for a while) and produces observations.
 */
import { evaluateRig } from '../evaluate-rig';
import type { Decision, EpochMs, PoolState, RigObservation, RigSpec } from '../policy-types';
import { actionFromDecision, appendAction, appendObservation, EMPTY_HISTORY } from '../rig-history';
import { MIN, SEC, TH, boards, obs, poolsOf } from './policy-fixtures';

export interface SimulatedWorld {
  /** Ambient heat added to every board, by time. */
  ambientC?: (at: EpochMs) => number;
  /** Pool states by time. */
  poolStates?: (at: EpochMs) => Partial<Record<number, PoolState>>;
  /** Pools that answer no shares, by time. */
  silentPools?: (at: EpochMs) => readonly number[];
  /** Boards that are dead, by time (a restart does not fix them). */
  deadBoards?: (at: EpochMs) => readonly number[];
}

export interface StoryEvent {
  readonly at: EpochMs;
  readonly decision: Decision;
}

const PROFILE_HEAT: Record<string, number> = { eco: -10, normal: 0, turbo: 8 };
const OFFLINE_FOR: Partial<Record<Decision['kind'], number>> = {
  'restart-miner': 30 * SEC,
  'reboot-host': 2 * MIN,
  'power-cycle': 3 * MIN,
};

/** Runs the rig from `from` to `to`, a reading every `every` ms, carrying out what evaluateRig says to do. */
export function runStory(spec: RigSpec, world: SimulatedWorld, from: EpochMs, to: EpochMs, every = 5 * SEC): StoryEvent[] {
  let profile = spec.desiredProfile ?? spec.profiles[spec.profiles.length - 1]?.name ?? 'normal';
  let active = 0;
  let offlineUntil = Number.NEGATIVE_INFINITY;
  let startedAt = from - 60 * MIN;
  let stopped = false;
  const accepted = [0, 0, 0];
  let history = EMPTY_HISTORY;
  const events: StoryEvent[] = [];

  for (let at = from; at <= to; at += every) {
    let o: RigObservation;
    if (at < offlineUntil) {
      o = obs(at, { reachable: false });
    } else {
      const states = world.poolStates?.(at) ?? {};
      const silent = world.silentPools?.(at) ?? [];
      const dead = world.deadBoards?.(at) ?? [];
      if (!stopped && states[active] !== 'dead' && !silent.includes(active)) accepted[active]! += 2;
      const tempC = (world.ambientC?.(at) ?? 0) + 65 + (stopped ? -25 : (PROFILE_HEAT[profile] ?? 0));
      const deadOverrides = Object.fromEntries(dead.map((i) => [i, { state: 'dead' as const, hashrateHs: 0 }]));
      const pools = poolsOf({ active, states }).map((p, i) => ({ ...p, accepted: accepted[i]! }));
      o = obs(at, {
        pools,
        boards: boards(3, tempC, deadOverrides),
        hashrateHs: stopped ? 0 : ((3 - dead.length) / 3) * 100 * TH,
        startedAt,
      });
    }
    history = appendObservation(history, o);
    const { act } = evaluateRig({ spec, status: { rigId: spec.rigId, latest: o }, history }, at);
    for (const d of act) {
      events.push({ at, decision: d });
      history = appendAction(history, actionFromDecision(d, { outcome: 'succeeded' }));
      switch (d.kind) {
        case 'switch-pool':
          active = d.params.poolIndex;
          break;
        case 'apply-profile':
          profile = d.params.profile;
          break;
        case 'resume-mining':
          stopped = false;
          profile = d.params.profile;
          break;
        case 'stop-mining':
          stopped = true;
          break;
        case 'restart-miner':
        case 'reboot-host':
        case 'power-cycle':
          offlineUntil = at + OFFLINE_FOR[d.kind]!;
          startedAt = offlineUntil;
          break;
        default:
          break;
      }
    }
  }
  return events;
}
