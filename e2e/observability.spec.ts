/**
 * Metrics and alerts with real processes: the built controller (embedded broker, --alerts with a generic, a Slack and
 * a Telegram channel, all pointed at one loopback HTTP receiver) and the built agent polling two simulated cgminer
 * miners. Scrapes GET /metrics with an API key and finds the rigs' hashrate, boards, pools and the agent's driver
 * counters; stops the agent and receives `rig-offline` on every channel in its own shape, starts it again and
 * receives `resolved`; and no log line of the controller holds the bot token or the webhook path.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CgminerSimulator } from '@rigwarden/simulators';
import { makeTempDir, startNode, waitFor, type RunningProcess, type TempDir } from '@rigwarden/testing';

const root = join(__dirname, '..');
const bin = (name: string): string => join(root, 'bin', `${name}.js`);
const RIGS = ['obs-1', 'obs-2'];
const TOKEN = '4242424242:AAE2eSecretBotTokenValue';
const SLACK_PATH = '/services/TE2E/BE2E/e2eSecretWebhookPart';
jest.setTimeout(90_000);

interface Received { path: string; body: Record<string, unknown> }

/** `name{labels} value` lines of the exposition whose labels include every `match` pair. */
function samples(text: string, name: string, match: Record<string, string> = {}): number[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .filter((l) => Object.entries(match).every(([k, v]) => l.includes(`${k}="${v}"`)))
    .map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
}

