import {
  DriverError, WriteTransactionError, type CollectContext, type ControlResult, type ControlStep, type MinerEndpoint, type PoolSpec,
  type RestoreOutcome,
} from '@rigwarden/drivers-core';
import type { PoolEntry, PrivilegedChannel } from './cgminer-pool.control';
import { addPoolParameter, samePool } from './cgminer-pool.control';
import { statusEntries } from './cgminer.client';

/** The miner's pools as one read shows them, and the pool in use when the firmware says so. */
export interface PoolState {
  pools: PoolEntry[];
}

/** cgminer's answer to removepool of the pool in use: "Cannot remove active pool 2:'...'". */
const CODE_ACTIVE_POOL = 67;

const listed = (pools: readonly PoolEntry[]): string => pools.map((p) => `${p.url} (${p.user}${p.status === 'Disabled' ? ', disabled' : ''})`).join(', ') || 'no pools';
const enabledByPriority = (pools: readonly PoolEntry[]): PoolEntry[] => pools.filter((p) => p.status !== 'Disabled').sort((a, b) => a.priority - b.priority);
const byPriority = (pools: readonly PoolEntry[]): PoolEntry[] => [...pools].sort((a, b) => a.priority - b.priority);

/**
 * set-pools as a transaction on cgminer-family firmware, planned from what the miner reports (pools are read first,
 * and again after every change that renumbers or reorders them):
 *
 *   1. addpool what is missing (before any switch, so the miner always has a pool to go to);
 *   2. enablepool the wanted pools that are disabled, poolpriority in the wanted order (cgminer then moves to the
 *      first alive pool itself);
 *   3. switchpool to the first alive wanted pool before removing the pool in use (cgminer 4.11.1 answers removepool
 *      of the active pool with Code 67); when the firmware does not say which pool is in use, the Code 67 reply
 *      says it, and the switch is made then;
 *   4. removepool the rest, highest number first (cgminer renumbers the pools above a removed one);
 *   5. poolpriority again if a switch reordered them, then verify by reading pools back.
 *
 * On any failure (a refusal, the miner dying half-way as bfgminer 5.5.0 does, a verification mismatch) the previous
 * pool list is put back as far as the firmware allows (removed pools re-added, added ones removed, priorities and
 * disabled pools as before) and checked by another read; the error reports both the failure and the restore.
 * cgminer 2.x does not join commands, so every command goes alone on its own connection.
 */
export class CgminerPoolTransaction {
  readonly steps: ControlStep[] = [];
  private restoring = false;

  constructor(
    private readonly endpoint: MinerEndpoint,
    private readonly channel: PrivilegedChannel,
    private readonly read: (ctx: CollectContext) => Promise<PoolState>,
  ) {}

  async run(wanted: readonly PoolSpec[], ctx: CollectContext): Promise<ControlResult> {
    const invalid = this.validate(wanted);
    if (invalid) return { ok: false, action: 'setpools', error: invalid, steps: this.steps };
    let before: PoolState;
    try {
      before = await this.read(ctx);
    } catch (err) {
      return { ok: false, action: 'setpools', error: this.asDriverError(err, 'pools'), steps: this.steps };
    }
    try {
      await this.apply(wanted, before, ctx);
      return { ok: true, action: 'setpools', message: `pools set: ${wanted.map((w) => w.url).join(', ')}`, steps: this.steps };
    } catch (err) {
      const failure = this.asDriverError(err, 'setpools');
      const restore = await this.restore(before, wanted, ctx);
      return { ok: false, action: 'setpools', error: new WriteTransactionError(failure, restore), steps: this.steps };
    }
  }

  private validate(wanted: readonly PoolSpec[]): DriverError | undefined {
    if (wanted.length === 0) return this.rule('a miner needs at least one pool');
    if (wanted.some((s) => !s.url.trim() || !s.user.trim())) return this.rule('every pool needs a URL and a user');
    const dup = wanted.find((w, i) => wanted.findIndex((v) => samePool(v, w)) !== i);
    if (dup) return this.rule(`${dup.url} (${dup.user}) is listed twice`);
    return undefined;
  }

