import { settlingCommand } from './command-settle';
import { reconcileActionOutcome, type ReconciledOutcome } from './action-outcome.reconciler';
import {
  createContext,
  currentProfileIndex,
  decide,
  formatDuration,
  lastAction,
  minerStartAt,
  trailingRun,
  type PolicyContext,
  type Run,
} from './policy-context';
import type {
  ActionRecord,
  Decision,
  DurationMs,
  EpochMs,
  LadderAction,
  NeighbourhoodStatus,
  Policy,
  PolicyInput,
  PolicyParamsOverrides,
  RigObservation,
  WatchdogParams,
  WatchdogReason,
  WatchdogTrigger,
  WindowEvidence,
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
  readonly evidence: WindowEvidence;
}

/** A ladder action of the watchdog with its outcome reconciled with what the miner showed afterwards. */
interface Rung {
  readonly action: ActionRecord;
  readonly kind: LadderAction;
  readonly result: ReconciledOutcome;
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

function evidenceOf(items: readonly RigObservation[]): WindowEvidence {
  const fromAt = items[0]!.at;
  const toAt = items[items.length - 1]!.at;
  return { fromAt, toAt, spanMs: toAt - fromAt, samples: items.length };
}

/**
 * Watchdog escalation. A sustained fault (miner API unreachable, a dead board, a lost GPU or board, a hardware
 * error rate, or a low average hashrate), observed over its whole window, climbs the ladder: restart miner ->
 * reboot host -> power-cycle the outlet -> quarantine and alert. Each step waits for the previous one's grace
 * period and judges only evidence collected after it; a step that did not act (failed, or not available on the
 * rig) is followed at once. Outcomes are reconciled with what the miner showed afterwards. Steps the rig lacks are
 * skipped (said once). A healthy period or an operator's release resets the ladder; too many remedies that ran in
 * an hour quarantines the rig. A miner that never had a device is reported once, not restarted. Nothing happens on
 * stale data or on a stopped rig; a quarantined rig seen healthy again is reported (and released, if configured).
 */
export class WatchdogPolicy implements Policy {
  readonly name = 'watchdog' as const;

  constructor(private readonly defaults?: PolicyParamsOverrides) {}

  evaluate(input: PolicyInput, now: EpochMs): Decision[] {
    const ctx = createContext(input, now, this.defaults);
    const p = ctx.params.watchdog;
    const latest = ctx.latest;
    if (!p.enabled || !ctx.fresh || !latest || ctx.miningStop) return [];
    const evaluation = new WatchdogEvaluation(ctx, p, latest, input.neighbourhood);
    return ctx.quarantine ? evaluation.whileQuarantined(ctx.quarantine) : evaluation.run();
  }
}

class WatchdogEvaluation {
  private readonly gap: DurationMs;
  /** The operator's (or the watchdog's own) last release: nothing before it counts for the ladder or the cap. */
  private readonly releasedAt: EpochMs;
  /** The actions recorded after that release, in the history's order: a remedy decided in the same millisecond
   * as the release (the reconcile the release queues) comes after it and counts. */
  private readonly sinceRelease: ReadonlySet<ActionRecord>;
  private readonly expectedBoardCount: number;
  private readonly expectedHashrateHs: number | undefined;
  /** Every ladder action of the watchdog since the release, oldest first, outcomes reconciled. */
  private readonly rungs: readonly Rung[];
  /** Steps not available on this rig, with why: the spec's capabilities, or an agent that said so. */
  private readonly unavailable: ReadonlyMap<LadderAction, string>;

