/** The agent over mqtts://: a broker on TLS with a certificate from a CA made by the test. */
import '@rigwarden/drivers-cgminer';
import { createServer, type Server } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { RigTopics, decodeSnapshot, type MinerSnapshot } from '@rigwarden/protocol';
import { createLogger, systemClock } from '@rigwarden/shared';
import { CgminerSimulator } from '@rigwarden/simulators';
import { makeTempDir, makeTestCertificates, waitFor, type TempDir } from '@rigwarden/testing';
import { Agent } from './agent';
import { parseAgentConfig } from './config/agent-config';
import { ConfigError } from './config/config-error';

jest.setTimeout(60_000);

describe('agent over TLS', () => {
  let dir: TempDir;
  let broker: Aedes;
  let server: Server;
  let url: string;
  let sim: CgminerSimulator;
  let certs: ReturnType<typeof makeTestCertificates>;

  beforeAll(async () => {
    dir = makeTempDir();
    certs = makeTestCertificates(dir.path);
    broker = await Aedes.createBroker();
    server = createServer({ cert: certs.cert, key: certs.key }, broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    url = `mqtts://127.0.0.1:${(server.address() as AddressInfo).port}`;
    sim = new CgminerSimulator();
    await sim.start();
  });

  afterAll(async () => {
    await sim?.stop();
    await new Promise<void>((resolve) => broker?.close(() => resolve()));
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    dir?.remove();
  });

  function config(tls: Record<string, unknown>) {
    return parseAgentConfig({
      agent: { id: 'tls-agent', dataDir: join(dir.path, `agent-${Math.random().toString(36).slice(2)}`) },
      mqtt: { url, clientId: `tls-${Math.random().toString(36).slice(2)}`, tls },
      poll: { intervalMs: 300 },
      miners: [{ rig: 'tls-rig', host: '127.0.0.1', port: sim.address().port }],
    }, join(dir.path, 'agent.yaml'), {});
  }

  it('publishes telemetry through a broker whose certificate it verifies against the configured CA', async () => {
    const watcher = await mqtt.connectAsync(url, { ca: certs.ca });
    const got: MinerSnapshot[] = [];
    await watcher.subscribeAsync(new RigTopics().rig('tls-rig', 'telemetry'));
    watcher.on('message', (_t, p) => got.push(decodeSnapshot(p)));
    const agent = new Agent(config({ caFile: 'ca.pem' }), systemClock, createLogger('agent', { level: 'error' }));
    try {
      await agent.start();
      const first = await waitFor('a snapshot over TLS', () => got[0], 15_000);
      expect(first.rigId).toBe('tls-rig');
      expect(first.hashrate5sHs).toBeCloseTo(sim.totalHashrateHs(), -1);
    } finally {
      await agent.stop();
      await watcher.endAsync();
    }
  });

  it('refuses a broker whose certificate it cannot verify, and keeps the data for later', async () => {
    const agent = new Agent(config({}), systemClock, createLogger('agent', { level: 'error' }));
    try {
      await agent.start(); // waits up to 5 s for a first connection, then collects anyway
      await waitFor('snapshots queued on disk', () => (agent.outbox.depth > 0 ? true : undefined), 10_000);
      expect(agent.publisher.connected).toBe(false);
    } finally {
      await agent.stop();
    }
  });

  it('names the TLS key that points at a missing file', () => {
    expect(() => config({ caFile: 'missing.pem' })).toThrow(ConfigError);
    expect(() => config({ caFile: 'missing.pem' })).toThrow(/mqtt\.tls\.caFile: cannot read .*missing\.pem \(ENOENT\)/);
  });
});
