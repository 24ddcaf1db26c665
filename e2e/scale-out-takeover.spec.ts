/**
 * Takeover with real processes (issue 18 item 3): three built controllers on one PostgreSQL (a schema of their own,
 * dropped afterwards; --database, --replica-id), one broker (MQTT_URL, else an in-process aedes), the built agent
 * reading a simulated farm. No fleet spec: only the operator's commands act, so every command and every restart the
 * simulators count is the test's own.
 *
 * 1. kill -9 the owner of a rig while a restart it sent is pending (the agent is held with SIGSTOP, so no result
 *    comes back): every shard is leased again by the two others within 15 s, the new owner resumes the command under a
 *    newer epoch, and once the agent runs again the miner counts exactly one restart.
 * 2. SIGSTOP a controller longer than its lease (10 s: the controller has no flag for shorter ones) while a restart it
 *    sent is pending, and resume it after the other controller took its shards and finished the command: it sends
 *    nothing after the takeover, and the agent refuses nothing (no stale lease epoch), because nothing stale arrives.
 * 3. Telemetry: every snapshot the agent made is stored or still in its outbox (no seq missing inside its run), so
 *    nothing the broker acknowledged was lost through the kill and the pause.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AsicRigState } from '@rigwarden/simulators';
import { samplesOf, valueOf, type ParsedExposition } from '../apps/controller/src/metrics/prometheus-text.parser';
import { report } from './scenario-harness';
import { LEASE_MS, NOW_MS, SHARDS, ScaleOut } from './scale-out-harness';

jest.setTimeout(60_000);
const RIGS = Array.from({ length: 10 }, (_, i) => `so-${String(i + 1).padStart(2, '0')}`);
const IDS = ['ctl-1', 'ctl-2', 'ctl-3'];
// BIGINT columns come back from pg as text: as numbers here.
const COMMAND_COLUMNS = 'SELECT id, state, sent_by, lease_epoch::float8 AS lease_epoch, attempts::float8 AS attempts, sent_at::float8 AS sent_at';

interface CommandRow { id: string; state: string; sent_by: string | null; lease_epoch: number | null; attempts: number; sent_at: number | null }

describe('scale-out: takeover with real processes (3 controllers on PostgreSQL)', () => {
  let so: ScaleOut;
  const rows = <T>(sql: string, params: unknown[] = []): Promise<T[]> => so.rows<T>(sql, params);
  const leased = (): Promise<Map<string, number>> => so.leased();
  const ownerOf = (rigId: string): Promise<string> => so.ownerOf(rigId);
  const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> => so.until(what, probe, timeoutMs);
  const scrape = (id: string): Promise<ParsedExposition> => so.scrape(id);
  const commandOf = async (rigId: string): Promise<CommandRow | undefined> =>
    (await rows<CommandRow>(`${COMMAND_COLUMNS} FROM commands WHERE rig_id = $1`, [rigId]))[0];
  const restarts = async (rigId: string): Promise<number> => (await so.rig<AsicRigState>(rigId)).restarts;

  /** Holds the agent (SIGSTOP), has `via` send a restart of `rigId`, and waits until it is SENT by `via`. */
  async function pendingRestart(via: string, rigId: string): Promise<CommandRow> {
    so.agent!.child.kill('SIGSTOP');
    const sent = await so.rigctl(so.controllers.get(via)!.grpc, 'restart', rigId, '--no-wait', '--json', '--reason', 'e2e takeover');
    expect(sent.code).toBe(0);
    return until(`the restart of ${rigId} sent by ${via}`, async () => {
      const c = await commandOf(rigId);
      return c?.state === 'SENT' && c.sent_by === via ? c : undefined;
    }, 10_000);
  }

  beforeAll(async () => {
    so = await ScaleOut.start({
      name: 'so', replicas: IDS, pollMs: 1000,
      farm: {
        pools: [{ name: 'pool-a', notifyIntervalMs: 500 }],
        rigs: RIGS.map((id) => ({ id, kind: 'asic', dialect: 'cgminer', pools: ['pool-a'] })),
        mining: { shareIntervalMs: 500 }, restartDownMs: 300,
      },
    });
  }, 45_000);

  afterAll(async () => {
    await so?.stop();
  });

  it('kill -9 of an owner and SIGSTOP of another: rigs owned again within 15 s, pending commands run once, nothing sent by the paused one, no telemetry lost', async () => {
    const started = Date.now();
    await until('every rig reporting and the shards split over three', async () => {
      const l = await leased();
      const [{ n }] = await rows<{ n: number }>('SELECT COUNT(DISTINCT rig_id)::int AS n FROM snapshots');
      return n === RIGS.length && IDS.every((id) => (l.get(id) ?? 0) >= 21) ? l : undefined;
    }, 20_000);

    // 1. kill -9 of the owner of so-01 while its restart is pending.
    const r1 = RIGS[0]!;
    const o1 = await ownerOf(r1);
    const c1 = await pendingRestart(o1, r1);
    so.controllers.get(o1)!.proc.child.kill('SIGKILL');
    const killedAt = Date.now();
    const survivors = IDS.filter((id) => id !== o1);
    await until('every shard leased again by the survivors', async () => {
      const l = await leased();
      return survivors.reduce((sum, id) => sum + (l.get(id) ?? 0), 0) === SHARDS ? true : undefined;
    }, 20_000);
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThanOrEqual(15_000);
    // The survivors' /metrics say the same: every shard owned by one of them, each with its epoch; the takeovers counted.
    const scraped = await Promise.all(survivors.map((id) => scrape(id)));
    expect(scraped.reduce((sum, p) => sum + valueOf(p, 'rigwarden_ownership_shards_owned'), 0)).toBe(SHARDS);
    for (const p of scraped) expect(samplesOf(p, 'rigwarden_ownership_lease_epoch')).toHaveLength(valueOf(p, 'rigwarden_ownership_shards_owned'));
    expect(scraped.reduce((sum, p) => sum + valueOf(p, 'rigwarden_ownership_takeovers_total'), 0)).toBeGreaterThanOrEqual(SHARDS);
    expect(scraped.map((p) => valueOf(p, 'rigwarden_ownership_live_replicas'))).toEqual([2, 2]);
    const resumed1 = await until('the restart resumed by the new owner', async () => {
      const c = await commandOf(r1);
      return c && c.sent_by !== o1 ? c : undefined;
    }, 10_000);
    expect(resumed1).toMatchObject({ id: c1.id, state: 'SENT', sent_by: await ownerOf(r1) });
    expect(resumed1.lease_epoch!).toBeGreaterThan(c1.lease_epoch!);
    so.agent!.child.kill('SIGCONT');
    await until('the resumed restart succeeded', async () => ((await commandOf(r1))?.state === 'SUCCEEDED' ? true : undefined), 15_000);
    expect(await restarts(r1)).toBe(1);

    // 2. SIGSTOP of the owner of another rig, longer than its lease, while its restart is pending.
    await until('the shards split over the two survivors', async () => {
      const l = await leased();
      return survivors.every((id) => l.get(id) === SHARDS / 2) ? true : undefined;
    }, 15_000);
    const byOwner = await Promise.all(RIGS.slice(1).map(async (r) => [r, await ownerOf(r)] as const));
    const [r2, x] = byOwner[0]!;
    const y = survivors.find((id) => id !== x)!;
    const c2 = await pendingRestart(x, r2);
    so.controllers.get(x)!.proc.child.kill('SIGSTOP');
    const pausedAt = Date.now();
    await until(`every shard leased by ${y}`, async () => ((await leased()).get(y) === SHARDS ? true : undefined), 20_000);
    const pauseTakeoverMs = Date.now() - pausedAt;
    const resumed2 = await until(`the restart of ${r2} resumed by ${y}`, async () => {
      const c = await commandOf(r2);
      return c?.sent_by === y ? c : undefined;
    }, 10_000);
    expect(resumed2.lease_epoch!).toBeGreaterThan(c2.lease_epoch!);
    so.agent!.child.kill('SIGCONT');
    // Resumed once it finished there, and not before its lease time has passed since the pause (longer than its lease).
    await until(`the restart of ${r2} succeeded`, async () => ((await commandOf(r2))?.state === 'SUCCEEDED' && Date.now() - pausedAt > LEASE_MS ? true : undefined), 15_000);
    // SIGCONT: wait for two of its lease rounds (its heartbeat moves twice), time for any stale retry to go out.
    const [{ now: resumedDb }] = await rows<{ now: number }>(`SELECT ${NOW_MS}::float8 AS now`);
    so.controllers.get(x)!.proc.child.kill('SIGCONT');
    const pausedMs = Date.now() - pausedAt;
    let firstBeat = 0;
    await until(`${x} running its lease rounds again`, async () => {
      const [b] = await rows<{ seen_at: number }>('SELECT seen_at::float8 AS seen_at FROM replicas WHERE replica_id = $1', [x]);
      if (!b || b.seen_at <= resumedDb) return undefined;
      if (firstBeat === 0) firstBeat = b.seen_at;
      return b.seen_at > firstBeat ? true : undefined;
    }, 10_000);
    const sentByPaused = await rows<CommandRow>(`${COMMAND_COLUMNS} FROM commands WHERE sent_by = $1 AND sent_at > $2`, [x, pausedAt]);
    expect(sentByPaused).toEqual([]);
    expect((await commandOf(r2))).toMatchObject({ state: 'SUCCEEDED', sent_by: y });
    expect(so.agent!.output()).not.toMatch(/stale lease epoch/);
    const outcomes = await rows<{ outcome: string }>('SELECT DISTINCT outcome FROM command_results');
    expect(outcomes).toEqual([{ outcome: 'COMMAND_OUTCOME_SUCCEEDED' }]);

    // 3. Telemetry: stop the agent, then every seq of its run is stored or still in its outbox.
    await so.agent!.stop('SIGTERM', 5000);
    let previous = -1;
    const stored = await until('the stored snapshots settled', async () => {
      const [{ n }] = await rows<{ n: number }>('SELECT COUNT(*)::int AS n FROM snapshots');
      const settled = n === previous;
      previous = n;
      return settled ? n : undefined;
    }, 10_000);
    const queued = outboxKeys(join(so.dir.path, 'agent', 'outbox'));
    const seqs = await rows<{ rig_id: string; seq: number }>('SELECT rig_id, seq::float8 AS seq FROM snapshots ORDER BY rig_id, seq');
    const lost: string[] = [];
    for (const rig of RIGS) {
      const have = new Set([...seqs.filter((s) => s.rig_id === rig).map((s) => s.seq), ...(queued.get(rig) ?? [])]);
      const first = Math.min(...have);
      const last = Math.max(...have);
      // A rig's first seq is a multiple of 1,000 (its block's start: nothing before it is missing); no gaps after it.
      if (first % 1000 !== 0) lost.push(`${rig}: first seq ${first}`);
      for (let s = first; s <= last; s++) if (!have.has(s)) lost.push(`${rig}/${s}`);
    }
    expect(lost).toEqual([]);
    // Exactly one restart ran for each command, and none anywhere else.
    expect(await Promise.all(RIGS.map((r) => restarts(r)))).toEqual(RIGS.map((r) => (r === r1 || r === r2 ? 1 : 0)));
    report('scale-out-takeover', { rigs: RIGS.length, killTakeoverMs: takeoverMs, pausedMs, pauseTakeoverMs, stored, queuedInOutbox: [...queued.values()].reduce((a, s) => a + s.size, 0), totalMs: Date.now() - started });
  });
});

/** The (rig, seq) keys of the snapshots still queued in the agent's outbox, read from disk (past its cursor). */
function outboxKeys(outbox: string): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  if (!existsSync(outbox)) return out;
  const cursorFile = join(outbox, 'cursor.json');
  const cursor = existsSync(cursorFile) ? JSON.parse(readFileSync(cursorFile, 'utf8')) as { segment: number; line: number } : { segment: 0, line: 0 };
  for (const name of readdirSync(outbox).sort()) {
    const m = /^seg-(\d{12})\.jsonl$/.exec(name);
    if (!m || Number(m[1]) < cursor.segment) continue;
    const lines = readFileSync(join(outbox, name), 'utf8').split('\n').filter(Boolean);
    for (const line of Number(m[1]) === cursor.segment ? lines.slice(cursor.line) : lines) {
      try {
        const { key } = JSON.parse(line) as { key?: string };
        if (!key?.startsWith('t\u0000')) continue;
        const [rig, seq] = key.slice(2).split('\u0000');
        const set = out.get(rig!) ?? new Set<number>();
        set.add(Number(seq));
        out.set(rig!, set);
      } catch { /* a torn last line: the agent counts it */ }
    }
  }
  return out;
}