  constructor(
    private readonly ctx: PolicyContext,
    private readonly p: WatchdogParams,
    private readonly latest: RigObservation,
    private readonly neighbourhood: NeighbourhoodStatus | undefined,
  ) {
    this.gap = ctx.params.freshness.maxGapMs;
    let releaseIndex = -1;
    for (let i = ctx.actions.length - 1; i >= 0 && releaseIndex < 0; i--) if (ctx.actions[i]!.kind === 'release') releaseIndex = i;
    this.releasedAt = releaseIndex >= 0 ? ctx.actions[releaseIndex]!.at : Number.NEGATIVE_INFINITY;
    this.sinceRelease = new Set(ctx.actions.slice(releaseIndex + 1));
    // Without a spec value: the most seen, since the last release of a quarantine (an operator may have pulled one).
    this.expectedBoardCount =
      ctx.spec.expectedBoards ?? Math.max(0, ...ctx.observations.filter((o) => o.at > this.releasedAt).map((o) => o.boards.length));
    const profile = ctx.spec.profiles[currentProfileIndex(ctx)];
    this.expectedHashrateHs = profile?.expectedHashrateHs ?? ctx.spec.expectedHashrateHs;

    const ladderActions = ctx.actions.filter((a) => a.by === 'watchdog' && LADDER_KINDS.has(a.kind) && this.sinceRelease.has(a));
    const skew = ctx.params.freshness.maxClockSkewMs;
    this.rungs = ladderActions.map((action, i) => ({
      action,
      kind: action.kind as LadderAction,
      result: reconcileActionOutcome(action, ctx.observations, {
        clockSkewMs: skew,
        maxGapMs: this.gap,
        ...(ladderActions[i + 1] ? { until: ladderActions[i + 1]!.at } : {}),
      }),
    }));

    const can = ctx.spec.capabilities ?? {};
    const unavailable = new Map<LadderAction, string>();
    if (can.restartMiner === false) unavailable.set('restart-miner', 'not supported by the rig (spec capabilities.restartMiner: false)');
    if (can.rebootHost === false) unavailable.set('reboot-host', 'not configured (spec capabilities.rebootHost: false)');
    if (can.powerCycle === false) unavailable.set('power-cycle', 'not configured (spec capabilities.powerCycle: false, no switchable outlet)');
    for (const r of this.rungs) {
      if (r.result.notRun === 'not-configured' && !unavailable.has(r.kind)) {
        unavailable.set(r.kind, `not available on the rig (the agent answered "${r.action.cause ?? r.action.outcome}")`);
      }
    }
    this.unavailable = unavailable;
  }

