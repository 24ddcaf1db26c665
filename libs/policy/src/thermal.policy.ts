import {
  backoffFactor,
  createContext,
  currentProfileIndex,
  decide,
  desiredProfileIndex,
  formatDuration,
  heldFor,
  lastAction,
  type PolicyContext,
} from './policy-context';
import type {
  ActionRecord,
  Decision,
  EpochMs,
  Policy,
  PolicyInput,
  PolicyParamsOverrides,
  ProfileSettings,
  ProfileSpec,
  RigObservation,
  ThermalParams,
} from './policy-types';
import { chooseAsicSettings, settingsFor, type AsicSettingsPath } from './profile-settings';

interface Reading {
  readonly tempC: number;
  readonly boardIndex: number;
}

/** The hottest plausible board reading of an observation. */
export function hottest(o: RigObservation): Reading | undefined {
  let best: Reading | undefined;
  for (const b of o.boards) {
    if (b.tempC !== undefined && (best === undefined || b.tempC > best.tempC)) best = { tempC: b.tempC, boardIndex: b.index };
  }
  return best;
}


const applied = (a: ActionRecord) => a.outcome !== 'failed' && a.outcome !== 'rejected';

/**
 * Thermal and overclock. Profiles run from the lowest to the highest; the rig never goes above its desired one.
 * - at or above criticalC -> stop mining (then resume on the lowest profile once cool for resumeAfterMs);
 * - a failed fan -> the lowest profile, and no step up while it stays failed;
 * - above highC for stepDownAfterMs -> one profile down (at most one change per stepCooldownMs);
 * - below lowC for stepUpAfterMs -> one profile up; the wait doubles per recent step-down, so it never flaps.
 */
export class ThermalPolicy implements Policy {
  readonly name = 'thermal' as const;

  constructor(private readonly defaults?: PolicyParamsOverrides) {}

  evaluate(input: PolicyInput, now: EpochMs): Decision[] {
    const ctx = createContext(input, now, this.defaults);
    const p = ctx.params.thermal;
    const latest = ctx.latest;
    if (!p.enabled || !ctx.fresh || !latest?.reachable) return [];
    return new ThermalEvaluation(ctx, p, latest).run();
  }
}

class ThermalEvaluation {
  private readonly observations: readonly RigObservation[];
  private readonly gap: number;
  private readonly everSpinning: ReadonlySet<number>;

  constructor(
    private readonly ctx: PolicyContext,
    private readonly p: ThermalParams,
    private readonly latest: RigObservation,
  ) {
    this.observations = ctx.reachable;
    this.gap = ctx.params.freshness.maxGapMs;
    // Fans seen spinning since the last release of a quarantine (maintenance may have changed them).
    const release = lastAction(ctx.actions, (a) => a.kind === 'release')?.at ?? Number.NEGATIVE_INFINITY;
    // Over the whole history on every evaluation: fan numbers 0-30 as bits, no hashing per fan and reading.
    let bits = 0;
    const spinning = new Set<number>();
    for (const o of this.observations) {
      if (o.at <= release) continue;
      for (const f of o.fans) {
        if ((f.rpm ?? 0) < p.minFanRpm) continue;
        if (Number.isInteger(f.index) && f.index >= 0 && f.index < 31) bits |= 1 << f.index;
        else spinning.add(f.index);
      }
    }
    for (let i = 0; i < 31; i++) if (bits & (1 << i)) spinning.add(i);
    this.everSpinning = spinning;
  }

  /**
   * The profile's settings this miner takes, and `via` when they go as a power mode or a power target (a miner
   * without overclock: a stock Antminer's web UI, Braiins OS+, Whatsminer v3) rather than as the agent's profile.
   */
  private change(profile: ProfileSpec): { settings: ProfileSettings; via?: Exclude<AsicSettingsPath, 'profile'> } {
    const settings = settingsFor(profile, this.latest.capabilities);
    const path = profile.asic ? chooseAsicSettings(profile.asic, this.latest.capabilities).path : 'profile';
    return { settings, ...(path !== 'profile' ? { via: path } : {}) };
  }

