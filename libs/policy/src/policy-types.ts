/**
 * The vocabulary of the policy engine: a rig's spec (what the operator wants), its status (what fresh telemetry
 * shows), a bounded history (recent observations and previous actions) and the decisions the policies return.
 *
 * Time is always epoch milliseconds handed in by the caller; nothing here reads a clock.
 */

/** Milliseconds since the Unix epoch. */
export type EpochMs = number;
/** A length of time in milliseconds. */
export type DurationMs = number;

export type RigKind = 'asic' | 'gpu';

// ---------------------------------------------------------------------------------------------------------------
// Spec: desired state, resolved for one rig by the fleet layer (group, model and labels already applied).
// ---------------------------------------------------------------------------------------------------------------

/** One pool of the group's ordered list. The first is preferred. */
export interface PoolSpec {
  readonly url: string;
  readonly user: string;
  readonly password?: string;
}

/** ASIC settings: a board frequency and/or a firmware work mode ("low", "normal", "high", ...). */
export interface AsicProfileSettings {
  readonly frequencyMhz?: number;
  readonly workMode?: string;
  /**
   * The firmware's named power mode for this profile ("normal", "low", "sleep"): how a miner without overclock
   * steps down (a stock Antminer through its web UI, Whatsminer API v3). Used when the miner reports the
   * "power-mode" capability; see chooseAsicSettings.
   */
  readonly powerMode?: string;
  /** A power target in watts for this profile (Braiins OS+, Whatsminer API v3): used when the miner reports "power-target". */
  readonly powerTargetW?: number;
}

/** GPU settings, applied to every GPU of the rig. */
export interface GpuProfileSettings {
  readonly powerLimitW?: number;
  readonly coreClockMhz?: number;
  readonly memoryClockMhz?: number;
}

/** An overclock/power profile. A rig's profiles are ordered from the lowest (coolest) to the highest. */
export interface ProfileSpec {
  readonly name: string;
  readonly asic?: AsicProfileSettings;
  readonly gpu?: GpuProfileSettings;
  /** What the rig should hash at on this profile; overrides RigSpec.expectedHashrateHs for the watchdog. */
  readonly expectedHashrateHs?: number;
  /** The model's nominal power on this profile, in W: the rig's power when neither the miner nor a PDU reads it
   * (shown as estimated; see rigPower). */
  readonly nominalPowerW?: number;
}

export type ProfileSettings = Pick<ProfileSpec, 'asic' | 'gpu'>;

/** Which remedies the rig supports. Absent means supported. */
export interface RigCapabilities {
  readonly restartMiner?: boolean;
  readonly rebootHost?: boolean;
  /** False when the rig has no switchable PDU outlet. */
  readonly powerCycle?: boolean;
}

export interface RigSpec {
  readonly rigId: string;
  /** The miner commands address; defaults to the minerId of the latest observation. */
  readonly minerId?: string;
  readonly kind: RigKind;
  readonly group?: string;
  /** Ordered pool list of the rig's group: the first is preferred. */
  readonly pools: readonly PoolSpec[];
  /** Ordered from the lowest to the highest. May be empty (the thermal policy then only stops on critical). */
  readonly profiles: readonly ProfileSpec[];
  /** The profile the operator wants; the thermal policy never steps above it. Defaults to the highest. */
  readonly desiredProfile?: string;
  readonly expectedHashrateHs?: number;
  /** Hash boards or GPUs the rig should report; defaults to the most seen in the history. */
  readonly expectedBoards?: number;
  /** Chassis fans that should spin; when absent, a fan is failed only if it was seen spinning before. */
  readonly expectedFans?: number;
  readonly capabilities?: RigCapabilities;
  /** Per-rig overrides of the policy parameters; see PolicyParams for the defaults. */
  readonly policy?: PolicyParamsOverrides;
}

// ---------------------------------------------------------------------------------------------------------------
// Parameters (defaults in policy-defaults.ts, documented in README.md)
// ---------------------------------------------------------------------------------------------------------------

