import { DriverError, type CollectContext, type ControlStep, type PoolSpec } from '@rigwarden/drivers-core';
import {
  SaveAction, type GetMinerConfigurationResponse, type GetPoolGroupsResponse, type PoolConfiguration, type PoolGroupConfiguration,
  type SetPoolGroupsRequest, type SetPoolGroupsResponse,
} from './bos-messages';
import type { BraiinsGrpcClient } from './braiins-grpc.client';
import { BraiinsGrpcError } from './braiins-grpc.error';

/** A pool group as Rigwarden writes it: a name, its pools in failover order, and the group's quota. */
export interface PoolGroupSpec {
  name: string;
  pools: PoolSpec[];
  /** Share of the work when there are several groups (quota strategy); 1 by default. */
  quota?: number;
}

export const DEFAULT_GROUP_NAME = 'Rigwarden';

/**
 * Pool writes through PoolService/SetPoolGroups, which replaces every group at once (and, with SAVE_AND_APPLY,
 * restarts bosminer). What was configured is read from ConfigurationService/GetMinerConfiguration, whose groups
 * carry the pool passwords that PoolService/GetPoolGroups leaves out, so a reorder keeps them. Every write is
 * verified by reading GetPoolGroups back.
 */
export class BraiinsPoolControl {
  constructor(
    private readonly client: BraiinsGrpcClient,
    private readonly where: { host: string; port: number },
    /** How long the read-back may take (bosminer restarts to apply), and the pause between tries. */
    private readonly timing: { verifyWaitMs: number; pause: (ctx: CollectContext) => Promise<void> },
  ) {}

  /** The configured groups, ready to send back (uids removed: SetPoolGroups generates them). */
  async configuredGroups(ctx: CollectContext, steps: ControlStep[]): Promise<PoolGroupConfiguration[]> {
    const config = await this.client.call<GetMinerConfigurationResponse>('ConfigurationService', 'GetMinerConfiguration', {}, ctx);
    steps.push({ command: 'ConfigurationService/GetMinerConfiguration', ok: true, message: `${config.pool_groups.length} pool group(s)` });
    if (config.pool_groups.length === 0) {
      // Recorded 25.07-26.04 configurations list no pool groups while GET /pools shows one: take the live groups,
      // which have no passwords (a rewrite sends the pools without one).
      const live = await this.client.call<GetPoolGroupsResponse>('PoolService', 'GetPoolGroups', {}, ctx);
      steps.push({ command: 'PoolService/GetPoolGroups', ok: true, message: `${live.pool_groups.length} pool group(s); the configuration lists none, so pool passwords are not known` });
      return live.pool_groups.map((g) => ({
        name: g.name ?? '',
        ...(g.strategy === 'fixed_share_ratio' && g.fixed_share_ratio ? { fixed_share_ratio: g.fixed_share_ratio } : { quota: { value: g.quota?.value ?? 1 } }),
        pools: g.pools.map((p): PoolConfiguration => ({ url: p.url ?? '', user: p.user ?? '', enabled: p.enabled ?? false })),
      }));
    }
    return config.pool_groups.map((g) => ({
      name: g.name,
      ...(g.load_balance_strategy === 'fixed_share_ratio' && g.fixed_share_ratio ? { fixed_share_ratio: g.fixed_share_ratio } : { quota: { value: g.quota?.value ?? 1 } }),
      pools: g.pools.map((p): PoolConfiguration => ({
        url: p.url, user: p.user, ...(p.password !== undefined ? { password: p.password } : {}), enabled: p.enabled ?? true,
      })),
    }));
  }

