/**
 * rigctl's FleetService subcommands on the built bundles: the real controller process (its embedded broker),
 * agents' payloads published over MQTT, and dist/cli through bin/rigctl.js: tables, --json and exit codes.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Metadata, credentials, loadPackageDefinition, type ClientDuplexStream } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import mqtt from 'mqtt';
import { MinerSnapshot, RigState, RigTopics, encodeJson } from '@rigwarden/protocol';
import { makeTempDir, runNode, startNode, waitFor, type RunningProcess, type TempDir } from '@rigwarden/testing';

const root = join(__dirname, '..');
const bin = (name: string): string => join(root, 'bin', `${name}.js`);
const SEC = 1000;
const MIN = 60 * SEC;
const POOL_A = 'stratum+tcp://a.pool.example:3333';
const POOL_B = 'stratum+tcp://b.pool.example:3333';
const T0 = Math.floor((Date.now() - 40 * MIN) / MIN) * MIN;

const FLEET = `groups:
  - name: row1
    match: { labels: { row: "1" } }
    pools:
      - { url: "${POOL_A}", user: "farm.w", password: "secret-a" }
      - { url: "${POOL_B}", user: "farm.w", password: "secret-b" }
`;

function reading(rigId: string, seq: number, at: number, accepted: number): MinerSnapshot {
  return MinerSnapshot.fromPartial({
    rigId, minerId: 'm1', seq, collectedAt: new Date(at), agentId: 'agent-e2e', driver: 'cgminer', model: 'Antminer S19j Pro',
    hashrate5sHs: 100e12, uptimeS: 86_400 + seq * 10, accepted, powerW: 3250,
    boards: [0, 1, 2].map((index) => ({ index, hashrateHs: 33e12, boardTempC: 62, chipTempC: 71, status: 1 })),
    fans: [{ index: 0, rpm: 5400 }],
    pools: [
      { index: 0, url: POOL_A, user: 'farm.w', status: 1, active: true, accepted },
      { index: 1, url: POOL_B, user: 'farm.w', status: 1, active: false, accepted: 0 },
    ],
  });
}

jest.setTimeout(60_000);

describe('rigctl: rigs, rig, watch, telemetry, events, spec, dry-run-policies against the built controller', () => {
  let dir: TempDir;
  let controller: RunningProcess;
  let grpc: string;
  let env: NodeJS.ProcessEnv;
  const rigctl = (...args: string[]) => runNode(bin('rigctl'), ['--server', grpc, ...args], env);

  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/cli/main.js'))) {
      const build = await runNode(join(root, 'tools/build.mjs'), [], {}, 60_000);
      if (build.code !== 0) throw new Error(`build failed: ${build.stderr}`);
    }
    dir = makeTempDir('rigwarden-e2e-');
    const topicRoot = `e2e-${randomBytes(5).toString('hex')}/v1`;
    writeFileSync(join(dir.path, 'fleet.yaml'), FLEET);
    const readyFile = join(dir.path, 'ready.json');
    controller = startNode(bin('rigwarden-controller'), [
      '--data-dir', dir.path, '--grpc', '127.0.0.1:0', '--ready-file', readyFile, '--fleet', join(dir.path, 'fleet.yaml'),
      ...(process.env['MQTT_URL'] ? [] : ['--mqtt-port', '0', '--mqtt-allow-anonymous']),
    ], { RIGWARDEN_TOPIC_ROOT: topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${topicRoot}` });
    const ready = await waitFor('the controller to be ready', () => {
      if (controller.child.exitCode !== null) throw new Error(`controller exited: ${controller.output()}`);
      return existsSync(readyFile) ? JSON.parse(readFileSync(readyFile, 'utf8')) as { grpc: string; mqtt: string } : undefined;
    }, 30_000);
    grpc = ready.grpc;
    env = { RIGWARDEN_API_KEY_FILE: join(dir.path, 'admin.token') };

    // What an agent would publish: the rig's retained state with its labels, then a silent-pool story.
    const topics = new RigTopics(topicRoot);
    const client = await mqtt.connectAsync(ready.mqtt, { clientId: `pub-${topicRoot}` });
    await client.publishAsync(topics.rig('e2e-s19', 'state'), encodeJson(RigState, {
      rigId: 'e2e-s19', agentId: 'agent-e2e', online: true, agentVersion: '0.1.0', at: new Date(), labels: { row: '1', model: 'S19j Pro' },
    }), { qos: 1, retain: true });
    for (let i = 0; i < 43; i++) {
      const at = T0 + i * 10 * SEC;
      await client.publishAsync(topics.rig('e2e-s19', 'telemetry'), encodeJson(MinerSnapshot, reading('e2e-s19', i + 1, at, Math.min(at, T0 + 5 * MIN) / SEC - T0 / SEC)), { qos: 1 });
    }
    await client.publishAsync(topics.rig('e2e-other', 'telemetry'), encodeJson(MinerSnapshot, reading('e2e-other', 1, Date.now(), 1)), { qos: 1 });
    await client.endAsync();
    await waitFor('the story stored', async () => {
      const { code, stdout } = await rigctl('rig', 'e2e-s19', '--json');
      return code === 0 && (JSON.parse(stdout) as { lastSeq?: string | number }).lastSeq?.toString() === '43' ? true : undefined;
    }, 20_000, 200);
  });

  afterAll(async () => {
    await controller?.stop('SIGINT');
    dir?.remove();
  });

  it('rigs filters by label, group, status and model; a usage mistake exits 2', async () => {
    const byLabel = await rigctl('rigs', '--label', 'row=1', '--json');
    expect(byLabel.code).toBe(0);
    const rigs = (JSON.parse(byLabel.stdout) as { rigs: Array<{ rigId: string; group: string; labels: Record<string, string> }> }).rigs;
    expect(rigs.map((r) => [r.rigId, r.group, r.labels])).toEqual([['e2e-s19', 'row1', { row: '1', model: 'S19j Pro' }]]);

    const table = await rigctl('rigs', '--model', 's19j', '--status', 'online');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/e2e-s19\s+online\s+1\s+unidentified\s+100\.0 TH\/s \(5s\).*row1\s+model=S19j Pro,row=1/);
    expect(table.stdout).toMatch(/e2e-other\s+online/);
    expect((await rigctl('rigs', '--group', 'nope')).stdout).toContain('no rig matches these filters');

    const page = await rigctl('rigs', '--page-size', '1', '--json');
    expect(JSON.parse(page.stdout)).toMatchObject({ rigs: [{ rigId: 'e2e-other' }], nextPageToken: expect.any(String) });

    const bad = await rigctl('rigs', '--status', 'up');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--status must be online or offline');
  });

  it('rig shows the group and labels; an unknown rig exits 3 (not found) with the reason', async () => {
    const shown = await rigctl('rig', 'e2e-s19');
    expect(shown.stdout).toContain('group row1; labels model=S19j Pro,row=1');
    const missing = await rigctl('rig', 'no-such-rig');
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('no rig "no-such-rig"');
  });

  it('watch prints the selected rig as it is and exits after --count updates', async () => {
    const { code, stdout } = await rigctl('watch', '--rig', 'e2e-s19', '--count', '1', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout.trim())).toMatchObject({ initial: true, rig: { rigId: 'e2e-s19', group: 'row1' } });
  });

  it('telemetry prints the points of a range', async () => {
    const from = new Date(T0).toISOString();
    const to = new Date(T0 + MIN).toISOString();
    const table = await rigctl('telemetry', 'e2e-s19', '--from', from, '--to', to);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('rig e2e-s19: 6 points, resolution raw');
    expect(table.stdout).toMatch(new RegExp(`${from.replace(/\./g, '\\.')}\\s+100\\.0 TH/s\\s+100\\.0 TH/s\\s+100\\.0 TH/s\\s+71\\.0\\s+3250\\s+5400`));
    const json = JSON.parse((await rigctl('telemetry', 'e2e-s19', '--from', from, '--to', to, '--resolution', 'raw', '--json')).stdout) as { points: unknown[] };
    expect(json.points).toHaveLength(6);
    const bad = await rigctl('telemetry', 'e2e-s19', '--from', 'yesterday');
    expect(bad.code).toBe(2);
  });

  it('spec get prints the YAML in force; spec apply --dry-run shows the diff; a stale version and a bad key path exit 1', async () => {
    const got = await rigctl('spec', 'get');
    expect(got.code).toBe(0);
    expect(got.stdout).toBe(FLEET);
    const version = /version ([0-9a-f]{16})/.exec(got.stderr)![1]!;

    const edited = join(dir.path, 'edited.yaml');
    writeFileSync(edited, FLEET.replace(`url: "${POOL_A}"`, 'url: "stratum+tcp://c.pool.example:3333"'));
    const dry = await rigctl('spec', 'apply', edited, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/changed\s+groups\[row1\]\.pools\[0\]\.url\s+"stratum\+tcp:\/\/a\.pool\.example:3333"\s+"stratum\+tcp:\/\/c\.pool\.example:3333"/);
    expect(dry.stdout).toContain('rigs affected (1): e2e-s19');
    expect(dry.stdout).toContain('dry run: nothing applied');
    expect(dry.stdout).not.toContain('secret-a');

    const stale = await rigctl('spec', 'apply', edited, '--expected-version', 'deadbeefdeadbeef');
    expect(stale.code).toBe(2);
    expect(stale.stderr).toContain('expected_version deadbeefdeadbeef is not the version in force');

    const bad = join(dir.path, 'bad.yaml');
    writeFileSync(bad, FLEET.replace('match:', 'macth:'));
    const refused = await rigctl('spec', 'apply', bad);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('groups[0].macth: unknown key');

    const applied = await rigctl('spec', 'apply', edited, '--expected-version', version);
    expect(applied.stdout).toContain('applied: version');
    expect((await rigctl('spec', 'get')).stdout).toContain('c.pool.example');
    await rigctl('spec', 'apply', join(dir.path, 'fleet.yaml')); // back to the original
  });

  it('the bundled controller answers gRPC reflection (v1alpha, as grpcurl asks): rigwarden.v1.FleetService is listed', async () => {
    const definition = loadSync(join(root, 'node_modules/@grpc/reflection/build/proto/grpc/reflection/v1alpha/reflection.proto'), { keepCase: true });
    const Reflection = (loadPackageDefinition(definition) as unknown as {
      grpc: { reflection: { v1alpha: { ServerReflection: new (address: string, creds: ReturnType<typeof credentials.createInsecure>) => {
        ServerReflectionInfo(md: Metadata): ClientDuplexStream<Record<string, unknown>, Record<string, unknown>>; close(): void;
      } } } };
    }).grpc.reflection.v1alpha.ServerReflection;
    const reflection = new Reflection(grpc, credentials.createInsecure());
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${readFileSync(join(dir.path, 'admin.token'), 'utf8').trim()}`);
    try {
      const response = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const stream = reflection.ServerReflectionInfo(metadata);
        stream.once('data', (r) => { resolve(r); stream.end(); });
        stream.once('error', reject);
        stream.write({ list_services: '*' });
      });
      const names = (response['list_services_response'] as { service: Array<{ name: string }> }).service.map((s) => s.name);
      expect(names).toContain('rigwarden.v1.FleetService');
    } finally {
      reflection.close();
    }
  });

  it('dry-run-policies shows when the failover policy would have switched off the silent pool', async () => {
    const from = new Date(T0).toISOString();
    const to = new Date(T0 + 10 * MIN).toISOString();
    const result = await rigctl('dry-run-policies', 'e2e-s19', '--from', from, '--to', to);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('rig e2e-s19: 43 snapshots replayed with the spec in force');
    // A share a second until T0 + 5 min, readings every 10 s: silent after 18.4 expected intervals (silentProbability
    // 1e-8), so the first reading 20 s into the silence.
    expect(result.stdout).toMatch(new RegExp(`${new Date(T0 + 5 * MIN + 20 * SEC).toISOString().replace(/\./g, '\\.')}\\s+failover\\s+switch-pool\\s+active-pool-silent`));

    const events = await rigctl('events', 'e2e-s19', '--since', '1h');
    expect(events.code).toBe(0);
  });
});
