import { OneShotCgminerServer } from './one-shot-cgminer.server';
import { replyText, step } from './recorded-session';

export type PoolProgram = 'cgminer-4.11.1' | 'cgminer-2.11.4' | 'bfgminer-5.5.0';

export interface TestPool {
  url: string;
  user: string;
  password: string;
  status: 'Alive' | 'Dead' | 'Disabled';
  priority: number;
  stratumActive: boolean;
}

/** A scripted behaviour: the reply bytes for a request (an empty buffer closes with no bytes), or undefined for the model's. */
export type Fault = (command: string, parameter: string | undefined, server: CgminerPoolsTestServer) => Buffer | undefined;

const SESSION: Record<PoolProgram, string> = {
  'cgminer-4.11.1': 'cgminer-4.11.1',
  'cgminer-2.11.4': 'cgminer-2.11.4',
  'bfgminer-5.5.0': 'bfgminer-5.5.0/full-session-crashed',
};

/**
 * A loopback cgminer API holding a pool list, with the pool rules the real programs showed in
 * testdata/real-sessions (and cgminer's api.c): switchpool moves the pool to priority 0 and the ones above it down;
 * poolpriority reorders and then the miner moves to the first alive enabled pool; removepool of the pool in use is
 * refused with Code 67 and otherwise renumbers the pools above; addpool appends. Replies use each program's exact
 * formats: the pools records are the recorded ones with the fields changed, the STATUS messages are the recorded
 * wording ("Added pool 2: 'url'" on 4.11.1, "Added pool 'url'" on 2.11.4 and bfgminer), lcd exists on 4.11.1 only,
 * joined commands on 4.11.1 and bfgminer only. `fault` scripts a failure (a refusal, the miner dying half-way).
 */
export class CgminerPoolsTestServer extends OneShotCgminerServer {
  pools: TestPool[];
  current = 0;
  /** Every privileged command answered Code 45, as with --api-allow R:. */
  readOnly = false;
  /** false: poolpriority reorders but the miner stays on its pool for now (bfgminer's --failover-switch-delay). */
  switchOnPriority = true;
  fault: Fault | undefined;
  private readonly poolTemplate: Record<string, unknown>;
  private readonly description: string;

  constructor(readonly program: PoolProgram, pools: Array<Partial<TestPool> & { url: string; user: string }>) {
    super();
    this.pools = pools.map((p, i) => ({ password: 'x', status: 'Alive', priority: i, stratumActive: i === 0, ...p }));
    const recorded = JSON.parse(replyText(step(SESSION[program], '04-pools'))) as { POOLS: Record<string, unknown>[]; STATUS: { Description: string }[] };
    this.poolTemplate = recorded.POOLS[0]!;
    this.description = recorded.STATUS[0]!.Description;
  }

  /** The process dies (bfgminer's "free(): invalid pointer"): connections are refused from now on. */
  async die(): Promise<void> {
    await this.stop();
  }

  /** Pool URLs by priority, disabled ones marked. */
  byPriority(): string[] {
    return [...this.pools].sort((a, b) => a.priority - b.priority).map((p) => (p.status === 'Disabled' ? `${p.url} (disabled)` : p.url));
  }

  writes(): string[] {
    return this.requests.filter((r) => !/"command":"(pools|lcd)"/.test(r));
  }

