import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { validatePolicyOverrides, validateRigSpec, type PolicyParamsOverrides, type PoolSpec, type ProfileSpec, type RigSpec } from '@rigwarden/policy';
import { FleetError } from './fleet-error';

/** Profiles, desired profile and expected hashrate for one miner model inside a group. */
export interface ModelOverride {
  profiles?: ProfileSpec[];
  desiredProfile?: string;
  expectedHashrateHs?: number;
}

export interface FleetGroup {
  name: string;
  /**
   * Which rigs belong. Rig ids: listed in rigIds or starting with rigIdPrefix (either one); labels: every one must
   * equal the rig's label. When both ids and labels are given, both must fit. The first matching group wins.
   */
  match: { rigIds: string[]; rigIdPrefix?: string; labels: Record<string, string> };
  kind: 'asic' | 'gpu';
  pools: PoolSpec[];
  profiles: ProfileSpec[];
  desiredProfile?: string;
  expectedHashrateHs?: number;
  policy?: PolicyParamsOverrides;
  /**
   * Per-model settings, keyed by model name: the longest key found (case-insensitive) in the rig's model, the
   * `model` label or else the model its first miner reports, replaces the group's profiles / desiredProfile /
   * expectedHashrateHs for that rig.
   */
  models: Record<string, ModelOverride>;
}

export interface FleetSpec {
  groups: FleetGroup[];
  /** Fleet-wide policy parameter overrides. */
  policy?: PolicyParamsOverrides;
}

/** What the fleet layer needs to know about a rig to give it a spec. */
export interface RigIdentity {
  rigId: string;
  labels?: Readonly<Record<string, string>>;
  /** The model the miner reports (the `model` label wins over it). */
  model?: string;
}

export const EMPTY_FLEET: FleetSpec = { groups: [] };

type Obj = Record<string, unknown>;

const GROUP_KEYS = ['name', 'match', 'kind', 'pools', 'profiles', 'desiredProfile', 'expectedHashrateHs', 'policy', 'models'];
const PROFILE_KEYS = ['name', 'asic', 'gpu', 'expectedHashrateHs'];
const ASIC_KEYS = ['frequencyMhz', 'workMode', 'powerMode', 'powerTargetW'];
/** The named power modes a profile may step through (the drivers' PowerMode). */
const POWER_MODES = ['normal', 'low', 'sleep'];
const GPU_KEYS = ['powerLimitW', 'coreClockMhz', 'memoryClockMhz'];

/** Reads and validates a fleet file; errors name the file and the key path. */
export function loadFleetSpec(file: string): FleetSpec {
  const path = resolve(file);
  return parseFleetYaml(readFleetFile(path), path);
}