export interface FreshnessParams {
  /** The latest observation must be at most this old, or no policy acts. */
  readonly staleAfterMs: DurationMs;
  /** Two observations further apart than this break a "sustained" run. */
  readonly maxGapMs: DurationMs;
  /** Readings stamped up to this far after `now` (agent clock ahead) still count; later ones are left out. */
  readonly maxClockSkewMs: DurationMs;
}

export interface FailoverParams {
  readonly enabled: boolean;
  /** No accepted share (or share time change) for this long on the active pool while the miner should hash. */
  readonly silentAfterMs: DurationMs;
  /** ... or for this many of the pool's mean share intervals, when that is longer (slow rigs, high difficulty). */
  readonly silentShareIntervals: number;
  /** Window over which the mean share interval is measured. */
  readonly shareRateWindowMs: DurationMs;
  readonly rejectWindowMs: DurationMs;
  /** rejected / (accepted + rejected) over the window above this marks the pool rejecting. */
  readonly maxRejectRatio: number;
  readonly minSharesForRejectRatio: number;
  /** No two pool switches (ours or the miner's own) closer than this. */
  readonly switchCooldownMs: DurationMs;
  /** A preferred pool must be alive for this long (and left this long ago) before we fail back to it. */
  readonly failbackStableMs: DurationMs;
  /** The stable period doubles per failure of the pool within failureMemoryMs, up to this. */
  readonly maxFailbackStableMs: DurationMs;
  readonly failureMemoryMs: DurationMs;
  /** At most one set-pools (spec pools missing on the miner) per this period. */
  readonly setPoolsCooldownMs: DurationMs;
  /** At most one "no healthy pool" alert per this period. */
  readonly alertRepeatMs: DurationMs;
  /** Silent only when a Poisson share process at the miner's hashrate and the pool's share difficulty would show
   * no share over the observed gap with a probability below this (and the gap is at least silentAfterMs). */
  readonly silentProbability: number;
  /** At most this many of our pool switches per rig within switchBudgetWindowMs; each further one waits. */
  readonly switchBudget: number;
  readonly switchBudgetWindowMs: DurationMs;
  /** After the miner left a pool by itself, its own failback may take this long once the pool is alive again
   * (bfgminer --failover-switch-delay 300 s, cgminer 2.x about 60 s): we do not fail back before it. */
  readonly minerFailbackGraceMs: DurationMs;
  /** Share progress (accepted, difficulty accepted, last share time, getworks) within this window is evidence of
   * the pool in use. */
  readonly inUseEvidenceMs: DurationMs;
}

export interface ThermalParams {
  readonly enabled: boolean;
  /** Step down one profile when the hottest reading stays above this. */
  readonly highC: number;
  /** Step back up when it stays below this (the hysteresis band is lowC..highC). */
  readonly lowC: number;
  /** Stop mining at or above this. */
  readonly criticalC: number;
  readonly criticalForMs: DurationMs;
  readonly stepDownAfterMs: DurationMs;
  readonly stepUpAfterMs: DurationMs;
  /** Minimum time between two thermal profile changes, so a change can take effect. */
  readonly stepCooldownMs: DurationMs;
  /** stepUpAfterMs doubles per thermal step-down within flapMemoryMs, up to this factor. */
  readonly maxStepUpBackoff: number;
  readonly flapMemoryMs: DurationMs;
  /** A fan below this is failed (0 rpm, or a fan that stopped reporting). */
  readonly minFanRpm: number;
  readonly fanFailedForMs: DurationMs;
  /** After a critical stop, resume on the lowest profile once below lowC for this long. */
  readonly resumeAfterMs: DurationMs;
}

export type LadderAction = 'restart-miner' | 'reboot-host' | 'power-cycle';

export interface LadderStep {
  readonly action: LadderAction;
  /** Time the step gets to work before the next one. */
  readonly graceMs: DurationMs;
}