  protected answer(request: string): Buffer {
    let command = '';
    let parameter: string | undefined;
    try {
      const parsed = JSON.parse(request) as { command?: unknown; parameter?: unknown };
      command = typeof parsed.command === 'string' ? parsed.command : '';
      parameter = parsed.parameter === undefined ? undefined : String(parsed.parameter);
    } catch {
      return this.status('E', 23, 'Invalid JSON');
    }
    const scripted = this.fault?.(command, parameter, this);
    if (scripted) return scripted;
    const privileged = ['switchpool', 'addpool', 'removepool', 'enablepool', 'disablepool', 'poolpriority'];
    if (privileged.includes(command) && this.readOnly) return this.status('E', 45, `Access denied to '${command}' command`);
    switch (command) {
      case 'pools': return this.poolsReply();
      case 'lcd': return this.program === 'cgminer-4.11.1' ? this.lcdReply() : this.status('E', 14, 'Invalid command');
      case 'switchpool': return this.withPool(parameter, (i) => {
        this.moveToTop(i);
        if (this.pools[i]!.status === 'Disabled') this.pools[i]!.status = 'Alive';
        // cgminer 2.11.4 drops the stratum connection of the pool it is told to leave (recorded step 41); 4.11.1 and
        // bfgminer keep it, and no program drops it on a switch it makes itself after poolpriority.
        if (this.program === 'cgminer-2.11.4' && this.current !== i) this.pools[this.current]!.stratumActive = false;
        this.current = i;
        this.pools[i]!.stratumActive = true;
        return this.status('S', 27, `Switching to pool ${i}:'${this.pools[i]!.url}'`);
      });
      case 'addpool': {
        const fields = (parameter ?? '').split(/(?<!\\),/).map((f) => f.replace(/\\(.)/g, '$1'));
        if (fields.length < 3 || !fields[0] || !fields[1]) return this.status('E', 53, `Invalid addpool details '${parameter ?? ''}'`);
        this.pools.push({ url: fields[0], user: fields[1], password: fields[2]!, status: 'Alive', priority: this.pools.length, stratumActive: false });
        const n = this.pools.length - 1;
        return this.status('S', 55, this.program === 'cgminer-4.11.1' ? `Added pool ${n}: '${fields[0]}'` : `Added pool '${fields[0]}'`);
      }
      case 'removepool': return this.withPool(parameter, (i) => {
        const pool = this.pools[i]!;
        if (this.pools.length === 1) return this.status('E', 66, 'Cannot remove last pool');
        if (i === this.current) return this.status('E', 67, `Cannot remove active pool ${i}:'${pool.url}'`);
        this.pools.splice(i, 1);
        if (this.current > i) this.current--;
        [...this.pools].sort((a, b) => a.priority - b.priority).forEach((p, prio) => { p.priority = prio; });
        return this.status('S', 68, `Removed pool ${i}:'${pool.url}'`);
      });
      case 'enablepool': return this.withPool(parameter, (i) => {
        const pool = this.pools[i]!;
        if (pool.status !== 'Disabled') return this.status('I', 49, `Pool ${i}:'${pool.url}' already enabled`);
        pool.status = 'Alive';
        return this.status('S', 47, `Enabling pool ${i}:'${pool.url}'`);
      });
      case 'disablepool': return this.withPool(parameter, (i) => {
        const pool = this.pools[i]!;
        if (pool.status === 'Disabled') return this.status('I', 50, `Pool ${i}:'${pool.url}' already disabled`);
        if (this.pools.filter((p) => p.status !== 'Disabled').length === 1) return this.status('E', 52, `Cannot disable last enabled pool ${i}:'${pool.url}'`);
        pool.status = 'Disabled';
        if (i === this.current) this.failover();
        return this.status('S', 48, `Disabling pool ${i}:'${pool.url}'`);
      });
      case 'poolpriority': {
        const ids = (parameter ?? '').split(',').map((v) => Number(v));
        const bad = ids.find((id) => !Number.isInteger(id) || id < 0 || id >= this.pools.length);
        if (bad !== undefined) return this.status('E', 26, `Invalid pool id ${bad} - range is 0 - ${this.pools.length - 1}`);
        const rest = [...this.pools.keys()].filter((i) => !ids.includes(i)).sort((a, b) => this.pools[a]!.priority - this.pools[b]!.priority);
        [...ids, ...rest].forEach((id, prio) => { this.pools[id]!.priority = prio; });
        if (this.switchOnPriority) this.failover();
        return this.status('S', 73, 'Changed pool priorities');
      }
      default:
        return this.status('E', 14, 'Invalid command');
    }
  }

  /** cgminer's switch_pools(NULL) with the failover strategy: the first alive enabled pool by priority. */
  private failover(): void {
    const next = [...this.pools.keys()].filter((i) => this.pools[i]!.status === 'Alive').sort((a, b) => this.pools[a]!.priority - this.pools[b]!.priority)[0];
    if (next === undefined) return;
    this.current = next;
    this.pools[next]!.stratumActive = true; // the pool left keeps its stratum connection (and flag) for a while
  }

  /** switchpool: the chosen pool gets priority 0, the ones that were above it move down one. */
  private moveToTop(i: number): void {
    const was = this.pools[i]!.priority;
    for (const p of this.pools) if (p.priority < was) p.priority++;
    this.pools[i]!.priority = 0;
  }

  private withPool(parameter: string | undefined, body: (i: number) => Buffer): Buffer {
    if (parameter === undefined) return this.status('E', 25, 'Missing pool id parameter');
    const i = Number(parameter);
    if (!Number.isInteger(i) || i < 0 || i >= this.pools.length) return this.status('E', 26, `Invalid pool id ${parameter} - range is 0 - ${this.pools.length - 1}`);
    return body(i);
  }

  private status(letter: string, code: number, msg: string): Buffer {
    const status = { STATUS: letter, When: 1795320344, Code: code, Msg: msg, ...(code === 14 && this.program === 'cgminer-4.11.1' ? {} : { Description: this.description }) };
    return Buffer.from(`${JSON.stringify({ STATUS: [status], id: 1 })}\u0000`, 'latin1');
  }

  private poolsReply(): Buffer {
    const records = this.pools.map((p, i) => ({
      ...this.poolTemplate, POOL: i, URL: p.url, Status: p.status, Priority: p.priority, User: p.user, 'Stratum Active': p.stratumActive,
    }));
    const status = { STATUS: 'S', When: 1795320344, Code: 7, Msg: `${this.pools.length} Pool(s)`, Description: this.description };
    return Buffer.from(`${JSON.stringify({ STATUS: [status], POOLS: records, id: 1 })}\u0000`, 'latin1');
  }

  private lcdReply(): Buffer {
    const recorded = JSON.parse(replyText(step('cgminer-4.11.1', '14-lcd'))) as { STATUS: unknown[]; LCD: Record<string, unknown>[] };
    const pool = this.pools[this.current]!;
    return Buffer.from(`${JSON.stringify({ STATUS: recorded.STATUS, LCD: [{ ...recorded.LCD[0], 'Current Pool': pool.url, User: pool.user }], id: 1 })}\u0000`, 'latin1');
  }
}