  run(): Decision[] {
    const { ctx, p } = this;
    const cutoff = this.rungs.length > 0 ? this.ladderCutoff() : Number.NEGATIVE_INFINITY;
    const ladder = this.rungs.filter((r) => ctx.now - r.action.at <= p.ladderMemoryMs && r.action.at >= cutoff);
    const last = ladder[ladder.length - 1];
    // A step that did not act (failed, timed out and not seen to happen, or not available) changed nothing: the next
    // one follows at once, on the same evidence (what was seen after the last step that did act). A step that acted
    // gets its grace period, and only what was seen after it counts.
    const acted = last !== undefined && this.acted(last);
    if (last && acted) {
      const grace = p.ladder.find((s) => s.action === last.kind)?.graceMs ?? 0;
      if (ctx.now - last.action.at < grace || this.latest.at < last.action.at + grace) return [];
    }
    const lastActed = [...ladder].reverse().find((r) => this.acted(r));
    let evidenceAfter = lastActed ? lastActed.action.at : Number.NEGATIVE_INFINITY;
    // A command still settling on this miner (a pool change that restarts mining on a stock Antminer): what it does
    // meanwhile is the command working. Nothing is decided until it has settled, and only later readings count.
    const settling = this.settling();
    if (settling) {
      if (ctx.now < settling.until || this.latest.at < settling.until) return [];
      evidenceAfter = Math.max(evidenceAfter, settling.until);
    }

    const fault = this.detect(ctx.observations.filter((o) => o.at > evidenceAfter));
    if (!fault) return this.idleAlert();
    if (fault.trigger === 'miner-unreachable' && this.massOutage()) return this.massOutageAlert(fault);

    // Only remedies that ran count, and none from before a release.
    const remediesLastHour = this.rungs.filter((r) => r.result.ran && ctx.now - r.action.at < HOUR).length;
    let next = last ? p.ladder.findIndex((s) => s.action === last.kind) + 1 : 0;
    const skipped: LadderAction[] = [];
    while (next < p.ladder.length && this.unavailable.has(p.ladder[next]!.action)) skipped.push(p.ladder[next++]!.action);
    const skippedWords = skipped.map((s) => `${s}: ${this.unavailable.get(s)!}`);
    const notices = this.skipNotices();

    const stepNo = next < p.ladder.length ? this.position(p.ladder[next]!.action) : this.availableSteps() + 1;
    if (remediesLastHour >= p.maxActionsPerHour) {
      return [this.quarantine(fault, 'action-cap-reached', stepNo, remediesLastHour,
        `${remediesLastHour} remedies ran in the last hour (cap ${p.maxActionsPerHour})`, skippedWords), ...notices];
    }
    if (next >= p.ladder.length) {
      const tried = [...ladder.map((r) => this.describeRung(r)), ...skippedWords];
      return [this.quarantine(fault, 'ladder-exhausted', stepNo, remediesLastHour,
        `the ladder is exhausted (${tried.join('; ') || 'no remedy available'})`, skippedWords), ...notices];
    }
    const step = p.ladder[next]!;
    const position = stepNo;
    const after = !last ? '' : acted ? `, ${formatDuration(ctx.now - last.action.at)} after ${last.kind} did not help` : `, ${this.describeRung(last)}`;
    const skippedNote = skipped.length > 0 ? `; skipped ${skipped.join(', ')} (not available)` : '';
    return [
      decide(ctx, 'watchdog', step.action, fault.trigger, position === 1 ? 'warning' : 'critical',
        `${fault.detail}; ${STEP_WORDS[step.action]} (step ${position} of ${this.availableSteps()}${after})${skippedNote}`,
        { trigger: fault.trigger, step: position, detail: fault.detail, evidence: fault.evidence, ...(skippedWords.length > 0 ? { skipped: skippedWords } : {}) }),
      ...notices,
    ];
  }

  /**
   * A quarantined rig: no remedy. When it has been healthy and hashing (every reading since the quarantine, or the
   * last healthyResetMs of them) the operator is told once; with autoReleaseAfterMs set, the watchdog releases it.
   */
  whileQuarantined(quarantine: ActionRecord): Decision[] {
    const { ctx, p } = this;
    const since = ctx.observations.filter((o) => o.at > quarantine.at);
    const run = trailingRun(since, (o) => this.healthy(o) && (o.hashrateHs ?? 0) > 0, this.gap);
    if (!run || run.items.length < p.minSamples) return [];
    const evidence = evidenceOf(run.items);
    const mean = run.items.reduce((sum, o) => sum + o.hashrateHs!, 0) / run.items.length;
    const seen = `healthy for ${formatDuration(run.heldMs)} since the quarantine of ${formatDuration(ctx.now - quarantine.at)} ago (${quarantine.reason}): ` +
      `reachable, ${run.end.boards.length} ${this.boardWord()}s, hashing ${formatHashrate(mean)} on average over ${run.items.length} readings`;
    if (p.autoReleaseAfterMs > 0 && run.heldMs >= p.autoReleaseAfterMs) {
      return [decide(ctx, 'watchdog', 'release', 'healthy-while-quarantined', 'info',
        `${seen}; releasing the quarantine (watchdog.autoReleaseAfterMs ${formatDuration(p.autoReleaseAfterMs)})`,
        { quarantinedAt: quarantine.at, healthyForMs: run.heldMs, evidence })];
    }
    if (run.heldMs < p.healthyResetMs) return [];
    const told = lastAction(ctx.actions, (a) => a.kind === 'alert' && a.reason === 'healthy-while-quarantined' && a.at > quarantine.at);
    if (told) return [];
    return [decide(ctx, 'watchdog', 'alert', 'healthy-while-quarantined', 'info',
      `${seen}; still quarantined: release it (rigctl release ${ctx.rigId} --reason ...) if the fault is understood`,
      { subject: 'quarantine' })];
  }

