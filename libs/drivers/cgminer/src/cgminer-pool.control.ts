import {
  DriverError, type CollectContext, type ControlAction, type ControlResult, type ControlStep, type MinerEndpoint, type PoolSpec,
} from '@rigwarden/drivers-core';
import type { CgminerClient, CgminerReply } from './cgminer.client';
import { statusEntries } from './cgminer.client';
import { count, section, str } from './cgminer-values.util';

/** How privileged commands reach the miner: plainly (cgminer with W: access) or inside a session (LuxOS). */
export interface PrivilegedChannel {
  send(command: string, parameter: string | undefined, ctx: CollectContext): Promise<CgminerReply>;
}

export class PlainChannel implements PrivilegedChannel {
  constructor(private readonly client: CgminerClient, private readonly endpoint: MinerEndpoint) {}

  send(command: string, parameter: string | undefined, ctx: CollectContext): Promise<CgminerReply> {
    return this.client.command(this.endpoint, command, parameter, { signal: ctx.signal });
  }
}

/** A pool as `pools` reports it, reduced to what control needs. */
export interface PoolEntry {
  id: number;
  url: string;
  user: string;
  status: string;
  priority: number;
  inUse: boolean;
}

export function poolEntries(reply: CgminerReply): PoolEntry[] {
  const pools = section(reply, 'POOLS').map((p, i) => ({
    id: count(p['POOL']) ?? i,
    url: str(p['URL']) ?? '',
    user: str(p['User']) ?? '',
    status: str(p['Status']) ?? '',
    priority: count(p['Priority']) ?? i,
    inUse: p['Stratum Active'] === true,
  }));
  const active = pools.filter((p) => p.inUse);
  if (active.length !== 1) {
    // None or several flagged: the best-priority alive one among the flagged (or all) is in use.
    const candidates = (active.length ? active : pools.filter((p) => p.status === 'Alive')).sort((a, b) => a.priority - b.priority);
    for (const p of pools) p.inUse = p === candidates[0];
  }
  return pools;
}

/** cgminer's addpool parameter: "url,user,pass" with "," and "\" escaped by a backslash. */
export function addPoolParameter(spec: PoolSpec): string {
  const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/,/g, '\\,');
  return [spec.url, spec.user, spec.password ?? 'x'].map(esc).join(',');
}

const samePool = (a: { url: string; user: string }, b: { url: string; user: string }): boolean =>
  a.url.trim() === b.url.trim() && a.user.trim() === b.user.trim();

/**
 * Pool control for cgminer-compatible firmware: the single commands with the
 * firmware's rules checked first (so the error says why), and setPools as
 * read, modify, write, verify. Failures come back as `ok: false` with a typed
 * DriverError, including a miner that dies in the middle of a command.
 */
export class CgminerPoolControl {
  constructor(
    private readonly client: CgminerClient,
    private readonly endpoint: MinerEndpoint,
    private readonly channel: PrivilegedChannel,
  ) {}

  async readPools(ctx: CollectContext): Promise<PoolEntry[]> {
    return poolEntries(await this.client.command(this.endpoint, 'pools', undefined, { signal: ctx.signal }));
  }

  async control(action: ControlAction, ctx: CollectContext): Promise<ControlResult> {
    try {
      const message = await this.perform(action, ctx);
      return { ok: true, action: action.kind, message };
    } catch (err) {
      return { ok: false, action: action.kind, error: this.asDriverError(err, action.kind) };
    }
  }

