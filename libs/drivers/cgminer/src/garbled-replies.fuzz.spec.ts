import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { MinerSnapshot, decodeSnapshot, encodeJson } from '@rigwarden/protocol';
import {
  BOARD_HASHRATE_MAX_HS, DriverError, MINER_HASHRATE_MAX_HS, driverRegistry, sanitizeReading, type MinerReading,
} from '@rigwarden/drivers-core';
import { decodeReply, type CgminerReply } from './cgminer.client';
import { runProbeCommand } from './cli/cgminer.cli';
import type { CollectedReplies } from './dialects/dialect';
import { DIALECTS } from './dialects/dialect-identification';
import { loadSession, type RecordedStep } from './testing/recorded-session';
import { mutateReply, seededRandom } from './testing/reply.mutator';
import './index';

/**
 * Fuzzing with the real bytes of cgminer 4.11.1, cgminer 2.11.4 and bfgminer 5.5.0 (testdata/real-sessions), mutated
 * with a fixed seed: byte flips, truncation, splicing, huge and non-finite numbers, NULs, non-UTF-8, deep nesting.
 * Whatever comes back, no exception but a DriverError escapes, and every reading that is produced encodes with the
 * protocol codec, is accepted by the controller's decoder, and holds only finite numbers within range.
 */
const PROGRAMS = ['cgminer-4.11.1', 'cgminer-2.11.4', 'bfgminer-5.5.0/full-session-crashed', 'bfgminer-5.5.0/pool-ops-on-fresh-process'];
const sessions = PROGRAMS.map((p) => loadSession(p));
const corpus: RecordedStep[] = sessions.flat().filter((s) => s.response.length > 0);
const DIALECT_COUNT = Object.keys(DIALECTS).length;
const COMMANDS = ['version', 'summary', 'pools', 'devs', 'edevs', 'stats', 'lcd', 'devdetails'];

function replyFor(steps: readonly RecordedStep[], command: string): Buffer | undefined {
  return steps.find((s) => s.request === `{"command":"${command}"}` && s.response.length > 0)?.response;
}

/** Every number of the snapshot's JSON is finite; rates, temperatures and percents within what a device can do. */
function expectSaneNumbers(value: unknown, path = ''): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => expectSaneNumbers(v, `${path}[${i}]`));
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) expectSaneNumbers(v, path ? `${path}.${k}` : k);
    return;
  }
  if (typeof value !== 'number') return;
  const fail = (why: string): never => { throw new Error(`${path} = ${value}: ${why}`); };
  if (!Number.isFinite(value)) fail('not finite');
  if (/hashrateHs$|hashrate5sHs$|hashrateAvgHs$/.test(path) && (value < 0 || value > MINER_HASHRATE_MAX_HS)) fail('hashrate out of range');
  if (/^boards\[\d+\]\.hashrateHs$/.test(path) && value > BOARD_HASHRATE_MAX_HS) fail('board hashrate out of range');
  if (/TempC$/.test(path) && (value < -60 || value > 200)) fail('temperature out of range');
  if (/[pP]ercent$/.test(path) && (value < 0 || value > 100)) fail('percent out of range');
}

/** The reading as the agent publishes it, then as the controller decodes it: neither may throw. */
function expectPublishable(reading: MinerReading): void {
  const snapshot = MinerSnapshot.fromPartial({ ...reading, rigId: 'rig-1', minerId: 'm-1', agentId: 'agent-1', seq: 1, collectedAt: new Date(0) });
  const payload = encodeJson(MinerSnapshot, snapshot);
  expect(() => decodeSnapshot(payload)).not.toThrow();
  expectSaneNumbers(JSON.parse(payload.toString('utf8')));
}

/** A miner that answers every request with its recorded reply, mutated most of the time (joined requests too). */
class GarbledMiner {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  requests = 0;

  constructor(private readonly steps: readonly RecordedStep[], private readonly random: () => number, private readonly joins: boolean) {}

