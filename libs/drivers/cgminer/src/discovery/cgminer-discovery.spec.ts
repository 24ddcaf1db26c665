import { spawn } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { CgminerSimulator, type SimDialect } from '@rigwarden/simulators';
import { scanAll, scanCgminer, type ScanResult } from './cgminer-discovery.scanner';
import { expandTargets, ScanTargetError } from './scan-targets.parser';
import { runProbeCommand, runScanCommand } from '../cli/cgminer.cli';

describe('scan targets', () => {
  it('expands CIDR, single addresses, ports and dash ranges without duplicates', () => {
    expect(expandTargets(['10.0.0.0/30']).map((t) => t.host)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(expandTargets(['10.0.0.8/31', '10.0.0.9']).map((t) => t.host)).toEqual(['10.0.0.8', '10.0.0.9']);
    expect(expandTargets(['10.0.0.5:4029'])).toEqual([{ host: '10.0.0.5', port: 4029 }]);
    expect(expandTargets(['10.0.0.250-252', '10.0.0.251-10.0.1.1'])).toHaveLength(8);
    expect(expandTargets(['127.0.0.0/22'])).toHaveLength(1022);
  });

  it('refuses nonsense and accidental huge ranges with a clear error', () => {
    for (const bad of ['10.0.0', '10.0.0.256', '10.0.0.0/33', '10.0.0.0/8', '10.0.0.9-3', 'x.y:1']) {
      expect(() => expandTargets([bad])).toThrow(ScanTargetError);
    }
  });
});

describe('scanCgminer over loopback 127.0.0.x', () => {
  const sims: CgminerSimulator[] = [];
  let port = 0;
  let http: Server | undefined;

  beforeAll(async () => {
    const layout: { host: string; dialect: SimDialect; fault?: 'hang' | 'close-without-reply' }[] = [
      { host: '127.0.0.2', dialect: 'antminer' },
      { host: '127.0.0.3', dialect: 'whatsminer' },
      { host: '127.0.0.4', dialect: 'braiins' },
      { host: '127.0.0.5', dialect: 'cgminer', fault: 'hang' },
      { host: '127.0.0.6', dialect: 'cgminer', fault: 'close-without-reply' },
    ];
    for (const { host, dialect, fault } of layout) {
      const sim = new CgminerSimulator({ host, port, dialect, lifetimeMs: 20_000 });
      port = (await sim.start()).port;
      if (fault) sim.fault = fault;
      sims.push(sim);
    }
    // Something else listens on 127.0.0.7 at the same port: an HTTP server, not a miner.
    http = createServer((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')));
    await new Promise<void>((resolve) => http!.listen(port, '127.0.0.7', resolve));
  });
  afterAll(async () => {
    for (const sim of sims) await sim.stop();
    await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
  });

  it('classifies every address and a hanging host cannot stall the scan', async () => {
    const started = performance.now();
    const results = await scanAll({ targets: ['127.0.0.0/29', '127.0.0.7'], port, hostDeadlineMs: 400, identifyTimeoutMs: 400, probeTimeoutMs: 200 });
    const elapsed = performance.now() - started;
    const byHost = Object.fromEntries(results.map((r) => [r.host, r]));
    expect(Object.keys(byHost).sort()).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7']);
    expect(byHost['127.0.0.7']).toMatchObject({ class: 'responsive', reason: 'parse' });
    expect(byHost['127.0.0.2']).toMatchObject({ class: 'identified', identification: { dialect: 'antminer', support: 'full' } });
    expect(byHost['127.0.0.3']).toMatchObject({ class: 'identified', identification: { dialect: 'whatsminer' }, firmware: 'btminer 20201202.22.REL' });
    expect(byHost['127.0.0.2']).toMatchObject({ model: 'Antminer S19 Pro', firmware: 'bmminer 1.0.0' });
    expect(byHost['127.0.0.2']!.hashrateHs! / sims[0]!.totalHashrateHs()).toBeCloseTo(1, 6);
    expect(byHost['127.0.0.4']).toMatchObject({ class: 'identified', identification: { dialect: 'braiins' }, firmware: 'bosminer 0.2.0-d360818' });
    expect(byHost['127.0.0.5']).toMatchObject({ class: 'responsive', reason: 'timeout' });
    expect(byHost['127.0.0.6']).toMatchObject({ class: 'responsive', reason: 'connection_refused_by_api' });
    expect(byHost['127.0.0.1']).toMatchObject({ class: 'unresponsive', reason: 'refused' });
    expect(byHost['127.0.0.5']!.durationMs).toBeLessThan(700);
    expect(elapsed).toBeLessThan(1500);
  });

  it('streams results as found: identified hosts arrive before the hanging one gives up', async () => {
    const order: ScanResult[] = [];
    for await (const r of scanCgminer({ targets: ['127.0.0.2-7'], port, hostDeadlineMs: 500, identifyTimeoutMs: 500 })) order.push(r);
    const hangIndex = order.findIndex((r) => r.host === '127.0.0.5');
    expect(hangIndex).toBe(order.length - 1);
    expect(order.slice(0, 3).every((r) => r.class === 'identified' || r.class === 'responsive')).toBe(true);
  });

  it('a host that drops SYNs is unresponsive after the probe deadline, not the identify one', async () => {
    // A listener that never accepts, its backlog filled: further connects hang like a silent firewall.
    const child = spawn(process.execPath, ['-e', [
      "const s = require('net').createServer();",
      "s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => process.stdout.write(s.address().port + '\\n',",
      '  () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20000)));',
    ].join('')]);
    const held: Socket[] = [];
    try {
      const silentPort = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
      for (let i = 0; i < 4; i++) held.push(connect({ host: '127.0.0.1', port: silentPort }).on('error', () => undefined));
      await new Promise((r) => setTimeout(r, 200));
      const [result] = await scanAll({ targets: [`127.0.0.1:${silentPort}`], probeTimeoutMs: 200, identifyTimeoutMs: 2000 });
      expect(result).toMatchObject({ class: 'unresponsive', reason: 'timeout' });
      expect(result!.durationMs).toBeLessThan(600);
    } finally {
      for (const s of held) s.destroy();
      child.kill();
    }
  });

  it('stops promptly when the caller aborts', async () => {
    const controller = new AbortController();
    const seen: ScanResult[] = [];
    const started = performance.now();
    for await (const r of scanCgminer({ targets: ['127.0.0.0/24'], port, probeConcurrency: 4, signal: controller.signal })) {
      seen.push(r);
      if (seen.length === 3) controller.abort();
    }
    expect(seen.length).toBeLessThan(20);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('rigwarden-agent scan prints a table line per responsive host and a summary; --json prints JSON lines', async () => {
    const lines: string[] = [];
    expect(await runScanCommand([`127.0.0.2-4`, '--port', String(port)], (l) => lines.push(l))).toBe(0);
    expect(lines.filter((l) => l.includes('identified ')).length).toBe(3);
    expect(lines.find((l) => l.startsWith('127.0.0.2'))).toMatch(/identified +antminer {2}Antminer S19 Pro {2}bmminer 1\.0\.0 {2}90\.30 TH\/s {2}via antminer:\d+ \(read only\) +\d+ ms$/);
    expect(lines.at(-1)).toBe('3 identified, 0 responsive but unidentified, 0 unresponsive');
    const json: string[] = [];
    expect(await runScanCommand(['127.0.0.2', '--json', '--port', String(port)], (l) => json.push(l))).toBe(0);
    expect(JSON.parse(json[0]!)).toMatchObject({ class: 'identified', host: '127.0.0.2', port });
    expect(await runScanCommand(['10.0.0.0/8'], () => undefined, () => undefined)).toBe(2);
  });

  it('rigwarden-agent probe prints one MinerSnapshot in proto3 JSON', async () => {
    const lines: string[] = [];
    const code = await runProbeCommand([`127.0.0.2:${port}`, '--json'], (l) => lines.push(l), (l) => lines.push(l), () => new Date('2026-11-22T06:00:00Z'));
    expect(code).toBe(0);
    const snapshot = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(snapshot).toMatchObject({ minerId: `127.0.0.2:${port}`, vendor: 'antminer', model: 'Antminer S19 Pro', driver: 'auto:antminer', collectedAt: '2026-11-22T06:00:00.000Z' });
    expect((snapshot['boards'] as unknown[]).length).toBe(3);
    const failed: string[] = [];
    expect(await runProbeCommand([`127.0.0.1:${port}`], () => undefined, (l) => failed.push(l))).toBe(1);
    expect(failed[0]).toContain('unreachable');
  });
});
