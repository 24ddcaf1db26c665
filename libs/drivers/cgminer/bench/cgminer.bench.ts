/**
 * cgminer benchmarks. Run:  npx esbuild libs/drivers/cgminer/bench/cgminer.bench.ts --bundle --platform=node \
 *   --outfile=tmp/cgminer.bench.js && node tmp/cgminer.bench.js   (or through `npm run bench -- cgminer` once wired)
 *
 * 1. poll-cycle: one agent reads summary+pools+stats from 1,000 simulated miners on loopback (goal <= 2 s).
 * 2. scan: 1,024 addresses on 127.0.x.y, half populated, 20 of those hanging (goal <= 5 s).
 * Prints one JSON line per result, then a table. Simulators and client share this process (and its event loop):
 * the numbers are pessimistic for the client alone.
 */
// A benchmark harness, like a spec, drives the simulators (benches are linted with the specs' boundaries).
import { CgminerSimulator, startCgminerFleet, type SimDialect } from '@rigwarden/simulators';
import { CgminerClient } from '../src/cgminer.client';
import { driverRegistry } from '@rigwarden/drivers-core';
import { scanAll } from '../src/discovery/cgminer-discovery.scanner';
import '../src/index';

interface BenchResult {
  bench: string;
  value: number;
  unit: string;
  goal: number;
  ok: boolean;
  detail: Record<string, unknown>;
}

async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

async function pollCycle(miners: number, concurrency: number, mode: 'client' | 'driver'): Promise<BenchResult> {
  const dialects: SimDialect[] = ['cgminer', 'antminer', 'whatsminer', 'avalon'];
  const sims = Array.from({ length: miners }, (_, i) => new CgminerSimulator({ dialect: dialects[i % dialects.length], lifetimeMs: 120_000 }));
  const endpoints = await Promise.all(sims.map((s) => s.start()));
  const client = new CgminerClient({ connectTimeoutMs: 2000, totalTimeoutMs: 5000 });
  const drivers = endpoints.map((e, i) => driverRegistry.create(dialects[i % dialects.length]!, e));
  let failures = 0;
  const once = async (): Promise<number> => {
    const started = performance.now();
    await pool(endpoints.map((e, i) => ({ e, i })), concurrency, async ({ e, i }) => {
      try {
        if (mode === 'client') await client.commands(e, ['summary', 'pools', 'stats']);
        else await drivers[i]!.collect({ signal: AbortSignal.timeout(5000), deadlineMs: 5000 });
      } catch {
        failures++;
      }
    });
    return performance.now() - started;
  };
  await once(); // warm-up: JIT, and the drivers learn which commands join
  const runs = [await once(), await once(), await once()].sort((a, b) => a - b);
  await Promise.all(sims.map((s) => s.stop()));
  const median = runs[1]!;
  return {
    bench: `poll-cycle-${mode}`, value: Math.round(median), unit: 'ms', goal: 2000, ok: median <= 2000 && failures === 0,
    detail: { miners, concurrency, runsMs: runs.map(Math.round), failures, commands: mode === 'client' ? 'summary+pools+stats' : 'each dialect\'s collect' },
  };
}

async function scan(): Promise<BenchResult> {
  // 127.0.4.0 - 127.0.7.255: 1,024 addresses; every other one populated; 20 of those accept and never answer.
  const hosts = Array.from({ length: 1024 }, (_, i) => `127.0.${4 + Math.floor(i / 256)}.${i % 256}`);
  const populated = hosts.filter((_, i) => i % 2 === 1);
  const fleet = await startCgminerFleet({
    hosts: populated, dialects: ['antminer', 'whatsminer', 'avalon', 'braiins', 'luxos', 'cgminer'], hanging: 20, lifetimeMs: 120_000,
  });
  const { port } = fleet;
  const started = performance.now();
  const results = await scanAll({ targets: ['127.0.4.0-127.0.7.255'], port });
  const elapsed = performance.now() - started;
  await fleet.stop();
  const counts = { identified: 0, responsive: 0, unresponsive: 0 };
  for (const r of results) counts[r.class]++;
  return {
    bench: 'scan-1024', value: Math.round(elapsed), unit: 'ms', goal: 5000,
    ok: elapsed <= 5000 && counts.identified === 492 && counts.responsive === 20 && counts.unresponsive === 512,
    detail: { addresses: hosts.length, populated: populated.length, hanging: fleet.miners.filter((s) => s.fault === 'hang').length, ...counts, hostDeadlineMs: 3000 },
  };
}

export async function runCgminerBench(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const run of [() => pollCycle(1000, 256, 'client'), () => pollCycle(1000, 256, 'driver'), scan]) {
    const r = await run();
    console.log(JSON.stringify(r));
    results.push(r);
  }
  console.log('');
  console.log('bench                 result     goal   ok');
  for (const r of results) console.log(`${r.bench.padEnd(20)} ${`${r.value} ${r.unit}`.padStart(9)} ${`${r.goal} ${r.unit}`.padStart(9)}   ${r.ok ? 'yes' : 'NO'}`);
  return results;
}

if (require.main === module) {
  runCgminerBench().then((rs) => process.exit(rs.every((r) => r.ok) ? 0 : 1), (err) => {
    console.error(err);
    process.exit(1);
  });
}
