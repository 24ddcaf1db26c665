import type { PolicyParams, PolicyParamsOverrides, WatchdogParams } from './policy-types';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** The defaults, documented in README.md. Every value can be overridden fleet-wide or per rig. */
export const DEFAULT_POLICY_PARAMS: PolicyParams = {
  freshness: {
    staleAfterMs: 30 * SECOND,
    maxGapMs: 90 * SECOND,
    maxClockSkewMs: 5 * SECOND,
  },
  failover: {
    enabled: true,
    // A hung pool must be left fast enough that the first share on the backup comes within 30 s of the hang:
    // 12 s of silence + up to one 5 s poll + the backup's first share (5.8-11.8 s on the recorded bfgminer).
    // The Poisson rule below keeps slow miners from being called silent that soon.
    silentAfterMs: 12 * SECOND,
    silentShareIntervals: 10,
    shareRateWindowMs: 10 * MINUTE,
    rejectWindowMs: 5 * MINUTE,
    maxRejectRatio: 0.1,
    minSharesForRejectRatio: 20,
    switchCooldownMs: 60 * SECOND,
    failbackStableMs: 5 * MINUTE,
    maxFailbackStableMs: HOUR,
    failureMemoryMs: HOUR,
    setPoolsCooldownMs: 10 * MINUTE,
    alertRepeatMs: 15 * MINUTE,
    // A gap of ln(1e8) = 18.4 expected share intervals: a healthy pool is called silent by chance about once in
    // 1e8 share intervals (at a share every 2 s, once in 6 years per rig; 1e-3 gave several a day per rig). The
    // price: a hung pool is left after max(silentAfterMs, 18.4 intervals), 12 s at a share every 0.65 s or faster.
    silentProbability: 1e-8,
    switchBudget: 3,
    switchBudgetWindowMs: 30 * MINUTE,
    // bfgminer fails back 300 s after the pool returns (--failover-switch-delay); the recorded one took 352 s.
    minerFailbackGraceMs: 7 * MINUTE,
    inUseEvidenceMs: 2 * MINUTE,
  },
  thermal: {
    enabled: true,
    highC: 80,
    lowC: 70,
    criticalC: 95,
    criticalForMs: 0,
    stepDownAfterMs: 60 * SECOND,
    stepUpAfterMs: 5 * MINUTE,
    stepCooldownMs: 2 * MINUTE,
    maxStepUpBackoff: 8,
    flapMemoryMs: HOUR,
    minFanRpm: 100,
    fanFailedForMs: 15 * SECOND,
    resumeAfterMs: 10 * MINUTE,
  },
  watchdog: {
    enabled: true,
    minHashrateRatio: 0.8,
    lowHashrateForMs: 10 * MINUTE,
    zeroHashrateForMs: 3 * MINUTE,
    warmupMs: 3 * MINUTE,
    // From the drivers' settle times (libs/drivers/*/README.md): the stock Antminer web API rewrites the whole config
    // and restarts mining (about 3 minutes on S19 firmware, a 21 s reply on S19j Pro); Braiins' tuner re-tunes
    // after a power target; Whatsminer v3 applies pools and power modes within a minute. The cgminer API's switchpool
    // takes effect at once: no entry.
    commandSettleMs: {
      'antminer-web': { 'switch-pool': 4 * MINUTE, 'set-pools': 4 * MINUTE, 'apply-profile': 10 * MINUTE },
      'braiins-grpc': { 'set-pools': 1 * MINUTE, 'apply-profile': 5 * MINUTE },
      'whatsminer-v3': { 'set-pools': 1 * MINUTE, 'switch-pool': 1 * MINUTE, 'apply-profile': 1 * MINUTE },
    },
    deadBoardForMs: 2 * MINUTE,
    missingBoardForMs: 2 * MINUTE,
    maxHwErrorsPerMinute: 60,
    hwErrorWindowMs: 10 * MINUTE,
    unreachableForMs: 60 * SECOND,
    ladder: [
      { action: 'restart-miner', graceMs: 5 * MINUTE },
      { action: 'reboot-host', graceMs: 10 * MINUTE },
      { action: 'power-cycle', graceMs: 15 * MINUTE },
    ],
    healthyResetMs: 15 * MINUTE,
    ladderMemoryMs: 2 * HOUR,
    maxActionsPerHour: 4,
    massOutageShare: 0.5,
    massOutageMinRigs: 4,
    alertRepeatMs: 15 * MINUTE,
    minSamples: 3,
    autoReleaseAfterMs: 0,
  },
  engine: {
    pendingTimeoutMs: 2 * MINUTE,
  },
};

/** Layers overrides over the defaults, later layers winning: typically fleet-wide, then the rig's spec. */
export function resolveParams(...layers: readonly (PolicyParamsOverrides | undefined)[]): PolicyParams {
  let params = DEFAULT_POLICY_PARAMS;
  for (const layer of layers) {
    if (!layer) continue;
    params = {
      freshness: { ...params.freshness, ...layer.freshness },
      failover: { ...params.failover, ...layer.failover },
      thermal: { ...params.thermal, ...layer.thermal },
      watchdog: {
        ...params.watchdog, ...layer.watchdog,
        // Per driver and kind: an override of one driver's pool settle time keeps the other drivers' entries.
        commandSettleMs: mergeSettle(params.watchdog.commandSettleMs, layer.watchdog?.commandSettleMs),
      },
      engine: { ...params.engine, ...layer.engine },
    };
  }
  return params;
}

function mergeSettle(base: WatchdogParams['commandSettleMs'], over: WatchdogParams['commandSettleMs'] | undefined): WatchdogParams['commandSettleMs'] {
  if (!over) return base;
  const out: Record<string, WatchdogParams['commandSettleMs'][string]> = { ...base };
  for (const [driver, kinds] of Object.entries(over)) out[driver] = { ...base[driver], ...kinds };
  return out;
}
