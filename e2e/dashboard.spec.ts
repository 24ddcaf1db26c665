/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core against the built controller
 * (dist bundle, embedded broker, fleet spec with failover, command keys), the built agent polling three simulated
 * cgminer miners. Signs in with the bootstrap admin key, starts the agent and sees the rigs arrive live, kills a rig's
 * primary pool and sees the policy's alert and pool switch appear without a reload, restarts a miner and switches a
 * pool through the confirm dialog and sees the results, then loads 10,000 more rigs over MQTT and checks the table
 * keeps only the visible rows in the DOM. Screenshots (desktop and phone) go to e2e/artifacts/dashboard/ (git-ignored).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { MinerSnapshot, RigTopics, encodeJson } from '@rigwarden/protocol';
import { CgminerSimulator } from '@rigwarden/simulators';
import { makeTempDir, startNode, waitFor, type RunningProcess, type TempDir } from '@rigwarden/testing';

const root = join(__dirname, '..');
const bin = (name: string): string => join(root, 'bin', `${name}.js`);
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, 'artifacts', 'dashboard');
const RIGS = ['dash-1', 'dash-2', 'dash-3'];
const BULK = 10_000;
jest.setTimeout(120_000);

/** Debian's Chromium, installed with apt-get when missing. Fails (never skips) when it cannot be had. */
function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  let r = spawnSync('apt-get', ['install', '-y', 'chromium'], { encoding: 'utf8', timeout: 300_000 });
  if (!existsSync(CHROMIUM)) {
    spawnSync('apt-get', ['update'], { encoding: 'utf8', timeout: 300_000 });
    r = spawnSync('apt-get', ['install', '-y', 'chromium'], { encoding: 'utf8', timeout: 300_000 });
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(`the dashboard browser test needs Debian's Chromium at ${CHROMIUM}, and "apt-get install -y chromium" did not provide it `
      + `(exit ${r.status ?? r.signal}): ${(r.stderr || r.error?.message || '').slice(-600)}. Install it (as root: apt-get install -y chromium) and run the test again.`);
  }
}