  run(): Decision[] {
    const { ctx, p } = this;
    const profiles = ctx.spec.profiles;
    const stop = ctx.miningStop;
    if (stop) return this.resume(stop);

    const hot = hottest(this.latest);
    if (hot && heldFor(this.observations, (o) => (hottest(o)?.tempC ?? -Infinity) >= p.criticalC, p.criticalForMs, this.gap)) {
      return [
        decide(ctx, 'thermal', 'stop-mining', 'temperature-critical', 'critical',
          `board ${hot.boardIndex} at ${hot.tempC} °C, at or above the critical ${p.criticalC} °C; stopping mining`,
          { tempC: hot.tempC, criticalC: p.criticalC, boardIndex: hot.boardIndex }),
      ];
    }
    if (profiles.length === 0) return [];

    const desired = desiredProfileIndex(ctx.spec);
    const current = currentProfileIndex(ctx);
    const currentName = profiles[current]!.name;

    const fan = this.fanProblem(this.latest);
    if (fan !== undefined && heldFor(this.observations, (o) => this.fanProblem(o) !== undefined, p.fanFailedForMs, this.gap)) {
      if (current === 0) return [];
      return [
        decide(ctx, 'thermal', 'apply-profile', 'fan-failed', 'critical',
          `${fan}; dropping from profile "${currentName}" to the lowest, "${profiles[0]!.name}"`,
          { profile: profiles[0]!.name, ...this.change(profiles[0]!), fromProfile: currentName, direction: 'down', ...(hot ? { tempC: hot.tempC } : {}) }),
      ];
    }

    // The spec's desired profile is a ceiling: lowered in the spec (or exceeded by hand), it applies at once.
    if (current > desired) {
      const to = profiles[desired]!;
      return [
        decide(ctx, 'thermal', 'apply-profile', 'profile-above-desired', 'info',
          `profile "${currentName}" is above the desired "${to.name}"; applying "${to.name}"`,
          { profile: to.name, ...this.change(to), fromProfile: currentName, direction: 'down', ...(hot ? { tempC: hot.tempC } : {}) }),
      ];
    }

    const lastChange = lastAction(ctx.actions, (a) => (a.kind === 'apply-profile' || a.kind === 'resume-mining') && applied(a));
    const sinceChange = lastChange ? ctx.now - lastChange.at : Number.POSITIVE_INFINITY;

    const above = (o: RigObservation) => (hottest(o)?.tempC ?? -Infinity) > p.highC;
    if (hot && current > 0 && sinceChange >= p.stepCooldownMs && heldFor(this.observations, above, p.stepDownAfterMs, this.gap)) {
      const to = profiles[current - 1]!.name;
      return [
        decide(ctx, 'thermal', 'apply-profile', 'temperature-high', 'warning',
          `board ${hot.boardIndex} above ${p.highC} °C (now ${hot.tempC} °C) for ${formatDuration(p.stepDownAfterMs)} or more; stepping down from profile "${currentName}" to "${to}"`,
          { profile: to, ...this.change(profiles[current - 1]!), fromProfile: currentName, direction: 'down', tempC: hot.tempC }),
      ];
    }

    if (hot && current < desired) {
      const stepDowns = ctx.actions.filter(
        (a) => a.by === 'thermal' && a.kind === 'apply-profile' && a.params['direction'] === 'down' && applied(a) && ctx.now - a.at <= p.flapMemoryMs,
      ).length;
      const required = p.stepUpAfterMs * backoffFactor(stepDowns, p.maxStepUpBackoff);
      const below = (o: RigObservation) => (hottest(o)?.tempC ?? Infinity) < p.lowC;
      if (sinceChange >= required && heldFor(this.observations, below, required, this.gap)) {
        const to = profiles[current + 1]!.name;
        return [
          decide(ctx, 'thermal', 'apply-profile', 'temperature-recovered', 'info',
            `below ${p.lowC} °C (now ${hot.tempC} °C) for ${formatDuration(required)} or more; stepping up from profile "${currentName}" to "${to}"`,
            { profile: to, ...this.change(profiles[current + 1]!), fromProfile: currentName, direction: 'up', tempC: hot.tempC }),
        ];
      }
    }
    return [];
  }

  /**
   * After a critical stop: resume on the lowest profile once below lowC (with no failed fan) for resumeAfterMs.
   * A stop someone else ordered (an operator) is theirs to lift.
   */
  private resume(stop: ActionRecord): Decision[] {
    const { ctx, p } = this;
    if (stop.by !== 'thermal' || ctx.now - stop.at < p.resumeAfterMs) return [];
    const hot = hottest(this.latest);
    const cool = (o: RigObservation) =>
      o.at >= stop.at && (hottest(o)?.tempC ?? Infinity) < p.lowC && this.fanProblem(o) === undefined;
    if (!hot || !heldFor(this.observations, cool, p.resumeAfterMs, this.gap)) return [];
    const lowest = ctx.spec.profiles[0];
    const profile = lowest?.name ?? '';
    return [
      decide(ctx, 'thermal', 'resume-mining', 'cooled-after-critical', 'warning',
        `below ${p.lowC} °C (now ${hot.tempC} °C) for ${formatDuration(p.resumeAfterMs)} after a critical stop; resuming mining${profile ? ` on the lowest profile "${profile}"` : ''}`,
        { profile, ...(lowest ? this.change(lowest) : { settings: {} }), tempC: hot.tempC }),
    ];
  }

  /**
   * A failed fan: fewer spinning fans than expected, or a fan seen spinning before that now reports under
   * minFanRpm or is gone. A reading with errors and no fans at all is no verdict.
   */
  private fanProblem(o: RigObservation): string | undefined {
    if (o.fans.length === 0 && o.errorKinds.length > 0) return undefined;
    const min = this.p.minFanRpm;
    const expected = this.ctx.spec.expectedFans;
    const spinning = o.fans.filter((f) => (f.rpm ?? 0) >= min).length;
    if (expected !== undefined && spinning < expected) return `${spinning} of ${expected} fans spinning`;
    for (const index of this.everSpinning) {
      const fan = o.fans.find((f) => f.index === index);
      if (!fan) return `fan ${index} is gone`;
      if (fan.rpm !== undefined && fan.rpm < min) return `fan ${index} has stopped (${fan.rpm} rpm)`;
    }
    return undefined;
  }
}
