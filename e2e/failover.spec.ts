/**
 * Failover with real processes: the built controller (with a fleet file and command keys), the built agent, a
 * simulated miner whose primary pool is silent, and rigctl showing why the controller switched it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CgminerSimulator } from '@rigwarden/simulators';
import { makeTempDir, runNode, startNode, waitFor, type RunningProcess, type TempDir } from '@rigwarden/testing';

const root = join(__dirname, '..');
const bin = (name: string): string => join(root, 'bin', `${name}.js`);
jest.setTimeout(90_000);

describe('failover with real processes', () => {
  let dir: TempDir;
  let sim: CgminerSimulator;
  let controller: RunningProcess | undefined;
  let agent: RunningProcess | undefined;

  afterAll(async () => {
    await agent?.stop();
    await controller?.stop('SIGINT');
    await sim?.stop();
    dir?.remove();
  });

  it('moves a miner off a silent primary pool and explains it in rigctl events', async () => {
    dir = makeTempDir('rigwarden-e2e-');
    sim = new CgminerSimulator();
    const { port } = await sim.start();
    const topicRoot = `e2e-fo-${randomBytes(4).toString('hex')}/v1`;
    const keysFile = join(dir.path, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ rigs: { 'fo-e2e': [{ id: 'k1', secret: randomBytes(32).toString('base64url') }] } }), { mode: 0o600 });
    const fleet = join(dir.path, 'fleet.yaml');
    writeFileSync(fleet, [
      'groups:', '  - name: e2e', '    match: { rigIds: [fo-e2e] }', '    pools:',
      ...sim.state.pools.map((p) => `      - { url: "${p.url}", user: "${p.user}" }`),
      '    policy: { failover: { silentAfterMs: 3000 } }', '',
    ].join('\n'));
    const ready = join(dir.path, 'ready.json');
    const env = { RIGWARDEN_TOPIC_ROOT: topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${topicRoot}` };
    controller = startNode(bin('rigwarden-controller'), ['--data-dir', dir.path, '--grpc', '127.0.0.1:0', '--ready-file', ready, '--fleet', fleet, '--keys-file', keysFile,
      ...(process.env['MQTT_URL'] ? [] : ['--mqtt-port', '0', '--mqtt-allow-anonymous'])], env);
    const endpoints = await waitFor('the controller', () => {
      if (controller!.child.exitCode !== null) throw new Error(controller!.output());
      return existsSync(ready) ? JSON.parse(readFileSync(ready, 'utf8')) as { grpc: string; mqtt: string } : undefined;
    }, 30_000);
    const config = join(dir.path, 'agent.yaml');
    writeFileSync(config, [
      'agent:', '  id: fo-agent', `  dataDir: ${JSON.stringify(join(dir.path, 'agent'))}`,
      'mqtt:', `  clientId: fo-agent-${topicRoot}`, 'poll:', '  intervalMs: 500',
      'security:', `  keysFile: ${JSON.stringify(keysFile)}`,
      'miners:', '  - rig: fo-e2e', '    id: m1', '    host: 127.0.0.1', `    port: ${port}`, '',
    ].join('\n'));
    agent = startNode(bin('rigwarden-agent'), ['run', '--config', config], { ...env, MQTT_URL: endpoints.mqtt });

    await waitFor('the miner to be moved to pool 1', () => (sim.state.activePool === 1 ? true : undefined), 45_000, 100);
    const listed = await waitFor('the switch in rigctl events', async () => {
      const { code, stdout } = await runNode(bin('rigctl'), ['--server', endpoints.grpc, 'events', 'fo-e2e', '--json'], { RIGWARDEN_API_KEY_FILE: join(dir.path, 'admin.token') });
      if (code !== 0) return undefined;
      const events = (JSON.parse(stdout) as { events?: Array<{ kind: string; reason: string; source: string; message: string }> }).events ?? [];
      return events.find((e) => e.kind === 'policy.switch-pool');
    }, 15_000, 250);
    expect(listed).toMatchObject({ reason: 'active-pool-silent', source: 'failover' });
    const table = await runNode(bin('rigctl'), ['--server', endpoints.grpc, 'events', 'fo-e2e'], { RIGWARDEN_API_KEY_FILE: join(dir.path, 'admin.token') });
    expect(table.stdout).toMatch(/policy\.switch-pool\s+active-pool-silent\s+failover/);
  });
});