describe('metrics and alerts with the built controller and agent', () => {
  let dir: TempDir;
  const sims: CgminerSimulator[] = [];
  let controller: RunningProcess | undefined;
  let agent: RunningProcess | undefined;
  let receiver: Server;
  const received: Received[] = [];
  let endpoints: { mqtt: string; http: string };
  let agentConfig: string;
  let env: NodeJS.ProcessEnv;

  const startAgent = (): RunningProcess => startNode(bin('rigwarden-agent'), ['run', '--config', agentConfig], { ...env, MQTT_URL: endpoints.mqtt });

  beforeAll(async () => {
    dir = makeTempDir('rigwarden-obs-e2e-');
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => { body += d.toString('utf8'); }).on('end', () => {
        received.push({ path: req.url ?? '', body: JSON.parse(body) as Record<string, unknown> });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    for (const _rig of RIGS) {
      const sim = new CgminerSimulator({ state: { sharesPerMinute: 600 } });
      await sim.start();
      sims.push(sim);
    }
    const alerts = join(dir.path, 'alerts.yaml');
    writeFileSync(alerts, [
      'alerts:', '  checkIntervalS: 0.5', '  delivery: { timeoutMs: 2000, retries: 2, backoffMs: 100 }', '  rules:', '    rig-offline: { afterS: 2 }', '  channels:',
      '    - { name: automation, type: generic, url: "' + hook + '/generic" }',
      '    - { name: ops, type: slack, urlEnv: E2E_SLACK_URL }',
      '    - { name: oncall, type: telegram, botTokenEnv: E2E_TG_TOKEN, chatId: "-100777", apiUrl: "' + hook + '/tg" }', '',
    ].join('\n'));
    const topicRoot = `e2e-obs-${randomBytes(4).toString('hex')}/v1`;
    env = { RIGWARDEN_TOPIC_ROOT: topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${topicRoot}` };
    const ready = join(dir.path, 'ready.json');
    controller = startNode(bin('rigwarden-controller'), ['--data-dir', dir.path, '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--ready-file', ready,
      '--alerts', alerts, ...(process.env['MQTT_URL'] ? [] : ['--mqtt-port', '0', '--mqtt-allow-anonymous'])], { ...env, LOG_LEVEL: 'debug', E2E_SLACK_URL: `${hook}${SLACK_PATH}`, E2E_TG_TOKEN: TOKEN });
    endpoints = await waitFor('the controller', () => {
      if (controller!.child.exitCode !== null) throw new Error(controller!.output());
      return existsSync(ready) ? JSON.parse(readFileSync(ready, 'utf8')) as typeof endpoints : undefined;
    }, 30_000);
    agentConfig = join(dir.path, 'agent.yaml');
    writeFileSync(agentConfig, [
      'agent:', '  id: obs-agent', `  dataDir: ${JSON.stringify(join(dir.path, 'agent'))}`,
      'mqtt:', `  clientId: obs-agent-${topicRoot}`, 'poll:', '  intervalMs: 500', 'status:', '  intervalMs: 1000',
      'miners:', ...RIGS.flatMap((rig, i) => ['  - rig: ' + rig, '    id: m1', '    host: 127.0.0.1', `    port: ${sims[i]!.address().port}`]), '',
    ].join('\n'));
    agent = startAgent();
  });

  afterAll(async () => {
    await agent?.stop();
    await controller?.stop('SIGINT');
    for (const sim of sims) await sim.stop();
    await new Promise((resolve) => { receiver?.closeAllConnections(); receiver?.close(resolve); });
    dir?.remove();
  });

  it('serves the rigs, their boards and pools, and the agent\'s driver counters on /metrics to an API key', async () => {
    const token = readFileSync(join(dir.path, 'admin.token'), 'utf8').trim();
    expect((await fetch(`${endpoints.http.replace(/\/$/, '')}/metrics`)).status).toBe(401);
    let last = '';
    const text = await waitFor('both rigs and the agent status in /metrics', async () => {
      const res = await fetch(`${endpoints.http.replace(/\/$/, '')}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const t = await res.text();
      const ready = RIGS.every((rig) => (samples(t, 'rigwarden_miner_hashrate_hs', { rig })[0] ?? 0) > 0)
        && (samples(t, 'rigwarden_agent_driver_collects_total', { agent: 'obs-agent', outcome: 'success' })[0] ?? 0) > 0;
      if (!ready) last = t.split('\n').filter((l) => /^rigwarden_(miner_hashrate_hs|agent_)/.test(l)).join('\n');
      return ready ? t : undefined;
    }, 30_000, 250).catch((err: Error) => { throw new Error(`${err.message}\n${last}`); });
    expect(samples(text, 'rigwarden_rigs', { state: 'online' })).toEqual([2]);
    for (const rig of RIGS) {
      expect(samples(text, 'rigwarden_rig_online', { rig })).toEqual([1]);
      expect(samples(text, 'rigwarden_board_temperature_celsius', { rig }).length).toBeGreaterThan(0);
      expect(samples(text, 'rigwarden_pool_active', { rig }).filter((v) => v === 1)).toHaveLength(1);
      expect(samples(text, 'rigwarden_miner_shares_total', { rig, result: 'accepted' }).length).toBe(1);
    }
    expect(samples(text, 'rigwarden_ingest_snapshots_total', { outcome: 'stored' })[0]).toBeGreaterThan(0);
    expect(text).not.toMatch(/stratum\+tcp/); // pool URLs never become labels
  });

  it('stopping the agent sends rig-offline to every channel in its own shape; starting it again resolves', async () => {
    await agent!.stop();
    agent = undefined;
    const count = (path: string): number => received.filter((r) => r.path === path && JSON.stringify(r.body).includes('rig-offline')).length;
    await waitFor('rig-offline on the three channels for both rigs', () => (count('/generic') >= 2 && count(SLACK_PATH) >= 2 && count(`/tg/bot${TOKEN}/sendMessage`) >= 2 ? true : undefined), 30_000, 100);
    const generic = received.filter((r) => r.path === '/generic' && r.body['rule'] === 'rig-offline');
    expect(generic.map((r) => [r.body['status'], r.body['rig'], r.body['severity']]).sort()).toEqual([['firing', 'obs-1', 'critical'], ['firing', 'obs-2', 'critical']]);
    const slack = received.filter((r) => r.path === SLACK_PATH);
    expect(slack.length).toBe(2);
    expect(Object.keys(slack[0]!.body).sort()).toEqual(['blocks', 'text']);
    expect(String(slack[0]!.body['text'])).toMatch(/^🔥 \[CRITICAL\] rig-offline on obs-[12]: obs-[12]: offline/);
    const telegram = received.filter((r) => r.path === `/tg/bot${TOKEN}/sendMessage`);
    expect(telegram.length).toBe(2);
    expect(telegram[0]!.body).toMatchObject({ chat_id: '-100777', parse_mode: 'HTML' });

    agent = startAgent();
    await waitFor('resolved for both rigs on the generic channel', () => (received.filter((r) => r.path === '/generic' && r.body['status'] === 'resolved' && r.body['rule'] === 'rig-offline').length === 2 ? true : undefined), 30_000, 100);
  });

  it('no controller log line holds the bot token or the webhook path', () => {
    const log = controller!.output();
    expect(log).toContain('alert rules loaded');
    expect(log).toContain('rule=rig-offline');
    expect(log).not.toContain(TOKEN);
    expect(log).not.toContain('e2eSecretWebhookPart');
  });
});