  /** True when the step may have acted: it ran (or is in flight), and did not fail without being seen to happen. */
  /** The latest command that ran and has an after-effect time on this rig's driver, and when that ends. */
  private settling(): { action: ActionRecord; until: EpochMs } | undefined {
    return settlingCommand(this.ctx.actions, this.p.commandSettleMs, this.latest.driver);
  }

  private acted(r: Rung): boolean {
    const o = r.result.outcome;
    return r.result.ran && o !== 'failed' && o !== 'rejected' && o !== 'timed-out';
  }

  private describeRung(r: Rung): string {
    if (r.result.observed) return `${r.kind} succeeded (observed: ${r.result.evidence})`;
    if (r.result.notRun === 'not-configured') return `${r.kind} not available: "${r.action.cause ?? r.result.outcome}"`;
    if (r.result.notRun === 'not-delivered') return `${r.kind} never reached the agent`;
    if (r.result.outcome === 'failed' || r.result.outcome === 'rejected' || r.result.outcome === 'timed-out') return `${r.kind} ${r.result.outcome}`;
    return r.kind;
  }

  /** 1-based position of `action` among the steps available on this rig. */
  private position(action: LadderAction): number {
    return this.p.ladder.filter((s) => !this.unavailable.has(s.action) || s.action === action).findIndex((s) => s.action === action) + 1;
  }

  private availableSteps(): number {
    return this.p.ladder.filter((s) => !this.unavailable.has(s.action)).length;
  }

