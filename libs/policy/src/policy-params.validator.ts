import { DEFAULT_POLICY_PARAMS, resolveParams } from './policy-defaults';
import { poolKey } from './pool-identity';
import type { LadderAction, PolicyParams, PolicyParamsOverrides, RigSpec } from './policy-types';

/** One problem, named by its key path (e.g. `groups[2].policy.thermal.lowC`) so an operator can find it. */
export interface PolicyValidationError {
  readonly path: string;
  readonly message: string;
}

const LADDER_ACTIONS: readonly LadderAction[] = ['restart-miner', 'reboot-host', 'power-cycle'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks parameter overrides as they come from a fleet file (unknown shape): known sections and keys, value
 * types, then the rules between values (lowC < highC < criticalC, ratios within 0..1, ...) on the result of
 * layering them over `base` (the defaults, or the fleet-wide overrides a rig's own sit on).
 */
export function validatePolicyOverrides(
  overrides: unknown,
  path = 'policy',
  base: PolicyParams = DEFAULT_POLICY_PARAMS,
): PolicyValidationError[] {
  const errors: PolicyValidationError[] = [];
  if (overrides === undefined) return [];
  if (!isRecord(overrides)) return [{ path, message: 'must be a mapping of sections (freshness, failover, thermal, watchdog, engine)' }];
  for (const [section, values] of Object.entries(overrides)) {
    const at = `${path}.${section}`;
    const defaults = (DEFAULT_POLICY_PARAMS as unknown as Record<string, Record<string, unknown>>)[section];
    if (!defaults) {
      errors.push({ path: at, message: `unknown section; expected one of ${Object.keys(DEFAULT_POLICY_PARAMS).join(', ')}` });
      continue;
    }
    if (!isRecord(values)) {
      errors.push({ path: at, message: 'must be a mapping' });
      continue;
    }
    for (const [key, value] of Object.entries(values)) {
      const keyPath = `${at}.${key}`;
      if (!(key in defaults)) {
        errors.push({ path: keyPath, message: `unknown parameter; expected one of ${Object.keys(defaults).join(', ')}` });
        continue;
      }
      const expected = defaults[key];
      if (key === 'ladder') errors.push(...validateLadder(value, keyPath));
      else if (key === 'commandSettleMs') errors.push(...validateSettle(value, keyPath));
      else if (typeof value !== typeof expected) errors.push({ path: keyPath, message: `must be a ${typeof expected}` });
      else if (typeof value === 'number' && !Number.isFinite(value)) errors.push({ path: keyPath, message: 'must be a finite number' });
    }
  }
  if (errors.length > 0) return errors;
  return validateParams(resolveParams(base as PolicyParamsOverrides, overrides as PolicyParamsOverrides), path);
}

const SETTLING: readonly string[] = ['switch-pool', 'set-pools', 'apply-profile', 'restart-miner', 'reboot-host', 'power-cycle'];

/** commandSettleMs: driver name (or '*') -> command kind -> ms. */
function validateSettle(value: unknown, path: string): PolicyValidationError[] {
  if (!isRecord(value)) return [{ path, message: "must be a mapping of driver name (or '*') to { command kind: ms }" }];
  const errors: PolicyValidationError[] = [];
  for (const [driver, kinds] of Object.entries(value)) {
    if (!isRecord(kinds)) {
      errors.push({ path: `${path}.${driver}`, message: `must be a mapping of command kind (${SETTLING.join(', ')}) to ms` });
      continue;
    }
    for (const [kind, ms] of Object.entries(kinds)) {
      if (!SETTLING.includes(kind)) errors.push({ path: `${path}.${driver}.${kind}`, message: `unknown command kind; expected one of ${SETTLING.join(', ')}` });
      else if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) errors.push({ path: `${path}.${driver}.${kind}`, message: 'must be a duration in ms, 0 or more' });
    }
  }
  return errors;
}

function validateLadder(value: unknown, path: string): PolicyValidationError[] {
  if (!Array.isArray(value)) return [{ path, message: 'must be a list of { action, graceMs }' }];
  const errors: PolicyValidationError[] = [];
  const seen = new Set<string>();
  value.forEach((step: unknown, i) => {
    const at = `${path}[${i}]`;
    if (!isRecord(step)) {
      errors.push({ path: at, message: 'must be { action, graceMs }' });
      return;
    }
    if (typeof step['action'] !== 'string' || !LADDER_ACTIONS.includes(step['action'] as LadderAction)) {
      errors.push({ path: `${at}.action`, message: `must be one of ${LADDER_ACTIONS.join(', ')}` });
    } else if (seen.has(step['action'])) {
      errors.push({ path: `${at}.action`, message: `${step['action']} is already on the ladder` });
    } else {
      seen.add(step['action']);
    }
    if (typeof step['graceMs'] !== 'number' || !Number.isFinite(step['graceMs']) || step['graceMs'] < 0) {
      errors.push({ path: `${at}.graceMs`, message: 'must be a duration in ms, 0 or more' });
    }
  });
  return errors;
}

/** The rules between resolved values. */
export function validateParams(params: PolicyParams, path = 'policy'): PolicyValidationError[] {
  const errors: PolicyValidationError[] = [];
  const fail = (key: string, message: string) => errors.push({ path: `${path}.${key}`, message });
  for (const [section, values] of Object.entries(params) as [string, Record<string, unknown>][]) {
    for (const [key, value] of Object.entries(values)) {
      if (key.endsWith('Ms') && typeof value === 'number' && value < 0) fail(`${section}.${key}`, 'must not be negative');
    }
  }
  const { freshness, failover, thermal, watchdog } = params;
  if (freshness.staleAfterMs <= 0) fail('freshness.staleAfterMs', 'must be above 0');
  if (freshness.maxGapMs <= 0) fail('freshness.maxGapMs', 'must be above 0');
  if (failover.silentAfterMs <= 0) fail('failover.silentAfterMs', 'must be above 0');
  if (failover.maxRejectRatio < 0 || failover.maxRejectRatio > 1) fail('failover.maxRejectRatio', 'must be between 0 and 1');
  if (failover.silentShareIntervals < 1) fail('failover.silentShareIntervals', 'must be 1 or more');
  if (failover.maxFailbackStableMs < failover.failbackStableMs) {
    fail('failover.maxFailbackStableMs', `must not be below failover.failbackStableMs (${failover.failbackStableMs})`);
  }
  if (thermal.lowC >= thermal.highC) fail('thermal.lowC', `(${thermal.lowC}) must be below thermal.highC (${thermal.highC})`);
  if (thermal.highC >= thermal.criticalC) fail('thermal.highC', `(${thermal.highC}) must be below thermal.criticalC (${thermal.criticalC})`);
  if (thermal.maxStepUpBackoff < 1) fail('thermal.maxStepUpBackoff', 'must be 1 or more');
  if (watchdog.minHashrateRatio <= 0 || watchdog.minHashrateRatio > 1) fail('watchdog.minHashrateRatio', 'must be above 0 and at most 1');
  if (watchdog.maxActionsPerHour < 1) fail('watchdog.maxActionsPerHour', 'must be 1 or more');
  if (watchdog.maxHwErrorsPerMinute < 0) fail('watchdog.maxHwErrorsPerMinute', 'must not be negative');
  return errors;
}

/** A rig's spec: identity, pools, profiles, expectations, and its parameter overrides. */
export function validateRigSpec(spec: RigSpec, path = 'rig', fleetDefaults?: PolicyParamsOverrides): PolicyValidationError[] {
  const errors: PolicyValidationError[] = [];
  const fail = (key: string, message: string) => errors.push({ path: `${path}.${key}`, message });
  if (!spec.rigId.trim()) fail('rigId', 'must not be empty');
  if (spec.kind !== 'asic' && spec.kind !== 'gpu') fail('kind', 'must be asic or gpu');
  const pools = new Map<string, number>();
  spec.pools.forEach((pool, i) => {
    if (!pool.url.trim()) fail(`pools[${i}].url`, 'must not be empty');
    const key = poolKey(pool);
    if (pools.has(key)) fail(`pools[${i}]`, `repeats pools[${pools.get(key)}] (${pool.url}, ${pool.user})`);
    else pools.set(key, i);
  });
  const profiles = new Map<string, number>();
  spec.profiles.forEach((profile, i) => {
    if (!profile.name.trim()) fail(`profiles[${i}].name`, 'must not be empty');
    if (profiles.has(profile.name)) fail(`profiles[${i}].name`, `repeats profiles[${profiles.get(profile.name)}]`);
    else profiles.set(profile.name, i);
    if (profile.expectedHashrateHs !== undefined && !(profile.expectedHashrateHs > 0)) fail(`profiles[${i}].expectedHashrateHs`, 'must be above 0');
  });
  if (spec.desiredProfile !== undefined && !profiles.has(spec.desiredProfile)) {
    fail('desiredProfile', `"${spec.desiredProfile}" is not one of the profiles (${[...profiles.keys()].join(', ') || 'none'})`);
  }
  if (spec.expectedHashrateHs !== undefined && !(spec.expectedHashrateHs > 0)) fail('expectedHashrateHs', 'must be above 0');
  for (const key of ['expectedBoards', 'expectedFans'] as const) {
    const value = spec[key];
    if (value !== undefined && !(Number.isInteger(value) && value >= 0)) fail(key, 'must be a whole number, 0 or more');
  }
  errors.push(...validatePolicyOverrides(spec.policy, `${path}.policy`, resolveParams(fleetDefaults)));
  return errors;
}