  private async apply(wanted: readonly PoolSpec[], before: PoolState, ctx: CollectContext): Promise<void> {
    let state = before;
    let added = false;
    for (const spec of wanted) {
      if (!state.pools.some((p) => samePool(p, spec))) {
        await this.step('addpool', addPoolParameter(spec), ctx);
        added = true;
      }
    }
    if (added) state = await this.read(ctx);
    let ids = this.match(wanted, state);
    for (const p of ids) if (p.status === 'Disabled') await this.step('enablepool', String(p.id), ctx);
    await this.order(ids, state, ctx);
    state = await this.read(ctx);

    ids = this.match(wanted, state);
    const wantedIds = new Set(ids.map((p) => p.id));
    const extras = state.pools.filter((p) => !wantedIds.has(p.id)).map((p) => p.id).sort((a, b) => b - a);
    const inUse = state.pools.find((p) => p.inUse && p.confident);
    if (extras.length > 0 && inUse && !wantedIds.has(inUse.id)) {
      // Switch before remove: the firmware says the pool in use is one to remove.
      await this.switchToWanted(wanted, state, ctx);
    }
    for (const id of extras) await this.removeSwitchingIfActive(id, () => this.switchToWanted(wanted, undefined, ctx), ctx);
    state = await this.read(ctx);
    ids = this.match(wanted, state);
    await this.order(ids, state, ctx);

    const after = enabledByPriority((await this.read(ctx)).pools);
    const ok = after.length === wanted.length && after.every((p, i) => samePool(p, wanted[i]!));
    if (!ok) {
      throw new DriverError('miner_error', `verification failed: the miner reports ${listed(after)} instead of ${wanted.map((w) => w.url).join(', ')}`,
        this.context('setpools'));
    }
  }

  /** The miner's pool for each wanted spec (each miner pool used once). */
  private match(wanted: readonly PoolSpec[], state: PoolState): PoolEntry[] {
    const used = new Set<number>();
    return wanted.map((spec) => {
      const match = state.pools.find((p) => !used.has(p.id) && samePool(p, spec));
      if (!match) throw new DriverError('miner_error', `pool ${spec.url} (${spec.user}) is missing after addpool; the miner reports ${listed(state.pools)}`, this.context('addpool'));
      used.add(match.id);
      return match;
    });
  }

  /** poolpriority `first` then every other pool in its present order, unless the miner is in that order already. */
  private async order(first: readonly PoolEntry[], state: PoolState, ctx: CollectContext): Promise<void> {
    const firstIds = new Set(first.map((p) => p.id));
    const order = [...first.map((p) => p.id), ...byPriority(state.pools).filter((p) => !firstIds.has(p.id)).map((p) => p.id)];
    const present = byPriority(state.pools).map((p) => p.id);
    if (order.join(',') !== present.join(',')) await this.step('poolpriority', order.join(','), ctx);
  }

  /** switchpool to the first alive wanted pool (numbers read afresh: removals renumber). */
  private async switchToWanted(wanted: readonly PoolSpec[], known: PoolState | undefined, ctx: CollectContext): Promise<void> {
    const state = known ?? await this.read(ctx);
    const candidates = wanted.map((w) => state.pools.find((p) => samePool(p, w))).filter((p): p is PoolEntry => p !== undefined);
    const target = candidates.find((p) => p.status === 'Alive') ?? candidates[0];
    if (!target) throw new DriverError('miner_error', 'no wanted pool to switch to', this.context('switchpool'));
    await this.step('switchpool', String(target.id), ctx);
  }

  /** removepool; when the firmware answers Code 67 (it is the pool in use), switch away once and remove it then. */
  private async removeSwitchingIfActive(id: number, switchAway: () => Promise<void>, ctx: CollectContext): Promise<void> {
    try {
      await this.step('removepool', String(id), ctx);
    } catch (err) {
      if (!(err instanceof DriverError) || err.context.statusCode !== CODE_ACTIVE_POOL) throw err;
      await switchAway();
      await this.step('removepool', String(id), ctx);
    }
  }

