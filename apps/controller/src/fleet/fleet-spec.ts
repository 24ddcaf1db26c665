import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { validatePolicyOverrides, validateRigSpec, type PolicyParamsOverrides, type PoolSpec, type ProfileSpec, type RigSpec } from '@rigwarden/policy';
import { FleetError } from './fleet-error';

export interface FleetGroup {
  name: string;
  /** Which rigs belong: explicit ids and/or an id prefix. The first matching group wins. */
  match: { rigIds: string[]; rigIdPrefix?: string };
  kind: 'asic' | 'gpu';
  pools: PoolSpec[];
  profiles: ProfileSpec[];
  desiredProfile?: string;
  expectedHashrateHs?: number;
  policy?: PolicyParamsOverrides;
}

export interface FleetSpec {
  groups: FleetGroup[];
  /** Fleet-wide policy parameter overrides. */
  policy?: PolicyParamsOverrides;
}

export const EMPTY_FLEET: FleetSpec = { groups: [] };

type Obj = Record<string, unknown>;

/** Reads and validates a fleet file; errors name the file and the key path. */
export function loadFleetSpec(file: string): FleetSpec {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new FleetError('invalid_argument', `${path}: cannot read the fleet file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new FleetError('invalid_argument', `${path}: not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  return parseFleetSpec(doc.toJS(), path);
}

export function parseFleetSpec(raw: unknown, source: string): FleetSpec {
  const fail = (at: string, message: string): never => {
    throw new FleetError('invalid_argument', `${source}: ${at}: ${message}`, at);
  };
  const obj = (value: unknown, at: string): Obj => (value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Obj : fail(at, 'must be a mapping'));
  const root = obj(raw ?? {}, '(top level)');
  for (const key of Object.keys(root)) if (!['groups', 'policy'].includes(key)) fail(key, 'unknown key; allowed: groups, policy');
  const fleetPolicy = root['policy'] as PolicyParamsOverrides | undefined;
  const policyErrors = validatePolicyOverrides(fleetPolicy, 'policy');
  if (policyErrors.length > 0) fail(policyErrors[0]!.path, policyErrors[0]!.message);
  const groupsRaw = root['groups'] ?? [];
  if (!Array.isArray(groupsRaw)) fail('groups', 'must be a list of groups');
  const groups = (groupsRaw as unknown[]).map((g, i): FleetGroup => {
    const at = `groups[${i}]`;
    const o = obj(g, at);
    for (const key of Object.keys(o)) {
      if (!['name', 'match', 'kind', 'pools', 'profiles', 'desiredProfile', 'expectedHashrateHs', 'policy'].includes(key)) fail(`${at}.${key}`, 'unknown key');
    }
    if (typeof o['name'] !== 'string' || o['name'] === '') fail(`${at}.name`, 'is required (a string)');
    const match = obj(o['match'] ?? {}, `${at}.match`);
    const rigIds = match['rigIds'] ?? [];
    if (!Array.isArray(rigIds) || !rigIds.every((r) => typeof r === 'string')) fail(`${at}.match.rigIds`, 'must be a list of rig ids');
    if (match['rigIdPrefix'] !== undefined && typeof match['rigIdPrefix'] !== 'string') fail(`${at}.match.rigIdPrefix`, 'must be a string');
    if ((rigIds as string[]).length === 0 && match['rigIdPrefix'] === undefined) fail(`${at}.match`, 'needs rigIds or rigIdPrefix');
    const pools = o['pools'] ?? [];
    if (!Array.isArray(pools)) fail(`${at}.pools`, 'must be a list of { url, user, password }');
    const group: FleetGroup = {
      name: o['name'] as string,
      match: { rigIds: rigIds as string[], rigIdPrefix: match['rigIdPrefix'] as string | undefined },
      kind: (o['kind'] ?? 'asic') as 'asic' | 'gpu',
      pools: (pools as Obj[]).map((p, j) => {
        const po = obj(p, `${at}.pools[${j}]`);
        if (typeof po['url'] !== 'string') fail(`${at}.pools[${j}].url`, 'is required');
        return { url: po['url'] as string, user: String(po['user'] ?? ''), password: po['password'] === undefined ? undefined : String(po['password']) };
      }),
      profiles: (o['profiles'] ?? []) as ProfileSpec[],
      desiredProfile: o['desiredProfile'] as string | undefined,
      expectedHashrateHs: o['expectedHashrateHs'] as number | undefined,
      policy: o['policy'] as PolicyParamsOverrides | undefined,
    };
    const errors = validateRigSpec(specOf(group, 'group-check'), at, fleetPolicy);
    if (errors.length > 0) fail(errors[0]!.path.replace(`${at}.rigId`, `${at}.name`), errors[0]!.message);
    return group;
  });
  return { groups, policy: fleetPolicy };
}

function specOf(group: FleetGroup, rigId: string): RigSpec {
  return {
    rigId, kind: group.kind, group: group.name, pools: group.pools, profiles: group.profiles,
    desiredProfile: group.desiredProfile, expectedHashrateHs: group.expectedHashrateHs, policy: group.policy,
  };
}

/** The rig's spec from the first group that matches it; undefined when no group does (no policy acts on it). */
export function specForRig(fleet: FleetSpec, rigId: string): RigSpec | undefined {
  const group = fleet.groups.find((g) => g.match.rigIds.includes(rigId) || (g.match.rigIdPrefix !== undefined && rigId.startsWith(g.match.rigIdPrefix)));
  return group ? specOf(group, rigId) : undefined;
}
