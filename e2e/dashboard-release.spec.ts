/**
 * The dashboard's "Release quarantine" in a real browser (Debian's Chromium, playwright-core) against the built
 * controller: a rig whose miner API never answers is quarantined after the whole ladder (short watchdog parameters,
 * an agent stand-in answering each remedy over MQTT). The operator fixes it (healthy readings: still quarantined);
 * the rig's page offers the release, the confirm dialog takes the reason, and the rig goes online live, with the
 * operator.release event listed.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CommandOutcome, CommandResult, MinerSnapshot, RigState, RigTopics, decodeCommandEnvelope, encodeJson } from '@rigwarden/protocol';
import { RigKeyFile, RigMessageSigner } from '@rigwarden/security';
import { makeTempDir, runNode, startNode, waitFor, type RunningProcess, type TempDir } from '@rigwarden/testing';

const root = join(__dirname, '..');
const bin = (name: string): string => join(root, 'bin', `${name}.js`);
const CHROMIUM = '/usr/bin/chromium';
const RIG = 'relui-1';

jest.setTimeout(60_000);

describe('dashboard: release a quarantined rig', () => {
  let dir: TempDir;
  let controller: RunningProcess;
  let agent: MqttClient;
  let ticker: NodeJS.Timeout | undefined;
  /** The operator fixed the rig: its miner answers again (it stays quarantined until released). */
  let fixed = false;
  let context: BrowserContext | undefined;
  let page: Page;
  let base: string;
  let token: string;
  const browserErrors: string[] = [];

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${base}${path.replace(/^\//, '')}`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<T>;
  };
  const kinds = async (): Promise<string[]> => (await api<{ events: Array<{ kind: string }> }>(`/api/rigs/${RIG}/events?limit=100`)).events.map((e) => e.kind).reverse();

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`this test needs Debian's Chromium at ${CHROMIUM} (apt-get install -y chromium); e2e/dashboard.spec.ts installs it`);
    if (!existsSync(join(root, 'dist/controller/web'))) {
      const build = await runNode(join(root, 'tools/build.mjs'), [], {}, 60_000);
      if (build.code !== 0) throw new Error(`build failed: ${build.stderr}`);
    }
    dir = makeTempDir('rigwarden-e2e-');
    const topicRoot = `e2e-${randomBytes(5).toString('hex')}/v1`;
    const keysFile = join(dir.path, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ rigs: { [RIG]: [{ id: 'k1', secret: randomBytes(32).toString('base64url') }] } }), { mode: 0o600 });
    const fleetFile = join(dir.path, 'fleet.yaml');
    writeFileSync(fleetFile, [
      'groups:', '  - name: release-ui', '    match: { rigIdPrefix: "relui-" }', '    pools:',
      '      - { url: "stratum+tcp://pool.example:3333", user: "farm.relui", password: "x" }',
      '    policy:', '      watchdog:', '        unreachableForMs: 400',
      '        ladder: [{ action: restart-miner, graceMs: 600 }, { action: reboot-host, graceMs: 600 }, { action: power-cycle, graceMs: 600 }]', '',
    ].join('\n'));
    const readyFile = join(dir.path, 'ready.json');
    controller = startNode(bin('rigwarden-controller'), [
      '--data-dir', dir.path, '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--ready-file', readyFile, '--keys-file', keysFile, '--fleet', fleetFile,
      ...(process.env['MQTT_URL'] ? [] : ['--mqtt-port', '0', '--mqtt-allow-anonymous']),
    ], { RIGWARDEN_TOPIC_ROOT: topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${topicRoot}` });
    const ready = await waitFor('the controller to be ready', () => {
      if (controller.child.exitCode !== null) throw new Error(`controller exited: ${controller.output()}`);
      return existsSync(readyFile) ? JSON.parse(readFileSync(readyFile, 'utf8')) as { mqtt: string; http: string } : undefined;
    }, 30_000);
    base = ready.http;
    token = readFileSync(join(dir.path, 'admin.token'), 'utf8').trim();

    const topics = new RigTopics(topicRoot);
    const signer = new RigMessageSigner(() => new RigKeyFile(join(dir.path, 'keys.json')).keyRing()); // the controller refuses unsigned results
    agent = await mqtt.connectAsync(ready.mqtt, { clientId: `agent-${topicRoot}` });
    agent.on('message', (_topic, payload) => {
      const envelope = decodeCommandEnvelope(payload);
      const result = CommandResult.fromPartial({
        commandId: envelope.commandId, rigId: envelope.rigId, durationMs: 4, finishedAt: new Date(), outcome: CommandOutcome.COMMAND_OUTCOME_SUCCEEDED, cause: 'done',
      });
      void agent.publishAsync(topics.rig(envelope.rigId, 'results'), encodeJson(CommandResult, signer.signResult(result, Date.now())), { qos: 1 });
    });
    await agent.subscribeAsync(topics.allRigs('commands'), { qos: 1 });
    await agent.publishAsync(topics.rig(RIG, 'state'), encodeJson(RigState, { rigId: RIG, agentId: 'agent-e2e', online: true, agentVersion: '0.1.0', at: new Date(), labels: {} }), { qos: 1, retain: true });
    let seq = 0;
    const publish = (): void => {
      const reading = fixed
        ? { model: 'Antminer S19', hashrate5sHs: 95e12, boards: [{ index: 0, hashrateHs: 95e12, boardTempC: 60, chipTempC: 70, status: 1 }] }
        : { errors: [{ kind: 'unreachable', message: 'connect ECONNREFUSED 10.0.0.9:4028' }] };
      void agent.publishAsync(topics.rig(RIG, 'telemetry'), encodeJson(MinerSnapshot, MinerSnapshot.fromPartial({
        rigId: RIG, minerId: 'm1', seq: ++seq, collectedAt: new Date(), ...reading,
      })), { qos: 1 });
    };
    publish();
    ticker = setInterval(publish, 200);

    context = await chromium.launchPersistentContext(join(dir.path, 'chromium-profile'), {
      executablePath: CHROMIUM, headless: true, viewport: { width: 1366, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = context.pages()[0] ?? await context.newPage();
    page.on('pageerror', (err) => browserErrors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => { if (msg.type() === 'error') browserErrors.push(`console: ${msg.text()}`); });
  });

  afterAll(async () => {
    if (ticker) clearInterval(ticker);
    await context?.close();
    await agent?.endAsync();
    await controller?.stop();
    dir?.remove();
  });

  it('offers the release on the quarantined rig\'s page, asks for confirmation, and the rig leaves quarantine live', async () => {
    await waitFor('the rig to be quarantined', async () => ((await kinds()).includes('policy.quarantine') ? true : undefined), 30_000, 300);
    await page.goto(base);
    await page.fill('#api-key', token);
    await page.click('#sign-in button[type=submit]');
    await page.waitForSelector('.live.on', { timeout: 10_000 });
    await page.goto(`${base}#/rigs/${RIG}`);
    await page.waitForSelector('[data-testid=rig-status]:has-text("quarantined")', { timeout: 10_000 });

    fixed = true;
    await waitFor('healthy readings', async () => ((await api<{ summary: { hashrateHs?: number } }>(`/api/rigs/${RIG}`)).summary.hashrateHs ? true : undefined), 10_000, 200);
    expect((await api<{ summary: { status: string } }>(`/api/rigs/${RIG}`)).summary.status).toBe('quarantined');
    await page.click('#action-release');
    await page.waitForSelector('dialog#confirm[open]');
    expect(await page.textContent('#confirm-text')).toMatch(/Release the quarantine of rig relui-1\?/);
    await page.fill('#confirm-reason', 'e2e: replaced the control board');
    await page.click('#confirm-ok');

    await page.waitForSelector('[data-testid=rig-status]:has-text("online")', { timeout: 10_000 });
    expect(await page.$('#action-release')).toBeNull();
    await page.waitForSelector('#rig-events [data-testid=event][data-kind="operator.release"]', { timeout: 10_000 });
    // Fixed: no more remedies (the policies do act again: failover asks for the spec's pools, which this miner lacks).
    const all = await kinds();
    expect(all.slice(all.indexOf('operator.release') + 1).filter((k) => /^policy\.(restart-miner|reboot-host|power-cycle|quarantine)$/.test(k))).toEqual([]);
    expect(browserErrors).toEqual([]);
  });
});