  /** Replaces every group with `groups`, then reads them back and checks each pool's url and user, in order. */
  async write(groups: PoolGroupConfiguration[], ctx: CollectContext, steps: ControlStep[]): Promise<void> {
    const request: SetPoolGroupsRequest = { save_action: SaveAction.SAVE_AND_APPLY, pool_groups: groups };
    const summary = groups.map((g) => `${g.name}: ${g.pools.map((p) => p.url).join(', ')}`).join('; ');
    try {
      await this.client.call<SetPoolGroupsResponse>('PoolService', 'SetPoolGroups', request, ctx);
    } catch (err) {
      steps.push({ command: 'PoolService/SetPoolGroups', parameter: summary, ok: false, message: err instanceof Error ? err.message : String(err), refused: true });
      throw err;
    }
    steps.push({ command: 'PoolService/SetPoolGroups', parameter: summary, ok: true, message: 'accepted (bosminer restarts to apply)' });
    // Read back until the miner shows the groups: while bosminer restarts to apply them it may not answer.
    const until = Date.now() + Math.min(this.timing.verifyWaitMs, Math.max(0, ctx.deadlineMs - 500));
    for (;;) {
      let seen: string;
      try {
        const mismatch = compare(groups, await this.client.call<GetPoolGroupsResponse>('PoolService', 'GetPoolGroups', {}, ctx));
        if (mismatch === undefined) {
          steps.push({ command: 'PoolService/GetPoolGroups', ok: true, message: 'the miner shows the pools written' });
          return;
        }
        seen = mismatch;
      } catch (err) {
        if (!(err instanceof DriverError) || err.kind === 'access_denied' || err.kind === 'aborted') throw err;
        seen = `no answer to the read-back (${err.message})`;
      }
      if (Date.now() >= until || ctx.signal.aborted) {
        steps.push({ command: 'PoolService/GetPoolGroups', ok: false, message: seen });
        throw new BraiinsGrpcError('miner_error', `the miner accepted the pool groups but shows otherwise: ${seen}`, { ...this.where, command: 'PoolService/SetPoolGroups' });
      }
      await this.timing.pause(ctx);
    }
  }
}

/** One group with `pools` in this order, under the name of the group it replaces. */
export function singleGroup(pools: readonly PoolSpec[], name = DEFAULT_GROUP_NAME): PoolGroupConfiguration {
  return {
    name,
    quota: { value: 1 },
    pools: pools.map((p) => ({ url: p.url, user: p.user, ...(p.password !== undefined ? { password: p.password } : {}), enabled: true })),
  };
}

export function groupsFromSpecs(specs: readonly PoolGroupSpec[]): PoolGroupConfiguration[] {
  return specs.map((s) => ({ ...singleGroup(s.pools, s.name), quota: { value: s.quota ?? 1 } }));
}

/** Where the miner's groups differ from what was written, in words; undefined when they match. */
export function compare(written: readonly PoolGroupConfiguration[], read: GetPoolGroupsResponse): string | undefined {
  const got = read.pool_groups;
  if (got.length !== written.length) return `${got.length} group(s) instead of ${written.length}`;
  for (let g = 0; g < written.length; g++) {
    const want = written[g]!;
    const have = got[g]!;
    if ((have.name ?? '') !== want.name) return `group ${g + 1} is named "${have.name ?? ''}", not "${want.name}"`;
    if (have.pools.length !== want.pools.length) return `group "${want.name}" has ${have.pools.length} pool(s), not ${want.pools.length}`;
    for (let p = 0; p < want.pools.length; p++) {
      const w = want.pools[p]!;
      const h = have.pools[p]!;
      if ((h.url ?? '') !== w.url || (h.user ?? '') !== w.user) {
        return `group "${want.name}" pool ${p + 1} is ${h.url ?? ''} (${h.user ?? ''}), not ${w.url} (${w.user})`;
      }
    }
  }
  return undefined;
}

/**
 * The pool numbered `index` as the reading numbers them (every group's pools in order) moved to the front of its
 * group: bosminer tries a group's pools in order, so it becomes the one mining. Undefined when there is no such pool.
 */
export function withPoolFirst(groups: PoolGroupConfiguration[], index: number): PoolGroupConfiguration[] | undefined {
  let seen = 0;
  for (let g = 0; g < groups.length; g++) {
    const pools = groups[g]!.pools;
    if (index < seen + pools.length) {
      const at = index - seen;
      const reordered = [pools[at]!, ...pools.filter((_, i) => i !== at)].map((p, i) => (i === 0 ? { ...p, enabled: true } : p));
      return groups.map((group, i) => (i === g ? { ...group, pools: reordered } : group));
    }
    seen += pools.length;
  }
  return undefined;
}

/** The pools reordered as `order` (pool numbers as read, first tried first); pools left out keep their place after. */
export function withPoolOrder(groups: PoolGroupConfiguration[], order: readonly number[]): PoolGroupConfiguration[] | undefined {
  const flat = groups.flatMap((g, gi) => g.pools.map((p, pi) => ({ g: gi, p: pi, pool: p })));
  if (order.some((n) => !Number.isInteger(n) || n < 0 || n >= flat.length) || new Set(order).size !== order.length) return undefined;
  return groups.map((group, gi) => {
    const mine = order.map((n) => flat[n]!).filter((e) => e.g === gi).map((e) => e.pool);
    const rest = group.pools.filter((p) => !mine.includes(p));
    return { ...group, pools: [...mine, ...rest] };
  });
}