  /**
   * Puts the pools of `before` back as far as the firmware allows, then rereads to say how far it got. Removed pools
   * are re-added with the password from the wanted list when it has the same pool, else "x": cgminer never reports
   * a pool's password.
   */
  private async restore(before: PoolState, wanted: readonly PoolSpec[], ctx: CollectContext): Promise<RestoreOutcome> {
    const writes = this.steps.filter((s) => !s.message.startsWith('restore:'));
    if (writes.length === 0) return { result: 'not-needed', message: 'nothing was changed' };
    if (writes.length === 1 && !writes[0]!.ok && writes[0]!.refused) {
      return { result: 'not-needed', message: `the miner refused the first change; its pools are as before (${listed(byPriority(before.pools))})` };
    }
    this.restoring = true;
    const previous = byPriority(before.pools);
    try {
      let state = await this.read(ctx);
      if (this.sameAs(state, before)) return { result: 'restored', message: `the miner's pools are as before (${listed(previous)})` };
      const readded: string[] = [];
      for (const p of previous) {
        if (state.pools.some((q) => samePool(q, p))) continue;
        const password = wanted.find((w) => samePool(w, p))?.password;
        await this.step('addpool', addPoolParameter({ url: p.url, user: p.user, password: password ?? 'x' }), ctx);
        if (password === undefined) readded.push(p.url);
      }
      state = await this.read(ctx);
      const back = this.matchPrevious(previous, state);
      for (const p of back) if (p.status === 'Disabled' && previous.find((b) => samePool(b, p))!.status !== 'Disabled') await this.step('enablepool', String(p.id), ctx);
      await this.order(back, state, ctx);
      state = await this.read(ctx);
      const keep = new Set(this.matchPrevious(previous, state).map((p) => p.id));
      const ours = state.pools.filter((p) => !keep.has(p.id)).map((p) => p.id).sort((a, b) => b - a);
      for (const id of ours) {
        await this.removeSwitchingIfActive(id, async () => {
          const now = await this.read(ctx);
          const home = this.matchPrevious(previous, now).find((p) => p.status === 'Alive') ?? this.matchPrevious(previous, now)[0];
          if (home) await this.step('switchpool', String(home.id), ctx);
        }, ctx);
      }
      state = await this.read(ctx);
      for (const p of this.matchPrevious(previous, state)) {
        const was = previous.find((b) => samePool(b, p))!;
        if (was.status === 'Disabled' && p.status !== 'Disabled') await this.step('disablepool', String(p.id), ctx);
      }
      state = await this.read(ctx);
      await this.order(this.matchPrevious(previous, state), state, ctx);
      const after = await this.read(ctx);
      const note = readded.length ? ` (${readded.join(', ')} re-added with password "x": the miner does not report passwords)` : '';
      if (this.sameAs(after, before)) return { result: 'restored', message: `restored the previous pools: ${listed(previous)}${note}` };
      return { result: 'partial', message: `could not fully restore the previous pools (${listed(previous)}): the miner now reports ${listed(byPriority(after.pools))}${note}` };
    } catch (err) {
      const e = this.asDriverError(err, 'restore');
      let now = '';
      try {
        now = `; the miner now reports ${listed(byPriority((await this.read(ctx)).pools))}`;
      } catch {
        now = '; the miner cannot be read now';
      }
      return { result: 'failed', message: `restoring the previous pools (${listed(previous)}) failed: ${e.message}${now}` };
    } finally {
      this.restoring = false;
    }
  }

  private matchPrevious(previous: readonly PoolEntry[], state: PoolState): PoolEntry[] {
    const used = new Set<number>();
    const out: PoolEntry[] = [];
    for (const b of previous) {
      const match = state.pools.find((p) => !used.has(p.id) && samePool(p, b));
      if (match) {
        used.add(match.id);
        out.push(match);
      }
    }
    return out;
  }

  /** Same pools (URL and user), in the same priority order, disabled where they were. */
  private sameAs(state: PoolState, before: PoolState): boolean {
    const a = byPriority(state.pools);
    const b = byPriority(before.pools);
    return a.length === b.length && a.every((p, i) => samePool(p, b[i]!) && (p.status === 'Disabled') === (b[i]!.status === 'Disabled'));
  }

  private async step(command: string, parameter: string, ctx: CollectContext): Promise<void> {
    const prefix = this.restoring ? 'restore: ' : '';
    try {
      const reply = await this.channel.send(command, parameter, ctx);
      const status = statusEntries(reply)[0];
      const message = typeof status?.Msg === 'string' ? status.Msg : String(status?.STATUS ?? 'ok');
      this.steps.push({ command, parameter, ok: true, message: `${prefix}${message}` });
    } catch (err) {
      const e = this.asDriverError(err, command);
      // A refusal with the miner's STATUS letter changed nothing; a lost connection may have.
      const refused = e.context.statusLetter === 'E' || e.context.statusLetter === 'F';
      this.steps.push({ command, parameter, ok: false, message: `${prefix}${e.message}`, ...(refused ? { refused } : {}) });
      throw e;
    }
  }

  private context(command: string): { host: string; port: number; command: string } {
    return { host: this.endpoint.host, port: this.endpoint.port, command };
  }

  private rule(message: string): DriverError {
    return new DriverError('bad_request', message, this.context('setpools'));
  }

  private asDriverError(err: unknown, command: string): DriverError {
    if (err instanceof DriverError) return err;
    return new DriverError('miner_error', (err as Error)?.message ?? String(err), this.context(command), { cause: err });
  }
}