export interface WatchdogParams {
  readonly enabled: boolean;
  /** Hashrate under this fraction of the expected one ... */
  readonly minHashrateRatio: number;
  /** ... on average over this long is a fault. */
  readonly lowHashrateForMs: DurationMs;
  /** A hashrate of exactly 0 for this long is a fault even without an expected hashrate. */
  readonly zeroHashrateForMs: DurationMs;
  /** Observations this soon after a miner start do not count for the hashrate (ramp-up). */
  readonly warmupMs: DurationMs;
  /**
   * How long a command's after-effects last, per driver and command kind ('*' for any driver): a pool change on a
   * stock Antminer's web API restarts mining for minutes, which is the command working, not a new fault. Until a
   * command that ran has settled the watchdog decides nothing, and afterwards it judges only readings taken after.
   */
  readonly commandSettleMs: Readonly<Record<string, Readonly<Partial<Record<SettlingAction, DurationMs>>>>>;
  readonly deadBoardForMs: DurationMs;
  readonly missingBoardForMs: DurationMs;
  readonly maxHwErrorsPerMinute: number;
  readonly hwErrorWindowMs: DurationMs;
  readonly unreachableForMs: DurationMs;
  /** restart miner -> reboot host -> power-cycle; quarantine and alert after the last. */
  readonly ladder: readonly LadderStep[];
  /** Healthy for this long resets the ladder. */
  readonly healthyResetMs: DurationMs;
  /** Ladder actions older than this are forgotten even without a healthy period on record. */
  readonly ladderMemoryMs: DurationMs;
  /** More remedies than this in one hour quarantines the rig. */
  readonly maxActionsPerHour: number;
  /** When at least this share of the neighbourhood is unreachable (and it has massOutageMinRigs rigs or more), an
   * unreachable miner gets an alert instead of the ladder: restarting or power-cycling a row won't fix a switch. */
  readonly massOutageShare: number;
  readonly massOutageMinRigs: number;
  /** At most one mass-outage alert per rig per this period. */
  readonly alertRepeatMs: DurationMs;
  /** A window ("X for T") is evidence only with at least this many readings in it (and no gap over maxGapMs). */
  readonly minSamples: number;
  /** A quarantined rig seen healthy this long is released by the watchdog; 0 (the default) never: the operator
   * releases, told by a `healthy-while-quarantined` alert after healthyResetMs. */
  readonly autoReleaseAfterMs: DurationMs;
}

export interface EngineParams {
  /** A pending action (command not finished) older than this no longer blocks the next one. */
  readonly pendingTimeoutMs: DurationMs;
}

export interface PolicyParams {
  readonly freshness: FreshnessParams;
  readonly failover: FailoverParams;
  readonly thermal: ThermalParams;
  readonly watchdog: WatchdogParams;
  readonly engine: EngineParams;
}

export type PolicyParamsOverrides = { readonly [K in keyof PolicyParams]?: Partial<PolicyParams[K]> };

// ---------------------------------------------------------------------------------------------------------------
// Status: what fresh telemetry shows. Rebuilt from MinerSnapshot by observeSnapshot().
// ---------------------------------------------------------------------------------------------------------------

export type PoolState = 'alive' | 'dead' | 'disabled' | 'rejecting' | 'unknown';
export type BoardState = 'ok' | 'dead' | 'disabled' | 'unknown';