  private async perform(action: ControlAction, ctx: CollectContext): Promise<string> {
    switch (action.kind) {
      case 'switchpool':
        await this.requirePool(action.pool, ctx, 'switchpool');
        return this.sendChecked('switchpool', String(action.pool), ctx);
      case 'enablepool':
        await this.requirePool(action.pool, ctx, 'enablepool');
        return this.sendChecked('enablepool', String(action.pool), ctx);
      case 'disablepool': {
        const pools = await this.requirePool(action.pool, ctx, 'disablepool');
        const enabled = pools.filter((p) => p.status !== 'Disabled');
        if (enabled.length === 1 && enabled[0]!.id === action.pool) {
          throw this.rule('disablepool', `pool ${action.pool} is the last enabled pool; the firmware refuses to disable it`);
        }
        return this.sendChecked('disablepool', String(action.pool), ctx);
      }
      case 'removepool': {
        const pools = await this.requirePool(action.pool, ctx, 'removepool');
        if (pools.length === 1) throw this.rule('removepool', `pool ${action.pool} is the last pool; the firmware refuses to remove it`);
        if (pools.find((p) => p.id === action.pool)?.inUse) {
          throw this.rule('removepool', `pool ${action.pool} is the pool in use; switch to another pool before removing it`);
        }
        return this.sendChecked('removepool', String(action.pool), ctx);
      }
      case 'addpool':
        if (!action.spec.url.trim() || !action.spec.user.trim()) throw this.rule('addpool', 'a pool needs a URL and a user');
        return this.sendChecked('addpool', addPoolParameter(action.spec), ctx);
      case 'poolpriority': {
        const pools = await this.readPools(ctx);
        const ids = new Set(pools.map((p) => p.id));
        if (action.order.length === 0) throw this.rule('poolpriority', 'an empty priority list');
        if (new Set(action.order).size !== action.order.length) throw this.rule('poolpriority', `duplicate pool in ${action.order.join(',')}`);
        const unknown = action.order.filter((id) => !ids.has(id));
        if (unknown.length) throw this.rule('poolpriority', `unknown pool ${unknown.join(',')}; the miner has ${[...ids].join(',')}`);
        return this.sendChecked('poolpriority', action.order.join(','), ctx);
      }
      case 'restart': {
        const message = await this.sendChecked('restart', undefined, ctx);
        if (!action.waitForApiMs) return message;
        return `${message}; ${await this.waitForApi(action.waitForApiMs, ctx)}`;
      }
      case 'quit':
        return this.sendChecked('quit', undefined, ctx);
      case 'frequency':
        if (!Number.isFinite(action.mhz) || action.mhz <= 0) throw this.rule('ascset', `invalid frequency ${action.mhz}`);
        return this.sendChecked('ascset', `0,frequency,${Math.round(action.mhz)}`, ctx);
      case 'workmode':
        // Canaan's syntax (Avalon 11xx and later): ascset|0,workmode,set,N.
        if (!Number.isInteger(action.mode) || action.mode < 0) throw this.rule('ascset', `invalid work mode ${action.mode}`);
        return this.sendChecked('ascset', `0,workmode,set,${action.mode}`, ctx);
    }
  }