export function readFleetFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new FleetError('invalid_argument', `${path}: cannot read the fleet file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** Parses fleet YAML text; `source` (a file, or "fleet_yaml" for the API) starts every error message. */
export function parseFleetYaml(text: string, source: string): FleetSpec {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new FleetError('invalid_argument', `${source}: (top level): not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`, '(top level)');
  }
  let raw: unknown;
  try {
    // An alias bomb ("billion laughs") stops here: yaml counts alias expansions against the aliases' size.
    raw = doc.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT });
  } catch (err) {
    throw new FleetError('invalid_argument', `${source}: (top level): refused: ${(err as Error).message.split('\n')[0]} (at most ${MAX_YAML_ALIAS_COUNT} alias expansions)`, '(top level)');
  }
  return parseFleetSpec(raw, source);
}

/** yaml's own default, stated: a fleet spec has no reason to expand aliases more than this. */
export const MAX_YAML_ALIAS_COUNT = 100;

export function parseFleetSpec(raw: unknown, source: string): FleetSpec {
  const fail = (at: string, message: string): never => {
    throw new FleetError('invalid_argument', `${source}: ${at}: ${message}`, at);
  };
  const obj = (value: unknown, at: string): Obj => (value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Obj : fail(at, 'must be a mapping'));
  const known = (o: Obj, at: string, allowed: string[]): void => {
    for (const key of Object.keys(o)) if (!allowed.includes(key)) fail(`${at}.${key}`, `unknown key; allowed: ${allowed.join(', ')}`);
  };
  const optionalNumber = (o: Obj, key: string, at: string): number | undefined => {
    const value = o[key];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) fail(`${at}.${key}`, `must be a number, got ${JSON.stringify(value)}`);
    return value as number | undefined;
  };
  const optionalString = (o: Obj, key: string, at: string): string | undefined => {
    const value = o[key];
    if (value !== undefined && (typeof value !== 'string' || value === '')) fail(`${at}.${key}`, `must be a non-empty string, got ${JSON.stringify(value)}`);
    return value as string | undefined;
  };
  const stringMap = (value: unknown, at: string): Record<string, string> => {
    const o = obj(value ?? {}, at);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(o)) {
      const text = typeof v === 'number' && Number.isFinite(v) ? String(v) : v;
      if (typeof text !== 'string' || text === '') fail(`${at}.${k}`, `must be a non-empty string, got ${JSON.stringify(v)}`);
      out[k] = text as string;
    }
    return out;
  };
  const profilesOf = (value: unknown, at: string): ProfileSpec[] => {
    if (!Array.isArray(value)) fail(at, 'must be a list of { name, asic | gpu, expectedHashrateHs }, lowest first');
    return (value as unknown[]).map((p, j): ProfileSpec => {
      const pat = `${at}[${j}]`;
      const po = obj(p, pat);
      known(po, pat, PROFILE_KEYS);
      if (typeof po['name'] !== 'string' || po['name'].trim() === '') fail(`${pat}.name`, 'is required (a string)');
      let asic: ProfileSpec['asic'];
      if (po['asic'] !== undefined) {
        const a = obj(po['asic'], `${pat}.asic`);
        known(a, `${pat}.asic`, ASIC_KEYS);
        const workMode = a['workMode'];
        if (workMode !== undefined && typeof workMode !== 'string' && typeof workMode !== 'number') fail(`${pat}.asic.workMode`, 'must be a string or a number');
        const powerMode = a['powerMode'];
        if (powerMode !== undefined && (typeof powerMode !== 'string' || !POWER_MODES.includes(powerMode))) fail(`${pat}.asic.powerMode`, `must be one of ${POWER_MODES.join(', ')}`);
        const powerTargetW = optionalNumber(a, 'powerTargetW', `${pat}.asic`);
        if (powerTargetW !== undefined && (!Number.isInteger(powerTargetW) || powerTargetW < 1 || powerTargetW > 100_000)) fail(`${pat}.asic.powerTargetW`, 'must be a whole number of watts from 1 to 100000');
        asic = stripUndefined({
          frequencyMhz: optionalNumber(a, 'frequencyMhz', `${pat}.asic`), workMode: workMode === undefined ? undefined : String(workMode),
          powerMode: powerMode as string | undefined, powerTargetW,
        });
      }
      let gpu: ProfileSpec['gpu'];
      if (po['gpu'] !== undefined) {
        const g = obj(po['gpu'], `${pat}.gpu`);
        known(g, `${pat}.gpu`, GPU_KEYS);
        gpu = stripUndefined({
          powerLimitW: optionalNumber(g, 'powerLimitW', `${pat}.gpu`),
          coreClockMhz: optionalNumber(g, 'coreClockMhz', `${pat}.gpu`),
          memoryClockMhz: optionalNumber(g, 'memoryClockMhz', `${pat}.gpu`),
        });
      }
      return stripUndefined({ name: po['name'] as string, asic, gpu, expectedHashrateHs: optionalNumber(po, 'expectedHashrateHs', pat) });
    });
  };

  const root = obj(raw ?? {}, '(top level)');
  for (const key of Object.keys(root)) if (!['groups', 'policy'].includes(key)) fail(key, 'unknown key; allowed: groups, policy');
  const fleetPolicy = root['policy'] as PolicyParamsOverrides | undefined;
  const policyErrors = validatePolicyOverrides(fleetPolicy, 'policy');
  if (policyErrors.length > 0) fail(policyErrors[0]!.path, policyErrors[0]!.message);
  const groupsRaw = root['groups'] ?? [];
  if (!Array.isArray(groupsRaw)) fail('groups', 'must be a list of groups');
  const names = new Map<string, number>();
  const groups = (groupsRaw as unknown[]).map((g, i): FleetGroup => {
    const at = `groups[${i}]`;
    const o = obj(g, at);
    known(o, at, GROUP_KEYS);
    if (typeof o['name'] !== 'string' || o['name'] === '') fail(`${at}.name`, 'is required (a string)');
    const name = o['name'] as string;
    if (names.has(name)) fail(`${at}.name`, `"${name}" repeats groups[${names.get(name)}].name: group names must be unique`);
    names.set(name, i);
    const match = obj(o['match'] ?? {}, `${at}.match`);
    known(match, `${at}.match`, ['rigIds', 'rigIdPrefix', 'labels']);
    const rigIds = match['rigIds'] ?? [];
    if (!Array.isArray(rigIds) || !rigIds.every((r) => typeof r === 'string' && r !== '')) fail(`${at}.match.rigIds`, 'must be a list of rig ids');
    const rigIdPrefix = optionalString(match, 'rigIdPrefix', `${at}.match`);
    const labels = stringMap(match['labels'], `${at}.match.labels`);
    if ((rigIds as string[]).length === 0 && rigIdPrefix === undefined && Object.keys(labels).length === 0) {
      fail(`${at}.match`, 'needs rigIds, rigIdPrefix or labels');
    }
    const kind = o['kind'] ?? 'asic';
    if (kind !== 'asic' && kind !== 'gpu') fail(`${at}.kind`, `must be asic or gpu, got ${JSON.stringify(kind)}`);
    const pools = o['pools'] ?? [];
    if (!Array.isArray(pools)) fail(`${at}.pools`, 'must be a list of { url, user, password }');
    const models: Record<string, ModelOverride> = {};
    for (const [model, value] of Object.entries(obj(o['models'] ?? {}, `${at}.models`))) {
      const mat = `${at}.models[${model}]`;
      if (model.trim() === '') fail(`${at}.models`, 'model names must be non-empty');
      const mo = obj(value, mat);
      known(mo, mat, ['profiles', 'desiredProfile', 'expectedHashrateHs']);
      models[model] = stripUndefined({
        profiles: mo['profiles'] === undefined ? undefined : profilesOf(mo['profiles'], `${mat}.profiles`),
        desiredProfile: optionalString(mo, 'desiredProfile', mat),
        expectedHashrateHs: optionalNumber(mo, 'expectedHashrateHs', mat),
      });
    }
    const group: FleetGroup = stripUndefined({
      name,
      match: stripUndefined({ rigIds: rigIds as string[], rigIdPrefix, labels }),
      kind: kind as 'asic' | 'gpu',
      pools: (pools as unknown[]).map((p, j) => {
        const po = obj(p, `${at}.pools[${j}]`);
        known(po, `${at}.pools[${j}]`, ['url', 'user', 'password']);
        if (typeof po['url'] !== 'string') fail(`${at}.pools[${j}].url`, 'is required');
        return stripUndefined({ url: po['url'] as string, user: String(po['user'] ?? ''), password: po['password'] === undefined ? undefined : String(po['password']) });
      }),
      profiles: profilesOf(o['profiles'] ?? [], `${at}.profiles`),
      desiredProfile: optionalString(o, 'desiredProfile', at),
      expectedHashrateHs: optionalNumber(o, 'expectedHashrateHs', at),
      policy: o['policy'] as PolicyParamsOverrides | undefined,
      models,
    });
    const errors = validateRigSpec(specOf(group, 'group-check'), at, fleetPolicy);
    if (errors.length > 0) fail(errors[0]!.path.replace(`${at}.rigId`, `${at}.name`), errors[0]!.message);
    for (const model of Object.keys(models)) {
      const mat = `${at}.models[${model}]`;
      const modelErrors = validateRigSpec(specOf(group, 'group-check', model), mat, fleetPolicy).filter((e) => !e.path.startsWith(`${mat}.policy`));
      if (modelErrors.length > 0) fail(modelErrors[0]!.path, modelErrors[0]!.message);
    }
    return group;
  });
  return stripUndefined({ groups, policy: fleetPolicy });
}

function stripUndefined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as Array<keyof T>) if (value[key] === undefined) delete value[key];
  return value;
}

function specOf(group: FleetGroup, rigId: string, modelKey?: string): RigSpec {
  const model = modelKey === undefined ? undefined : group.models[modelKey];
  const profiles = model?.profiles ?? group.profiles;
  return stripUndefined({
    rigId, kind: group.kind, group: group.name, pools: group.pools, profiles,
    desiredProfile: model?.desiredProfile ?? (model?.profiles ? undefined : group.desiredProfile),
    expectedHashrateHs: model?.expectedHashrateHs ?? group.expectedHashrateHs, policy: group.policy,
  });
}

function identity(rig: RigIdentity | string): RigIdentity {
  return typeof rig === 'string' ? { rigId: rig } : rig;
}

/** The rig's model for the fleet spec: its `model` label, else the model its miner reports. */
export function modelOf(rig: RigIdentity): string | undefined {
  return rig.labels?.['model'] || rig.model || undefined;
}

/** Whether a group's match fits a rig (ids: either criterion; labels: all; both kinds given: both). */
export function groupMatches(group: FleetGroup, rig: RigIdentity): boolean {
  const { rigIds, rigIdPrefix, labels } = group.match;
  const byId = rigIds.length > 0 || rigIdPrefix !== undefined;
  if (byId && !(rigIds.includes(rig.rigId) || (rigIdPrefix !== undefined && rig.rigId.startsWith(rigIdPrefix)))) return false;
  return Object.entries(labels).every(([k, v]) => rig.labels?.[k] === v);
}

/** The group that governs a rig: the first one whose match fits. */
export function groupForRig(fleet: FleetSpec, rig: RigIdentity | string): FleetGroup | undefined {
  const id = identity(rig);
  return fleet.groups.find((g) => groupMatches(g, id));
}

/** The key of group.models that applies to a model: the longest found in it, case-insensitively. */
export function modelKeyFor(group: FleetGroup, model: string | undefined): string | undefined {
  if (!model) return undefined;
  const m = model.toLowerCase();
  let best: string | undefined;
  for (const key of Object.keys(group.models)) {
    if (m.includes(key.toLowerCase()) && (best === undefined || key.length > best.length)) best = key;
  }
  return best;
}

/** The rig's spec from the first group that matches it; undefined when no group does (no policy acts on it). */
export function specForRig(fleet: FleetSpec, rig: RigIdentity | string): RigSpec | undefined {
  const id = identity(rig);
  const group = groupForRig(fleet, id);
  return group ? specOf(group, id.rigId, modelKeyFor(group, modelOf(id))) : undefined;
}
