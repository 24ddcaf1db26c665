import {
  createContext,
  currentProfileIndex,
  decide,
  formatDuration,
  lastAction,
  minerStartAt,
  trailingRun,
  type PolicyContext,
} from './policy-context';
import type {
  Decision,
  DurationMs,
  EpochMs,
  LadderAction,
  LadderStep,
  NeighbourhoodStatus,
  Policy,
  PolicyInput,
  PolicyParamsOverrides,
  RigObservation,
  WatchdogParams,
  WatchdogReason,
  WatchdogTrigger,
} from './policy-types';

const HOUR = 3_600_000;
const LADDER_KINDS: ReadonlySet<string> = new Set<LadderAction>(['restart-miner', 'reboot-host', 'power-cycle']);
const STEP_WORDS: Record<LadderAction, string> = {
  'restart-miner': 'restarting the miner',
  'reboot-host': 'rebooting the host',
  'power-cycle': 'power-cycling the outlet',
};

interface Fault {
  readonly trigger: WatchdogTrigger;
  readonly detail: string;
}

/** "61.2 TH/s": for messages. */
export function formatHashrate(hs: number): string {
  const units = ['H/s', 'kH/s', 'MH/s', 'GH/s', 'TH/s', 'PH/s'];
  let value = hs;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${Number(value.toFixed(1))} ${units[unit]}`;
}

/**
 * Watchdog escalation. A sustained fault (miner API unreachable, a dead board, a lost GPU or board, a hardware
 * error rate, or a low average hashrate) climbs the ladder: restart miner -> reboot host -> power-cycle the
 * outlet -> quarantine and alert. Each step waits for the previous one's grace period and judges only evidence
 * collected after it; a step that failed is followed at once. A healthy period resets the ladder; too many
 * remedies in an hour quarantines the rig. Nothing happens on stale data or on a quarantined or stopped rig.
 */
export class WatchdogPolicy implements Policy {
  readonly name = 'watchdog' as const;

  constructor(private readonly defaults?: PolicyParamsOverrides) {}

  evaluate(input: PolicyInput, now: EpochMs): Decision[] {
    const ctx = createContext(input, now, this.defaults);
    const p = ctx.params.watchdog;
    const latest = ctx.latest;
    if (!p.enabled || !ctx.fresh || !latest || ctx.quarantine || ctx.miningStop) return [];
    return new WatchdogEvaluation(ctx, p, latest, input.neighbourhood).run();
  }
}

class WatchdogEvaluation {
  private readonly gap: DurationMs;
  private readonly steps: readonly LadderStep[];
  private readonly expectedBoardCount: number;
  private readonly expectedHashrateHs: number | undefined;

  constructor(
    private readonly ctx: PolicyContext,
    private readonly p: WatchdogParams,
    private readonly latest: RigObservation,
    private readonly neighbourhood: NeighbourhoodStatus | undefined,
  ) {
    this.gap = ctx.params.freshness.maxGapMs;
    const can = ctx.spec.capabilities ?? {};
    const supported: Record<LadderAction, boolean> = {
      'restart-miner': can.restartMiner !== false,
      'reboot-host': can.rebootHost !== false,
      'power-cycle': can.powerCycle !== false,
    };
    this.steps = p.ladder.filter((s) => supported[s.action]);
    // Without a spec value: the most seen, since the last release of a quarantine (an operator may have pulled one).
    const release = lastAction(ctx.actions, (a) => a.kind === 'release')?.at ?? Number.NEGATIVE_INFINITY;
    this.expectedBoardCount =
      ctx.spec.expectedBoards ?? Math.max(0, ...ctx.observations.filter((o) => o.at > release).map((o) => o.boards.length));
    const profile = ctx.spec.profiles[currentProfileIndex(ctx)];
    this.expectedHashrateHs = profile?.expectedHashrateHs ?? ctx.spec.expectedHashrateHs;
  }

  run(): Decision[] {
    const { ctx, p } = this;
    const remembered = ctx.actions.filter((a) => a.by === 'watchdog' && LADDER_KINDS.has(a.kind) && ctx.now - a.at <= p.ladderMemoryMs);
    const cutoff = remembered.length > 0 ? this.ladderCutoff() : Number.NEGATIVE_INFINITY;
    const ladder = remembered.filter((a) => a.at >= cutoff);
    const last = ladder[ladder.length - 1];
    let evidenceAfter = Number.NEGATIVE_INFINITY;
    // A step that failed changed nothing: the next one follows at once, on the same evidence. Otherwise the step
    // gets its grace period, and only what was seen after it counts.
    const failed = last?.outcome === 'failed' || last?.outcome === 'rejected' || last?.outcome === 'timed-out';
    if (last && !failed) {
      const grace = this.steps.find((s) => s.action === last.kind)?.graceMs ?? 0;
      if (ctx.now - last.at < grace || this.latest.at < last.at + grace) return [];
      evidenceAfter = last.at;
    }

    const fault = this.detect(ctx.observations.filter((o) => o.at > evidenceAfter));
    if (!fault) return [];
    if (fault.trigger === 'miner-unreachable' && this.massOutage()) return this.massOutageAlert(fault);

    const remediesLastHour = ctx.actions.filter((a) => a.by === 'watchdog' && LADDER_KINDS.has(a.kind) && ctx.now - a.at < HOUR).length;
    const next = last ? this.steps.findIndex((s) => s.action === last.kind) + 1 : 0;
    if (remediesLastHour >= p.maxActionsPerHour) {
      return [this.quarantine(fault, 'action-cap-reached', next, remediesLastHour,
        `${remediesLastHour} remedies in the last hour (cap ${p.maxActionsPerHour})`)];
    }
    if (next >= this.steps.length) {
      const tried = ladder.map((a) => a.kind).join(', ') || 'no remedy available';
      return [this.quarantine(fault, 'ladder-exhausted', next, remediesLastHour, `the ladder is exhausted (${tried})`)];
    }
    const step = this.steps[next]!;
    const after = !last ? '' : failed ? `, ${last.kind} ${last.outcome}` : `, ${formatDuration(ctx.now - last.at)} after ${last.kind} did not help`;
    return [
      decide(ctx, 'watchdog', step.action, fault.trigger, next === 0 ? 'warning' : 'critical',
        `${fault.detail}; ${STEP_WORDS[step.action]} (step ${next + 1} of ${this.steps.length}${after})`,
        { trigger: fault.trigger, step: next + 1, detail: fault.detail }),
    ];
  }

  /** Many neighbours unreachable at once: a common cause (switch, agent host, power feed), not this rig. */
  private massOutage(): boolean {
    const n = this.neighbourhood;
    return n !== undefined && n.rigs >= this.p.massOutageMinRigs && n.unreachable / n.rigs >= this.p.massOutageShare;
  }

  private massOutageAlert(fault: Fault): Decision[] {
    const { ctx, p } = this;
    const last = lastAction(ctx.actions, (a) => a.kind === 'alert' && a.reason === 'neighbourhood-outage');
    if (last && ctx.now - last.at < p.alertRepeatMs) return [];
    const n = this.neighbourhood!;
    return [
      decide(ctx, 'watchdog', 'alert', 'neighbourhood-outage', 'critical',
        `${fault.detail}, as are ${n.unreachable} of the ${n.rigs} rigs around it; holding the ladder, a common cause (network, agent host, power) is likelier than this rig`,
        { subject: 'miner-unreachable' }),
    ];
  }

  private quarantine(fault: Fault, reason: WatchdogReason, step: number, remediesLastHour: number, why: string): Decision {
    return decide(this.ctx, 'watchdog', 'quarantine', reason, 'critical',
      `${fault.detail}; ${why}; quarantining the rig and alerting the operator`,
      { trigger: fault.trigger, step: step + 1, detail: fault.detail, actionsLastHour: remediesLastHour });
  }

  // --- faults ------------------------------------------------------------------------------------------------

  /** The first sustained fault, in order of severity, judged only on `observations`. */
  private detect(observations: readonly RigObservation[]): Fault | undefined {
    const { p, gap } = this;
    const latest = observations[observations.length - 1];
    if (!latest) return undefined;
    if (!latest.reachable) {
      const run = trailingRun(observations, (o) => !o.reachable, gap);
      if (!run || run.heldMs < p.unreachableForMs) return undefined;
      const kinds = [...new Set(latest.errorKinds)].join(', ') || 'no data';
      return { trigger: 'miner-unreachable', detail: `the miner API has been unreachable for ${formatDuration(run.heldMs)} (${kinds})` };
    }
    const reachable = observations.filter((o) => o.reachable);

    for (const board of latest.boards) {
      if (board.state !== 'dead') continue;
      const dead = (o: RigObservation) => o.boards.some((b) => b.index === board.index && b.state === 'dead');
      const run = trailingRun(reachable, dead, gap);
      if (run && run.heldMs >= p.deadBoardForMs) {
        return { trigger: 'board-dead', detail: `${this.boardWord()} ${board.index} has been dead for ${formatDuration(run.heldMs)}` };
      }
    }

    const expected = this.expectedBoards();
    const judged = (o: RigObservation) => o.boards.length > 0 || o.errorKinds.length === 0;
    const short = (o: RigObservation) => judged(o) && o.boards.length < expected;
    if (short(latest)) {
      const run = trailingRun(reachable, short, gap);
      if (run && run.heldMs >= p.missingBoardForMs) {
        const trigger = this.ctx.spec.kind === 'gpu' ? 'gpu-lost' : 'board-missing';
        const missing = this.missingBoards(latest);
        return {
          trigger,
          detail: `${latest.boards.length} of ${expected} ${this.boardWord()}s reported for ${formatDuration(run.heldMs)}${missing ? ` (missing ${missing})` : ''}`,
        };
      }
    }

    const hw = this.hwErrorsPerMinute(reachable);
    if (hw !== undefined && hw > p.maxHwErrorsPerMinute) {
      return {
        trigger: 'hw-error-rate',
        detail: `${Math.round(hw)} hardware errors per minute over the last ${formatDuration(p.hwErrorWindowMs)} (limit ${p.maxHwErrorsPerMinute})`,
      };
    }

    return this.lowHashrate(reachable);
  }

  private boardWord(): string {
    return this.ctx.spec.kind === 'gpu' ? 'GPU' : 'board';
  }

  /** spec.expectedBoards, else the most boards seen in the history. */
  private expectedBoards(): number {
    return this.expectedBoardCount;
  }

  /** Which boards (PCI bus id, else index) the last complete reading had and the latest lacks. */
  private missingBoards(latest: RigObservation): string {
    const complete = [...this.ctx.observations].reverse().find((o) => o.boards.length >= this.expectedBoards() && o.boards.length > 0);
    if (!complete) return '';
    const id = (b: { index: number; pciBusId?: string }) => b.pciBusId ?? String(b.index);
    const present = new Set(latest.boards.map(id));
    return complete.boards.map(id).filter((x) => !present.has(x)).join(', ');
  }

  /**
   * Samples that cover [latest - windowMs, latest]: the first at most maxGapMs after the window opens, none
   * further apart than maxGapMs. Undefined when the window is not covered: no verdict without evidence.
   */
  private covering(samples: readonly RigObservation[], windowMs: DurationMs): RigObservation[] | undefined {
    const latest = samples[samples.length - 1];
    if (!latest) return undefined;
    const from = latest.at - windowMs;
    const inWindow = samples.filter((o) => o.at >= from);
    const first = inWindow[0]!;
    if (first.at - from > this.gap) return undefined;
    for (let i = 1; i < inWindow.length; i++) if (inWindow[i]!.at - inWindow[i - 1]!.at > this.gap) return undefined;
    return inWindow;
  }

  private hwErrorsPerMinute(reachable: readonly RigObservation[]): number | undefined {
    const window = this.covering(reachable.filter((o) => o.hwErrors !== undefined), this.p.hwErrorWindowMs);
    if (!window || window.length < 2) return undefined;
    let errors = 0;
    for (let i = 1; i < window.length; i++) {
      const d = window[i]!.hwErrors! - window[i - 1]!.hwErrors!;
      if (d > 0) errors += d; // a drop is a counter reset (miner restart), not negative errors
    }
    const minutes = (window[window.length - 1]!.at - window[0]!.at) / 60_000;
    return minutes > 0 ? errors / minutes : undefined;
  }

  /** The mean hashrate over the window, skipping ramp-up after a miner start or a profile change. */
  private lowHashrate(reachable: readonly RigObservation[]): Fault | undefined {
    const { ctx, p } = this;
    const change = lastAction(ctx.actions, (a) => a.kind === 'apply-profile' || a.kind === 'resume-mining');
    const settledFrom = change ? change.at + p.warmupMs : Number.NEGATIVE_INFINITY;
    const warm = (o: RigObservation) => {
      const started = minerStartAt(o);
      return o.hashrateHs !== undefined && o.at >= settledFrom && (started === undefined || o.at - started >= p.warmupMs);
    };
    const samples = reachable.filter(warm);
    // Nothing hashed at all: a fault whatever the expected hashrate, and sooner.
    const zero = this.covering(samples, p.zeroHashrateForMs);
    if (zero && zero.every((o) => o.hashrateHs === 0)) {
      return { trigger: 'hashrate-low', detail: `no hashrate at all for ${formatDuration(p.zeroHashrateForMs)} while the miner API answers` };
    }
    const expected = this.expectedHashrateHs;
    if (expected === undefined || expected <= 0) return undefined;
    const window = this.covering(samples, p.lowHashrateForMs);
    if (!window) return undefined;
    const mean = window.reduce((sum, o) => sum + o.hashrateHs!, 0) / window.length;
    if (mean >= p.minHashrateRatio * expected) return undefined;
    const pct = Math.round((mean / expected) * 100);
    return {
      trigger: 'hashrate-low',
      detail: `hashrate averaged ${formatHashrate(mean)} over ${formatDuration(p.lowHashrateForMs)}, ${pct} % of the expected ${formatHashrate(expected)} (floor ${Math.round(p.minHashrateRatio * 100)} %)`,
    };
  }

  // --- ladder reset ------------------------------------------------------------------------------------------

  /**
   * Ladder actions before this are forgotten: the moment the latest healthy period reached healthyResetMs,
   * or an operator's release of a quarantine, whichever is later.
   */
  private ladderCutoff(): EpochMs {
    const { ctx, p } = this;
    const release = lastAction(ctx.actions, (a) => a.kind === 'release');
    let cutoff = release ? release.at : Number.NEGATIVE_INFINITY;
    let runStart: EpochMs | undefined;
    let prev: RigObservation | undefined;
    for (const o of ctx.observations) {
      const healthy = this.healthy(o);
      if (!healthy || (prev && o.at - prev.at > this.gap)) runStart = undefined;
      if (healthy) {
        runStart ??= o.at;
        if (o.at - runStart >= p.healthyResetMs) cutoff = Math.max(cutoff, runStart + p.healthyResetMs);
      }
      prev = o;
    }
    return cutoff;
  }

  private healthy(o: RigObservation): boolean {
    if (!o.reachable) return false;
    if (o.boards.some((b) => b.state === 'dead')) return false;
    if (o.boards.length < this.expectedBoards()) return false;
    const expected = this.expectedHashrateHs;
    return expected === undefined || o.hashrateHs === undefined || o.hashrateHs >= this.p.minHashrateRatio * expected;
  }
}