describe('dashboard in a real browser', () => {
  let dir: TempDir;
  const sims = new Map<string, CgminerSimulator>();
  let controller: RunningProcess | undefined;
  let agent: RunningProcess | undefined;
  let startAgent: () => void = () => undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let base: string;
  let token: string;
  let endpoints: { grpc: string; mqtt: string; http: string };
  let topicRoot: string;
  const browserErrors: string[] = [];

  const shot = async (name: string): Promise<void> => {
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false });
  };
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${base}${path.replace(/^\//, '')}`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<T>;
  };

  beforeAll(async () => {
    ensureChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = makeTempDir('rigwarden-dash-e2e-');
    topicRoot = `e2e-dash-${randomBytes(4).toString('hex')}/v1`;
    for (const rig of RIGS) {
      // 600 shares a minute keep the active pool fresh; the fault below kills the primary of dash-1. Like a miner
      // without failover of its own, it keeps naming the dead pool as active: moving it is the controller's job.
      const sim = new CgminerSimulator({ state: { sharesPerMinute: 600, flagsDeadActivePool: true, model: rig === 'dash-3' ? 'Rigwarden SimASIC X2 Pro' : 'Rigwarden SimASIC X1' } });
      await sim.start();
      sims.set(rig, sim);
    }
    const keysFile = join(dir.path, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ rigs: Object.fromEntries(RIGS.map((r) => [r, [{ id: 'k1', secret: randomBytes(32).toString('base64url') }]])) }), { mode: 0o600 });
    const fleet = join(dir.path, 'fleet.yaml');
    writeFileSync(fleet, [
      'policy:', '  freshness: { staleAfterMs: 5000, maxGapMs: 3000 }',
      'groups:', '  - name: row-a', `    match: { rigIds: [${RIGS.join(', ')}] }`, '    pools:',
      ...sims.get('dash-1')!.state.pools.map((p) => `      - { url: "${p.url}", user: "${p.user}" }`),
      '    policy: { failover: { silentAfterMs: 30000 } }', '',
    ].join('\n'));
    const ready = join(dir.path, 'ready.json');
    const env = { RIGWARDEN_TOPIC_ROOT: topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${topicRoot}` };
    controller = startNode(bin('rigwarden-controller'), ['--data-dir', dir.path, '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', '--ready-file', ready,
      '--fleet', fleet, '--keys-file', keysFile, ...(process.env['MQTT_URL'] ? [] : ['--mqtt-port', '0', '--mqtt-allow-anonymous'])], env);
    endpoints = await waitFor('the controller', () => {
      if (controller!.child.exitCode !== null) throw new Error(controller!.output());
      return existsSync(ready) ? JSON.parse(readFileSync(ready, 'utf8')) as typeof endpoints : undefined;
    }, 30_000);
    base = endpoints.http;
    token = readFileSync(join(dir.path, 'admin.token'), 'utf8').trim();
    const config = join(dir.path, 'agent.yaml');
    writeFileSync(config, [
      'agent:', '  id: dash-agent', `  dataDir: ${JSON.stringify(join(dir.path, 'agent'))}`,
      'mqtt:', `  clientId: dash-agent-${topicRoot}`, 'poll:', '  intervalMs: 500',
      'security:', `  keysFile: ${JSON.stringify(keysFile)}`,
      'miners:', ...RIGS.flatMap((rig) => ['  - rig: ' + rig, '    id: m1', '    host: 127.0.0.1', `    port: ${sims.get(rig)!.address().port}`]), '',
    ].join('\n'));
    startAgent = () => { agent = startNode(bin('rigwarden-agent'), ['run', '--config', config], { ...env, MQTT_URL: endpoints.mqtt }); };

    context = await chromium.launchPersistentContext(join(dir.path, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1366, height: 900 },
    });
    page = context.pages()[0] ?? await context.newPage();
    page.on('pageerror', (err) => browserErrors.push(`pageerror: ${err.message}`));
    // The wrong key's 401 is expected; any other console error is a bug.
    page.on('console', (msg) => { if (msg.type() === 'error' && !/status of 401/.test(msg.text())) browserErrors.push(`console: ${msg.text()}`); });
  });

  afterAll(async () => {
    await context?.close();
    await agent?.stop();
    await controller?.stop('SIGINT');
    for (const sim of sims.values()) await sim.stop();
    dir?.remove();
  });

  it('signs in with an API key, refusing a wrong one with a message that says what to do', async () => {
    await page.goto(base);
    await page.fill('#api-key', 'rwk_wrong');
    await page.click('#sign-in button[type=submit]');
    await page.waitForSelector('#sign-in-error:has-text("refused")');
    await page.fill('#api-key', token);
    await page.click('#sign-in button[type=submit]');
    await page.waitForSelector('.live.on', { timeout: 10_000 });
    expect(await page.evaluate(() => sessionStorage.getItem('rigwarden.apiKey'))).toBe(token);
  });

  it('shows the rigs as the agent reports them, live, with the overview', async () => {
    await page.waitForSelector('#rig-count:has-text("0 rigs")');
    startAgent(); // the page is open and empty: the rigs must arrive without a reload
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=rig-row]').length === n, RIGS.length, { timeout: 30_000 });
    await page.waitForFunction(() => /3/.test(document.querySelector('[data-testid=stat-online] strong')?.textContent ?? ''), undefined, { timeout: 15_000 });
    expect(await page.locator('[data-testid=rig-row]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-rig')))).toEqual(RIGS);
    await page.waitForSelector('[data-testid=hottest] li');
    // Filter by model: only the X2 Pro.
    await page.fill('#filter-model', 'X2');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=rig-row]').length === 1);
    expect(await page.getAttribute('[data-testid=rig-row]', 'data-rig')).toBe('dash-3');
    await page.fill('#filter-model', '');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=rig-row]').length === 3);
    await shot('01-fleet-desktop');
  });

  it('shows the policy alert and the pool switch live when a rig\'s primary pool dies', async () => {
    await page.click('[data-rig="dash-1"] a');
    await page.waitForSelector('[data-testid=pools] [data-testid=pool-active]');
    expect(await page.textContent('[data-testid=pool-active] td.url')).toBe(sims.get('dash-1')!.state.pools[0]!.url);
    await page.waitForSelector('[data-testid=chart-hashrate] svg', { timeout: 15_000 });
    const before = Date.now();

    sims.get('dash-1')!.state.pools[0]!.status = 'Dead'; // the fault

    const event = await page.waitForSelector('#rig-events [data-kind="policy.switch-pool"]', { timeout: 30_000 }).catch(async (err: Error) => {
      throw new Error(`${err.message}\nevents: ${JSON.stringify(await api("/api/rigs/dash-1/events"))}\nrig: ${JSON.stringify(((await api("/api/rigs/dash-1")) as { rig: { miners: Array<{ pools: unknown }> } }).rig.miners[0]!.pools)}\ncontroller: ${controller!.output().slice(-3000)}`);
    });
    expect(await event.textContent()).toMatch(/active-pool-dead/);
    const backup = sims.get('dash-1')!.state.pools[1]!.url;
    await page.waitForFunction((url) => document.querySelector('[data-testid=pool-active] td.url')?.textContent === url, backup, { timeout: 15_000 });
    expect(sims.get('dash-1')!.state.activePool).toBe(1);
    const seenAfterMs = Date.now() - before;
    await shot('02-rig-after-failover');

    await page.click('a[href="#/"]');
    await page.waitForSelector('[data-testid=alerts] li.warning:has-text("active-pool-dead")', { timeout: 10_000 });
    await page.click('[data-nav=events]');
    await page.waitForSelector('#event-log [data-kind="policy.switch-pool"]:has-text("dash-1")');
    await shot('03-event-log');
    console.log(`[dashboard e2e] fault to switch shown in the browser: ${seenAfterMs} ms`);
  });

  it('restarts a miner through the confirm dialog and shows the command\'s result with its reason', async () => {
    await page.goto(`${base}#/rigs/dash-2`);
    await page.click('#action-restart');
    await page.waitForSelector('dialog#confirm[open]');
    await shot('04-confirm-dialog');
    await page.fill('#confirm-reason', 'e2e: restart from the dashboard');
    await page.click('#confirm-ok');
    const done = await page.waitForSelector('#rig-commands [data-testid=command][data-state=SUCCEEDED]', { timeout: 30_000 });
    expect(await done.textContent()).toMatch(/restart-miner[\s\S]*e2e: restart from the dashboard/);
    const { commands } = await api<{ commands: Array<{ type: string; state: string; requestedBy: string }> }>('/api/rigs/dash-2/commands');
    expect(commands[0]).toMatchObject({ type: 'restart-miner', state: 'SUCCEEDED', requestedBy: expect.stringMatching(/^operator:apikey:/) });
    await shot('05-rig-after-restart');
  });

  it('switches a miner to another of its pools from the pool table', async () => {
    const sim = sims.get('dash-3')!;
    await page.goto(`${base}#/rigs/dash-3`);
    await page.click('[data-testid=pool] button:has-text("Switch")');
    await page.waitForSelector('dialog#confirm[open]');
    expect(await page.textContent('#confirm-text')).toMatch(/Switch to pool 1 \(stratum\+tcp:\/\/pool-b/);
    await page.click('#confirm-ok');
    await page.waitForSelector('#rig-commands [data-testid=command][data-state=SUCCEEDED]:has-text("switch-pool")', { timeout: 30_000 });
    expect(sim.poolSwitches).toEqual([expect.objectContaining({ from: 0, to: 1, by: 'api' })]);
  });

  it('sends nothing when the confirmation is cancelled', async () => {
    await page.goto(`${base}#/rigs/dash-2`);
    await page.waitForSelector('#rig-commands [data-testid=command]');
    const before = (await api<{ commands: unknown[] }>('/api/commands')).commands.length;
    await page.click('#action-restart');
    await page.waitForSelector('dialog#confirm[open]');
    await page.click('#confirm-cancel');
    await page.waitForSelector('dialog#confirm:not([open])', { state: 'attached' });
    await new Promise((r) => setTimeout(r, 300));
    expect((await api<{ commands: unknown[] }>('/api/commands')).commands.length).toBe(before);
  });

  it('reads on a phone', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}#/`);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=rig-row]').length === 3);
    // The narrow layout drops the optional columns instead of scrolling sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
    expect(await page.locator('[data-testid=rig-row] .cell.opt').first().isVisible()).toBe(false);
    // Notifications of the earlier commands dismiss with a tap.
    for (let i = 0; i < 10 && await page.locator('.toast:visible').count() > 0; i++) await page.locator('.toast:visible').first().click({ timeout: 2000 });
    expect(await page.locator('.toast:visible').count()).toBe(0);
    await shot('06-fleet-phone');
    await page.goto(`${base}#/rigs/dash-1`);
    await page.waitForSelector('[data-testid=pools]');
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
    await shot('07-rig-phone');
    await page.setViewportSize({ width: 1366, height: 900 });
  });

  it('keeps only the visible rows in the DOM with 10,000 more rigs loaded through MQTT', async () => {
    const publisher = await mqtt.connectAsync(endpoints.mqtt, { clientId: `bulk-${topicRoot}` });
    const topics = new RigTopics(topicRoot);
    const started = Date.now();
    try {
      for (let i = 0; i < BULK; i++) {
        const rigId = `zz-bulk-${String(i).padStart(5, '0')}`;
        const s = MinerSnapshot.fromPartial({
          rigId, minerId: 'm1', seq: 1, collectedAt: new Date(), hashrate5sHs: 1e12 + i * 1e8, model: 'Bulk X9', algorithm: 'sha256d',
          boards: [{ index: 0, boardTempC: 50 + (i % 30), status: 1 }],
        });
        publisher.publish(topics.rig(rigId, 'telemetry'), encodeJson(MinerSnapshot, s), { qos: 0 });
        if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
      }
    } finally {
      await publisher.endAsync();
    }
    await waitFor('10,003 rigs in the API', async () => ((await api<{ total: number }>('/api/rigs?limit=1')).total === BULK + RIGS.length ? true : undefined), 60_000, 250);
    const ingestMs = Date.now() - started;
    const t0 = Date.now();
    await api('/api/rigs?sort=hashrateHs&dir=desc&limit=200');
    const sortMs = Date.now() - t0;

    await page.goto(`${base}#/`);
    await page.reload();
    await page.waitForSelector('#rig-count:has-text("10,003")', { timeout: 20_000 });
    const rendered = await page.locator('[data-testid=rig-row]').count();
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(80);
    // Scroll to the end: the last rig is drawn, and still only a window of rows exists.
    await page.$eval('#rig-viewport', (el) => { el.scrollTop = el.scrollHeight; });
    await page.waitForSelector('[data-rig="zz-bulk-09999"]', { timeout: 10_000 });
    expect(await page.locator('[data-testid=rig-row]').count()).toBeLessThan(80);
    await page.$eval('#rig-viewport', (el) => { el.scrollTop = 0; });
    // Sort by hashrate: a numeric column sorts highest first, a second click lowest first (the slowest bulk rig).
    await page.click('[data-sort=hashrateHs]');
    await page.waitForSelector('[data-sort=hashrateHs][aria-sort=descending]');
    await page.click('[data-sort=hashrateHs]');
    await page.waitForFunction(() => document.querySelector('[data-testid=rig-row]')?.getAttribute('data-rig') === 'zz-bulk-00000', undefined, { timeout: 10_000 });
    await shot('08-fleet-10k');
    console.log(`[dashboard e2e] ${BULK} rigs: ingested and listed in ${ingestMs} ms; API sort by hashrate ${sortMs} ms; ${rendered} rows in the DOM`);
    expect(browserErrors).toEqual([]);
  });
});