  /**
   * One info alert per step not available on the rig, the first time (since the last release) the ladder is used:
   * the operator learns it once, not with every evaluation.
   */
  private skipNotices(): Decision[] {
    const { ctx, p } = this;
    const notices: Decision[] = [];
    p.ladder.forEach((step, i) => {
      const why = this.unavailable.get(step.action);
      if (why === undefined) return;
      const told = lastAction(ctx.actions, (a) => a.kind === 'alert' && a.reason === 'remedy-not-configured' && a.params['subject'] === step.action && this.sinceRelease.has(a));
      if (told) return;
      const then = p.ladder.slice(i + 1).find((s) => !this.unavailable.has(s.action))?.action ?? 'the quarantine';
      notices.push(decide(ctx, 'watchdog', 'alert', 'remedy-not-configured', 'info',
        `${step.action} ${why}; skipped, the ladder goes on to ${then}`, { subject: step.action }));
    });
    return notices;
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

  private quarantine(fault: Fault, reason: WatchdogReason, step: number, remediesLastHour: number, why: string, skipped: readonly string[]): Decision {
    return decide(this.ctx, 'watchdog', 'quarantine', reason, 'critical',
      `${fault.detail}; ${why}; quarantining the rig and alerting the operator`,
      {
        trigger: fault.trigger, step, detail: fault.detail, evidence: fault.evidence, actionsLastHour: remediesLastHour,
        ...(skipped.length > 0 ? { skipped } : {}),
      });
  }

  // --- a miner without devices -------------------------------------------------------------------------------

  /**
   * True when nothing since the last release shows a device or a hash: the miner program runs without hardware
   * (cgminer 4.x with no ASIC attached, a CPU miner not enabled). Restarting it will not make devices appear.
   * Not when the spec says boards are expected: then 0 boards is a missing-board fault.
   */
  private neverHadDevices(): boolean {
    if ((this.ctx.spec.expectedBoards ?? 0) > 0) return false;
    return this.ctx.reachable.every((o) => o.at <= this.releasedAt || (o.boards.length === 0 && !((o.hashrateHs ?? 0) > 0)));
  }

  /** A miner idle without devices over the whole zero-hashrate window: one warning, not a remedy. */
  private idleAlert(): Decision[] {
    const { ctx, p, latest } = this;
    if (!latest.reachable || latest.boards.length > 0 || (latest.hashrateHs ?? 0) > 0 || !this.neverHadDevices()) return [];
    const window = this.covering(ctx.reachable, p.zeroHashrateForMs);
    if (!window) return [];
    if (lastAction(ctx.actions, (a) => a.kind === 'alert' && a.reason === 'miner-idle-no-devices' && this.sinceRelease.has(a))) return [];
    const phantoms = latest.phantomBoards?.length ? ` (${latest.phantomBoards.length} phantom device(s) ignored)` : '';
    const started = minerStartAt(latest);
    const since = started !== undefined ? ` since it started ${formatDuration(ctx.now - started)} ago` : '';
    return [
      decide(ctx, 'watchdog', 'alert', 'miner-idle-no-devices', 'warning',
        `the miner reports no device and 0 H/s${since} (seen over ${formatDuration(evidenceOf(window).spanMs)}, ${window.length} readings)${phantoms}; ` +
          'idle, not restarted: check its device options or hardware',
        { subject: 'no-devices' }),
    ];
  }

  // --- faults ------------------------------------------------------------------------------------------------

  /** A trailing run that counts as sustained: long enough and with enough readings. */
  private sustained(run: Run | undefined, forMs: DurationMs): run is Run {
    return run !== undefined && run.heldMs >= forMs && run.items.length >= this.p.minSamples;
  }

  /** The first sustained fault, in order of severity, judged only on `observations`. */
  private detect(observations: readonly RigObservation[]): Fault | undefined {
    const { p, gap } = this;
    const latest = observations[observations.length - 1];
    if (!latest) return undefined;
    if (!latest.reachable) {
      const run = trailingRun(observations, (o) => !o.reachable, gap);
      if (!this.sustained(run, p.unreachableForMs)) return undefined;
      const kinds = [...new Set(latest.errorKinds)].join(', ') || 'no data';
      return {
        trigger: 'miner-unreachable',
        detail: `the miner API has been unreachable for ${formatDuration(run.heldMs)} (${kinds})`,
        evidence: evidenceOf(run.items),
      };
    }
    const reachable = observations.filter((o) => o.reachable);

    for (const board of latest.boards) {
      if (board.state !== 'dead') continue;
      // A board still coming up after a miner start (hash boards, and cgminer's CPU at 0.00 MH/s) is not dead yet.
      const dead = (o: RigObservation) => !this.warmingUp(o) && o.boards.some((b) => b.index === board.index && b.state === 'dead');
      const run = trailingRun(reachable, dead, gap);
      if (this.sustained(run, p.deadBoardForMs)) {
        return {
          trigger: 'board-dead',
          detail: `${this.boardWord()} ${board.index} has been dead for ${formatDuration(run.heldMs)}`,
          evidence: evidenceOf(run.items),
        };
      }
    }

    const expected = this.expectedBoards();
    const judged = (o: RigObservation) => o.boards.length > 0 || o.errorKinds.length === 0;
    const short = (o: RigObservation) => judged(o) && !this.warmingUp(o) && o.boards.length < expected;
    if (short(latest)) {
      const run = trailingRun(reachable, short, gap);
      if (this.sustained(run, p.missingBoardForMs)) {
        const trigger = this.ctx.spec.kind === 'gpu' ? 'gpu-lost' : 'board-missing';
        const missing = this.missingBoards(latest);
        return {
          trigger,
          detail: `${latest.boards.length} of ${expected} ${this.boardWord()}s reported for ${formatDuration(run.heldMs)}${missing ? ` (missing ${missing})` : ''}`,
          evidence: evidenceOf(run.items),
        };
      }
    }

    const hw = this.hwErrorsPerMinute(reachable);
    if (hw !== undefined && hw.perMinute > p.maxHwErrorsPerMinute) {
      return {
        trigger: 'hw-error-rate',
        detail: `${Math.round(hw.perMinute)} hardware errors per minute over the last ${formatDuration(hw.evidence.spanMs)} (limit ${p.maxHwErrorsPerMinute})`,
        evidence: hw.evidence,
      };
    }

    return this.lowHashrate(reachable);
  }

  /** True for a reading taken within warmupMs of the miner's start (from its uptime): devices still coming up. */
  private warmingUp(o: RigObservation): boolean {
    const started = minerStartAt(o);
    return started !== undefined && o.at - started < this.p.warmupMs;
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
   * Samples that cover the whole window [latest - windowMs, latest]: from the last sample taken at or before the
   * window opened, none further apart than maxGapMs, at least minSamples of them. Undefined when the window is not
   * covered (e.g. 89 s of readings for a 3 min window): no verdict without evidence.
   */
  private covering(samples: readonly RigObservation[], windowMs: DurationMs): RigObservation[] | undefined {
    const latest = samples[samples.length - 1];
    if (!latest) return undefined;
    const from = latest.at - windowMs;
    let start = samples.length - 1;
    while (start >= 0 && samples[start]!.at > from) start--;
    if (start < 0) return undefined;
    const window = samples.slice(start);
    for (let i = 1; i < window.length; i++) if (window[i]!.at - window[i - 1]!.at > this.gap) return undefined;
    return window.length >= this.p.minSamples ? window : undefined;
  }

  private hwErrorsPerMinute(reachable: readonly RigObservation[]): { perMinute: number; evidence: WindowEvidence } | undefined {
    const window = this.covering(reachable.filter((o) => o.hwErrors !== undefined), this.p.hwErrorWindowMs);
    if (!window || window.length < 2) return undefined;
    let errors = 0;
    for (let i = 1; i < window.length; i++) {
      const d = window[i]!.hwErrors! - window[i - 1]!.hwErrors!;
      if (d > 0) errors += d; // a drop is a counter reset (miner restart), not negative errors
    }
    const evidence = evidenceOf(window);
    const minutes = evidence.spanMs / 60_000;
    return minutes > 0 ? { perMinute: errors / minutes, evidence } : undefined;
  }

  /** The mean hashrate over the window, skipping ramp-up after a miner start or a profile change. */
  private lowHashrate(reachable: readonly RigObservation[]): Fault | undefined {
    const { ctx, p } = this;
    // A miner that never had a device is idle, not slow: reported once by idleAlert, never restarted for it.
    if (this.neverHadDevices()) return undefined;
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
      const evidence = evidenceOf(zero);
      return {
        trigger: 'hashrate-low',
        detail: `no hashrate at all for ${formatDuration(evidence.spanMs)} (${evidence.samples} readings) while the miner API answers`,
        evidence,
      };
    }
    const expected = this.expectedHashrateHs;
    if (expected === undefined || expected <= 0) return undefined;
    const window = this.covering(samples, p.lowHashrateForMs);
    if (!window) return undefined;
    const mean = window.reduce((sum, o) => sum + o.hashrateHs!, 0) / window.length;
    if (mean >= p.minHashrateRatio * expected) return undefined;
    const pct = Math.round((mean / expected) * 100);
    const evidence = evidenceOf(window);
    return {
      trigger: 'hashrate-low',
      detail: `hashrate averaged ${formatHashrate(mean)} over ${formatDuration(evidence.spanMs)} (${evidence.samples} readings), ${pct} % of the expected ${formatHashrate(expected)} (floor ${Math.round(p.minHashrateRatio * 100)} %)`,
      evidence,
    };
  }

  // --- ladder reset ------------------------------------------------------------------------------------------

  /**
   * Ladder actions before this are forgotten: the moment the latest healthy period reached healthyResetMs,
   * or an operator's release of a quarantine, whichever is later.
   */
  private ladderCutoff(): EpochMs {
    const { ctx, p } = this;
    let cutoff = this.releasedAt;
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