export interface PoolObservation {
  /** The miner's own pool number: what a switch-pool command names. */
  readonly index: number;
  readonly url: string;
  readonly user: string;
  readonly state: PoolState;
  readonly active: boolean;
  readonly priority?: number;
  readonly accepted?: number;
  readonly rejected?: number;
  readonly stale?: number;
  /** The miner's clock: only compared with itself (a change means progress), never with `now`. */
  readonly lastShareAt?: EpochMs;
  /** cgminer "Stratum Active": the stratum connection is up. Not the pool in use (bfgminer: true on two pools). */
  readonly stratumActive?: boolean;
  /** cgminer "Last Share Difficulty": the pool's share difficulty as of the last share. */
  readonly lastShareDifficulty?: number;
  /** cgminer "Difficulty Accepted": the sum of accepted share difficulties. */
  readonly difficultyAccepted?: number;
  /** cgminer "Getworks": work fetched from this pool. */
  readonly getworks?: number;
  /** cgminer "Diff1 Shares": the difficulty of the valid work the miner found for this pool, counted before the
   * pool answers. Moving while accepted/rejected/stale stand still: submitted shares went unanswered. */
  readonly diff1Shares?: number;
  /** How the driver decided `active`: "stratum-active", "lcd-current-pool", "share-progress", "priority",
   * "firmware"; empty when unknown. */
  readonly activeEvidence?: string;
}

/** One hashrate window as the miner labels it ("5s", "20s", "1m", "5m", "15m", "av"). */
export interface HashrateWindowObservation {
  readonly label: string;
  /** Absent for "av" (since the miner started). */
  readonly windowS?: number;
  readonly hashrateHs: number;
}

export interface BoardObservation {
  readonly index: number;
  readonly state: BoardState;
  readonly hashrateHs?: number;
  /** The hottest plausible reading of the board (chip, else board sensor). */
  readonly tempC?: number;
  readonly hwErrors?: number;
  readonly name?: string;
  readonly pciBusId?: string;
}

/**
 * A device the miner lists that cannot be real: the driver's phantom_reason (cgminer 2.x's uninitialised second
 * CPU), or impossible values seen by observeSnapshot (counters beyond any real device, temperatures above 200 C).
 * Shown, but no policy reads it: not dead, not missing, not expected.
 */
export interface PhantomBoardObservation {
  readonly index: number;
  readonly reason: string;
  readonly name?: string;
}

export interface FanObservation {
  readonly index: number;
  readonly rpm?: number;
  readonly percent?: number;
}

/** One reading of one rig, slimmed down from a MinerSnapshot. */
export interface RigObservation {
  /** When the agent collected it (snapshot.collectedAt). */
  readonly at: EpochMs;
  readonly seq?: number;
  readonly rigId: string;
  readonly minerId: string;
  /** The agent that collected it: rigs read by the same agent form a neighbourhood. */
  readonly agentId?: string;
  /** False when the snapshot carried errors and no data: the miner API could not be read. */
  readonly reachable: boolean;
  readonly errorKinds: readonly string[];
  readonly uptimeS?: number;
  readonly hashrateHs?: number;
  /** Every hashrate window the miner reported, shortest first (absent: none known). */
  readonly hashrateWindows?: readonly HashrateWindowObservation[];
  /** The hashrate averaged since the miner started ("MHS av"). */
  readonly hashrateAvgHs?: number;
  /** The pool the miner names in its lcd reply ("Current Pool"), when it has one. */
  readonly currentPoolUrl?: string;
  /** The miner program as its VERSION names it ("cgminer", "bfgminer", ...), when known. */
  readonly software?: string;
  /** The agent's driver that read it ("cgminer", "antminer-web", "braiins-grpc", "whatsminer-v3", ...), when known. */
  readonly driver?: string;
  /** What the miner accepts (MinerSnapshot.capabilities: "power-mode", "power-target", "overclock", ...); absent: unknown. */
  readonly capabilities?: readonly string[];
  readonly hwErrors?: number;
  readonly boards: readonly BoardObservation[];
  /** Devices with impossible values, left out of `boards` (absent: none). */
  readonly phantomBoards?: readonly PhantomBoardObservation[];
  readonly fans: readonly FanObservation[];
  readonly pools: readonly PoolObservation[];
}