  async start(): Promise<{ host: string; port: number }> {
    const server = createServer((socket) => {
      this.sockets.add(socket);
      socket.on('error', () => socket.destroy());
      socket.once('close', () => this.sockets.delete(socket));
      socket.once('data', (chunk) => {
        this.requests++;
        const reply = this.answer(chunk.toString('latin1'));
        if (reply.length === 0) socket.destroy();
        else socket.end(reply);
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const addr = server.address() as AddressInfo;
    return { host: addr.address, port: addr.port };
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private answer(request: string): Buffer {
    const invalid = this.steps.find((s) => s.name.endsWith('invalid-command'))?.response ?? Buffer.from('{"STATUS":[{"STATUS":"E","Code":14}],"id":1}\u0000');
    let command = '';
    try {
      command = String((JSON.parse(request) as { command?: unknown }).command ?? '');
    } catch {
      command = request.split('|')[0] ?? '';
    }
    let reply: Buffer;
    if (command.includes('+')) {
      if (!this.joins) reply = invalid;
      else {
        const strip = (b: Buffer): string => b.subarray(0, b.indexOf(0) >= 0 ? b.indexOf(0) : b.length).toString('latin1');
        const parts = command.split('+').map((c) => `${JSON.stringify(c)}:[${strip(replyFor(this.steps, c) ?? invalid)}]`);
        reply = Buffer.from(`{${parts.join(',')},"id":1}\u0000`, 'latin1');
      }
    } else reply = replyFor(this.steps, command) ?? invalid;
    if (this.random() < 0.3) return reply;
    return mutateReply(reply, corpus[Math.floor(this.random() * corpus.length)]!.response, this.random).bytes;
  }
}

describe('fuzz: mutated real replies never end the driver, the agent or the probe', () => {
  it('3000 mutated replies through the decoder and every dialect: a typed error or a publishable reading', () => {
    const random = seededRandom(0x15_2026);
    // The unmutated replies of each program, decoded once; each case replaces one command's reply by a mutated one.
    const baseReplies: CollectedReplies[] = sessions.map((session) => {
      const replies: CollectedReplies = {};
      for (const c of COMMANDS) {
        const recorded = replyFor(session, c);
        if (recorded) replies[c] = decodeReply(recorded.subarray(0, recorded.indexOf(0)).toString('latin1'), { host: 'fuzz', port: 0, command: c });
      }
      return replies;
    });
    let readings = 0;
    let parseErrors = 0;
    for (let n = 0; n < 3000; n++) {
      const session = sessions[n % sessions.length]!;
      const command = COMMANDS[Math.floor(random() * COMMANDS.length)]!;
      const base = replyFor(session, command) ?? corpus[Math.floor(random() * corpus.length)]!.response;
      const { bytes } = mutateReply(base, corpus[Math.floor(random() * corpus.length)]!.response, random);
      let mutated: CgminerReply;
      try {
        const nul = bytes.indexOf(0);
        mutated = decodeReply((nul >= 0 ? bytes.subarray(0, nul) : bytes).toString('latin1'), { host: 'fuzz', port: 0, command });
      } catch (err) {
        expect(err).toBeInstanceOf(DriverError);
        parseErrors++;
        continue;
      }
      const replies: CollectedReplies = { ...baseReplies[n % sessions.length], [command]: mutated };
      for (const dialect of Object.values(DIALECTS)) {
        const reading = sanitizeReading(dialect.decode(replies));
        expectPublishable(reading);
        readings++;
      }
    }
    expect(readings / DIALECT_COUNT + parseErrors).toBe(3000);
    expect(readings).toBeGreaterThan(1000);
  }, 30_000);

  it('300 collects by the auto and generic drivers over a loopback socket that garbles most replies', async () => {
    const random = seededRandom(42);
    let readings = 0;
    let typed = 0;
    for (const [i, session] of sessions.entries()) {
      const miner = new GarbledMiner(session, random, !PROGRAMS[i]!.startsWith('cgminer-2'));
      const endpoint = await miner.start();
      try {
        for (let n = 0; n < 75; n++) {
          const driver = driverRegistry.create(n % 2 === 0 ? 'auto' : 'cgminer', endpoint);
          try {
            expectPublishable(await driver.collect({ signal: AbortSignal.timeout(5000), deadlineMs: 5000 }));
            readings++;
          } catch (err) {
            if (!(err instanceof DriverError)) throw err;
            typed++;
          }
        }
      } finally {
        await miner.stop();
      }
    }
    expect(readings + typed).toBe(300);
    expect(readings).toBeGreaterThan(0);
  }, 30_000);

  it('200 runs of `rigwarden-agent probe` against garbled replies: exit code 0 with JSON or 1 with a message, never a throw', async () => {
    const random = seededRandom(7);
    const codes = { 0: 0, 1: 0 } as Record<number, number>;
    for (const [i, session] of sessions.entries()) {
      const miner = new GarbledMiner(session, random, !PROGRAMS[i]!.startsWith('cgminer-2'));
      const endpoint = await miner.start();
      try {
        for (let n = 0; n < 50; n++) {
          const out: string[] = [];
          const errs: string[] = [];
          const code = await runProbeCommand([`${endpoint.host}:${endpoint.port}`, '--json'], (l) => out.push(l), (l) => errs.push(l), () => new Date(0));
          expect([0, 1]).toContain(code);
          codes[code] = (codes[code] ?? 0) + 1;
          if (code === 0) expectSaneNumbers(JSON.parse(out[0]!));
          else expect(errs.join('\n')).toMatch(/^probe: /);
        }
      } finally {
        await miner.stop();
      }
    }
    expect(codes[0]! + codes[1]!).toBe(200);
  }, 30_000);
});