  /**
   * Makes the pool list exactly `wanted`, in order: adds what is missing, enables,
   * orders by priority, switches to the first, removes the rest (highest id first,
   * since cgminer renumbers after a remove), then rereads pools to verify.
   */
  async setPools(wanted: PoolSpec[], ctx: CollectContext): Promise<ControlResult> {
    const steps: ControlStep[] = [];
    const step = async (command: string, parameter: string | undefined): Promise<void> => {
      try {
        const message = await this.sendChecked(command, parameter, ctx);
        steps.push({ command, parameter, ok: true, message });
      } catch (err) {
        steps.push({ command, parameter, ok: false, message: (err as Error).message });
        throw err;
      }
    };
    try {
      if (wanted.length === 0) throw this.rule('setpools', 'a miner needs at least one pool');
      for (const spec of wanted) if (!spec.url.trim() || !spec.user.trim()) throw this.rule('setpools', 'every pool needs a URL and a user');
      const dup = wanted.find((w, i) => wanted.findIndex((v) => samePool(v, w)) !== i);
      if (dup) throw this.rule('setpools', `${dup.url} (${dup.user}) is listed twice`);
      let pools = await this.readPools(ctx);
      for (const spec of wanted) {
        if (!pools.some((p) => samePool(p, spec))) await step('addpool', addPoolParameter(spec));
      }
      pools = await this.readPools(ctx);
      const used = new Set<number>();
      const ids = wanted.map((spec) => {
        const match = pools.find((p) => !used.has(p.id) && samePool(p, spec));
        if (!match) throw new DriverError('miner_error', `pool ${spec.url} is missing after addpool`, this.context('setpools'));
        used.add(match.id);
        return match;
      });
      for (const p of ids) if (p.status === 'Disabled') await step('enablepool', String(p.id));
      const rest = pools.filter((p) => !used.has(p.id)).map((p) => p.id);
      await step('poolpriority', [...ids.map((p) => p.id), ...rest].join(','));
      pools = await this.readPools(ctx);
      // Hash on the first listed pool that is alive; switching to a dead one would only make the miner fail over again.
      const listed = wanted.map((w) => pools.find((p) => samePool(p, w))).filter((p): p is PoolEntry => p !== undefined);
      const target = listed.find((p) => p.status === 'Alive') ?? listed[0];
      if (target && !target.inUse) await step('switchpool', String(target.id));
      pools = await this.readPools(ctx);
      const isExtra = (p: PoolEntry): boolean => !wanted.some((w) => samePool(p, w)) || pools.filter((q) => samePool(q, p)).indexOf(p) > 0;
      const keptInUse = pools.find((p) => p.inUse && isExtra(p));
      for (const id of pools.filter((p) => isExtra(p) && p !== keptInUse).map((p) => p.id).sort((a, b) => b - a)) {
        await step('removepool', String(id));
      }
      if (keptInUse) {
        throw new DriverError('miner_error', `the pool in use (${keptInUse.url}) is not in the list and no listed pool took over; `
          + 'it was left in place (the firmware refuses to remove the active pool)', this.context('setpools'));
      }
      // Verify by rereading: enabled pools by priority must be exactly the wanted list.
      const after = (await this.readPools(ctx)).filter((p) => p.status !== 'Disabled').sort((a, b) => a.priority - b.priority);
      const ok = after.length === wanted.length && after.every((p, i) => samePool(p, wanted[i]!));
      if (!ok) {
        throw new DriverError('miner_error', `verification failed: the miner reports ${after.map((p) => p.url).join(', ') || 'no pools'}`,
          this.context('setpools'));
      }
      return { ok: true, action: 'setpools', message: `pools set: ${wanted.map((w) => w.url).join(', ')}`, steps };
    } catch (err) {
      return { ok: false, action: 'setpools', error: this.asDriverError(err, 'setpools'), steps };
    }
  }

  /** Polls `version` until the API answers again; the re-exec can also fail for good. */
  private async waitForApi(limitMs: number, ctx: CollectContext): Promise<string> {
    const started = performance.now();
    let last: unknown;
    while (performance.now() - started < limitMs) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      if (ctx.signal.aborted) break;
      try {
        await this.client.command(this.endpoint, 'version', undefined, { signal: ctx.signal });
        return `API back after ${Math.round(performance.now() - started)} ms`;
      } catch (err) {
        last = err;
      }
    }
    throw new DriverError('timeout', `the miner accepted restart but its API did not answer within ${limitMs} ms`,
      this.context('restart'), { cause: last });
  }

  private async requirePool(id: number, ctx: CollectContext, command: string): Promise<PoolEntry[]> {
    if (!Number.isInteger(id) || id < 0) throw this.rule(command, `invalid pool number ${id}`);
    const pools = await this.readPools(ctx);
    if (!pools.some((p) => p.id === id)) {
      throw this.rule(command, `no pool ${id}; the miner has ${pools.map((p) => p.id).join(',') || 'none'}`);
    }
    return pools;
  }

  private async sendChecked(command: string, parameter: string | undefined, ctx: CollectContext): Promise<string> {
    const reply = await this.channel.send(command, parameter, ctx);
    const status = statusEntries(reply)[0];
    return typeof status?.Msg === 'string' ? status.Msg : String(status?.STATUS ?? 'ok');
  }

  private context(command: string): { host: string; port: number; command: string } {
    return { host: this.endpoint.host, port: this.endpoint.port, command };
  }

  private rule(command: string, message: string): DriverError {
    return new DriverError('bad_request', message, this.context(command));
  }

  private asDriverError(err: unknown, command: string): DriverError {
    if (err instanceof DriverError) return err;
    return new DriverError('miner_error', (err as Error)?.message ?? String(err), this.context(command), { cause: err });
  }
}