export interface RigStatus {
  readonly rigId: string;
  /** The newest observation, if any. */
  readonly latest?: RigObservation;
  /** From the retained RigState: false after the agent's last will. Offline means stale. */
  readonly agentOnline?: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// Decisions and history
// ---------------------------------------------------------------------------------------------------------------

export type PolicyName = 'failover' | 'thermal' | 'watchdog';

export type FailoverReason =
  | 'active-pool-dead'
  | 'active-pool-rejecting'
  | 'active-pool-silent'
  | 'no-active-pool'
  | 'active-pool-not-in-spec'
  | 'preferred-pool-stable'
  | 'spec-pools-missing'
  | 'no-healthy-pool';

export type ThermalReason =
  | 'profile-above-desired'
  | 'temperature-critical'
  | 'temperature-high'
  | 'temperature-recovered'
  | 'fan-failed'
  | 'cooled-after-critical';

export type WatchdogTrigger =
  | 'miner-unreachable'
  | 'board-dead'
  | 'board-missing'
  | 'gpu-lost'
  | 'hw-error-rate'
  | 'hashrate-low';

export type WatchdogReason =
  | WatchdogTrigger
  | 'ladder-exhausted'
  | 'action-cap-reached'
  | 'neighbourhood-outage'
  | 'miner-idle-no-devices'
  | 'remedy-not-configured'
  | 'healthy-while-quarantined';

export type ReasonCode = FailoverReason | ThermalReason | WatchdogReason;

/** Every reason code, for metrics labels, event filters and docs. The check below keeps it complete. */
export const REASON_CODES = [
  'active-pool-dead', 'active-pool-rejecting', 'active-pool-silent', 'no-active-pool', 'active-pool-not-in-spec',
  'preferred-pool-stable', 'spec-pools-missing', 'no-healthy-pool',
  'profile-above-desired', 'temperature-critical', 'temperature-high', 'temperature-recovered', 'fan-failed',
  'cooled-after-critical',
  'miner-unreachable', 'board-dead', 'board-missing', 'gpu-lost', 'hw-error-rate', 'hashrate-low',
  'ladder-exhausted', 'action-cap-reached', 'neighbourhood-outage',
  'miner-idle-no-devices', 'remedy-not-configured', 'healthy-while-quarantined',
] as const satisfies readonly ReasonCode[];
const _allReasonCodesListed: Exclude<ReasonCode, (typeof REASON_CODES)[number]> extends never ? true : never = true;
void _allReasonCodesListed;

export type Severity = 'info' | 'warning' | 'critical';

/** How sure a verdict is: a policy acts only on a confident one. */
export type Confidence = 'confident' | 'uncertain';

/** A verdict over observations: the value, how sure, and the facts it rests on (one line each, for events). */
export interface Verdict<T> {
  readonly value: T;
  readonly confidence: Confidence;
  readonly evidence: readonly string[];
}

/** Parameters of each decision kind: what a command needs, plus the evidence behind it. */
export interface DecisionParamsByKind {
  'switch-pool': {
    readonly poolIndex: number;
    readonly url: string;
    readonly user: string;
    readonly fromUrl?: string;
    readonly fromPoolIndex?: number;
    /** What the policy saw, one line per fact, and how sure the verdict it acted on was. */
    readonly evidence?: readonly string[];
    readonly confidence?: Confidence;
  };
  'set-pools': { readonly pools: readonly PoolSpec[]; readonly missing: readonly string[] };
  'apply-profile': {
    readonly profile: string;
    /** The profile's settings, so the command is self-contained. */
    readonly settings: ProfileSettings;
    /** Set when the settings go as one command of their own (chooseAsicSettings), not as the agent's profile. */
    readonly via?: 'power-mode' | 'power-target';
    readonly fromProfile: string;
    readonly direction: 'down' | 'up';
    readonly tempC?: number;
  };
  'stop-mining': { readonly tempC: number; readonly criticalC: number; readonly boardIndex?: number };
  'resume-mining': { readonly profile: string; readonly settings: ProfileSettings; readonly via?: 'power-mode' | 'power-target'; readonly tempC: number };
  'restart-miner': WatchdogActionParams;
  'reboot-host': WatchdogActionParams;
  'power-cycle': WatchdogActionParams;
  quarantine: WatchdogActionParams & { readonly actionsLastHour: number };
  /** The watchdog lifting its own quarantine after a healthy period (watchdog.autoReleaseAfterMs). */
  release: { readonly quarantinedAt: EpochMs; readonly healthyForMs: DurationMs; readonly evidence: WindowEvidence };
  alert: { readonly subject: string; readonly evidence?: readonly string[]; readonly confidence?: Confidence };
}

export interface WatchdogActionParams {
  readonly trigger: WatchdogTrigger;
  /** 1-based position on the ladder. */
  readonly step: number;
  readonly detail: string;
  /** The readings the fault was judged on. */
  readonly evidence?: WindowEvidence;
  /** Ladder steps passed over on the way here, each with why ("reboot-host: not configured"). */
  readonly skipped?: readonly string[];
}

/** Which readings a verdict over a window rests on: first and last reading, the span between and how many. */
export interface WindowEvidence {
  readonly fromAt: EpochMs;
  readonly toAt: EpochMs;
  readonly spanMs: DurationMs;
  readonly samples: number;
}

export type DecisionKind = keyof DecisionParamsByKind;

export interface DecisionOf<K extends DecisionKind> {
  readonly policy: PolicyName;
  readonly kind: K;
  /** Machine-readable: what the event log and metrics group by. */
  readonly reason: ReasonCode;
  /** One sentence for a human: which rig, what, why. */
  readonly message: string;
  readonly severity: Severity;
  readonly rigId: string;
  readonly minerId?: string;
  readonly at: EpochMs;
  readonly params: DecisionParamsByKind[K];
}

/** What a policy returns: a discriminated union on `kind`. */
export type Decision = { [K in DecisionKind]: DecisionOf<K> }[DecisionKind];

/** An operator clearing a quarantine; recorded in the history like any action. */
export type ActionKind = DecisionKind | 'release';

/** Commands whose after-effects can look like a fault for a while (see WatchdogParams.commandSettleMs). */
export type SettlingAction = 'switch-pool' | 'set-pools' | 'apply-profile' | 'restart-miner' | 'reboot-host' | 'power-cycle';

export type ActionOutcome = 'pending' | 'succeeded' | 'failed' | 'rejected' | 'timed-out';

/** A previous decision (or operator action) and what became of it. */
export interface ActionRecord {
  readonly at: EpochMs;
  readonly kind: ActionKind;
  readonly reason: string;
  readonly by: PolicyName | 'operator';
  readonly params: Readonly<Record<string, unknown>>;
  /** The command id, when a command carried it out. */
  readonly id?: string;
  /** Absent means unknown (treated as done). */
  readonly outcome?: ActionOutcome;
  /** Why it failed or was rejected (CommandResult.cause), when known: "no PDU outlet configured" tells the watchdog
   * the remedy is not available on this rig. */
  readonly cause?: string;
  /** False when the command never reached the agent (not signed, not sent): it cannot have acted. */
  readonly delivered?: boolean;
}

/** Bounded: see appendObservation / appendAction. Both lists oldest first. */
export interface RigHistory {
  readonly observations: readonly RigObservation[];
  readonly actions: readonly ActionRecord[];
}

/**
 * What the rig's neighbours look like right now: the rigs read by the same agent (or behind the same switch),
 * this one included. Many of them unreachable at once is a network or agent problem, not the rigs'.
 */
export interface NeighbourhoodStatus {
  readonly rigs: number;
  readonly unreachable: number;
}

export interface PolicyInput {
  readonly spec: RigSpec;
  readonly status: RigStatus;
  readonly history: RigHistory;
  /** Optional: without it the watchdog cannot tell a common-cause outage from a rig fault. */
  readonly neighbourhood?: NeighbourhoodStatus;
}

/** A small pure class: same input and `now`, same decisions. */
export interface Policy {
  readonly name: PolicyName;
  evaluate(input: PolicyInput, now: EpochMs): Decision[];
}
