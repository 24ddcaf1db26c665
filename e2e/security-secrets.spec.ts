/**
 * Security with real processes: the built controller and agent (each with its own command key file), a simulated
 * miner and rigctl. API keys are created, used (an operator command), refused for lack of scope, revoked; the rig's
 * command key is rotated over the signed channel; everything lands in the audit log (rigctl audit). Then every log line, every row of every
 * database table, the database files themselves and the agent's data files are searched for every secret used (API
 * tokens, rig secrets before and after rotation, the pepper): none appears.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { SecretBytes, findSecretLeaks, parseRigKeyFile } from '@rigwarden/security';
import { CgminerSimulator } from '@rigwarden/simulators';
import { makeTempDir, readAdminToken, runNode, startNode, waitFor, type RunningProcess, type TempDir } from '@rigwarden/testing';

const root = join(__dirname, '..');
const bin = (name: string): string => join(root, 'bin', `${name}.js`);
jest.setTimeout(90_000);

const RIG = 'sec-rig';

function allRows(dbPath: string): Promise<Record<string, unknown[]>> {
  return new Promise((resolve, reject) => {
    const db = new sqlite3.Database(dbPath, sqlite3.OPEN_READONLY, (err) => { if (err) reject(err); });
    db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'", (err, tables) => {
      if (err) return reject(err);
      const out: Record<string, unknown[]> = {};
      let pending = tables.length;
      for (const { name } of tables) {
        db.all(`SELECT * FROM "${name}"`, (e, rows) => {
          if (e) return reject(e);
          out[name] = rows;
          if (--pending === 0) db.close(() => resolve(out));
        });
      }
    });
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('API keys, rotation and audit with real processes; no secret in any log, row or data file', () => {
  let dir: TempDir;
  let sim: CgminerSimulator;
  let controller: RunningProcess | undefined;
  let agent: RunningProcess | undefined;

  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/controller/main.js'))) {
      const build = await runNode(join(root, 'tools/build.mjs'), [], {}, 60_000);
      if (build.code !== 0) throw new Error(`build failed: ${build.stderr}`);
    }
  });

  afterAll(async () => {
    await agent?.stop();
    await controller?.stop('SIGINT');
    await sim?.stop();
    dir?.remove();
  });

  it('creates, enforces, revokes, rotates and audits without leaking a secret', async () => {
    dir = makeTempDir('rigwarden-e2e-');
    sim = new CgminerSimulator();
    const { port } = await sim.start();
    const topicRoot = `e2e-sec-${randomBytes(4).toString('hex')}/v1`;
    const k1 = SecretBytes.generate();
    const keyFile = JSON.stringify({ rigs: { [RIG]: [{ id: 'k1', secret: k1.exposeBase64url() }] } });
    const controllerKeys = join(dir.path, 'controller-keys.json');
    const agentKeys = join(dir.path, 'agent-keys.json');
    writeFileSync(controllerKeys, keyFile, { mode: 0o600 });
    writeFileSync(agentKeys, keyFile, { mode: 0o600 });
    const dataDir = join(dir.path, 'controller');
    const ready = join(dir.path, 'ready.json');
    const env = { RIGWARDEN_TOPIC_ROOT: topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${topicRoot}`, LOG_LEVEL: 'debug' };
    controller = startNode(bin('rigwarden-controller'), ['--data-dir', dataDir, '--grpc', '127.0.0.1:0', '--ready-file', ready, '--keys-file', controllerKeys,
      ...(process.env['MQTT_URL'] ? [] : ['--mqtt-port', '0', '--mqtt-allow-anonymous'])], env);
    const endpoints = await waitFor('the controller', () => {
      if (controller!.child.exitCode !== null) throw new Error(controller!.output());
      return existsSync(ready) ? JSON.parse(readFileSync(ready, 'utf8')) as { grpc: string; mqtt: string; db: string } : undefined;
    }, 30_000);
    const agentConfig = join(dir.path, 'agent.yaml');
    writeFileSync(agentConfig, [
      'agent:', '  id: sec-agent', `  dataDir: ${JSON.stringify(join(dir.path, 'agent'))}`,
      'mqtt:', `  clientId: sec-agent-${topicRoot}`, 'poll:', '  intervalMs: 500',
      'security:', `  keysFile: ${JSON.stringify(agentKeys)}`,
      'miners:', `  - rig: ${RIG}`, '    id: m1', '    host: 127.0.0.1', `    port: ${port}`, '',
    ].join('\n'));
    agent = startNode(bin('rigwarden-agent'), ['run', '--config', agentConfig], { ...env, MQTT_URL: endpoints.mqtt });

    const outputs: string[] = [];
    const rigctl = async (args: string[], keyFile = join(dataDir, 'admin.token'), record = true) => {
      const result = await runNode(bin('rigctl'), ['--server', endpoints.grpc, ...args], { RIGWARDEN_API_KEY_FILE: keyFile, RIGWARDEN_API_KEY: '' });
      if (record) outputs.push(result.stdout, result.stderr);
      return result;
    };
    const adminToken = readAdminToken(dataDir);
    expect(adminToken).toMatch(/^rwk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(statSync(join(dataDir, 'admin.token')).mode & 0o777).toBe(0o600);

    // Keys: created (the token printed once, on stdout only), listed, refused for lack of scope, revoked.
    const created: Record<string, { token: string; id: string }> = {};
    for (const [name, scope] of [['ops', 'operate'], ['viewer', 'read']] as const) {
      const out = await rigctl(['keys', 'create', '--name', name, '--scopes', scope], undefined, false);
      expect(out.code).toBe(0);
      outputs.push(out.stderr); // stdout is the token itself
      const token = out.stdout.trim();
      created[name] = { token, id: token.slice(4, 20) };
      writeFileSync(join(dir.path, `${name}.token`), token, { mode: 0o600 });
    }
    const viewer = join(dir.path, 'viewer.token');
    const ops = join(dir.path, 'ops.token');
    expect((await rigctl(['rigs', '--json'], viewer)).code).toBe(0);
    const denied = await rigctl(['keys', 'list'], viewer);
    expect(denied.code).toBe(4); // rigctl's exit code for denied
    expect(denied.stderr).toMatch(/permission denied: AdminService\/ListApiKeys needs an API key with scope admin/);
    const list = await rigctl(['keys', 'list', '--json']);
    const keys = (JSON.parse(list.stdout) as { keys: Array<{ keyId: string; name: string; scopes: string[]; lastUsedAt?: string }> }).keys;
    expect(keys.map((k) => [k.name, k.scopes.join(',')])).toEqual([['bootstrap-admin', 'read,operate,admin'], ['ops', 'read,operate'], ['viewer', 'read']]);
    expect(keys.find((k) => k.name === 'viewer')?.lastUsedAt).toBeDefined();

    // Once the agent is up: an operator command with the operate key, refused with the read key.
    await waitFor('the rig online', async () => {
      const { stdout, code } = await rigctl(['rig', RIG, '--json'], undefined, false);
      return code === 0 && (JSON.parse(stdout) as { online?: boolean }).online ? true : undefined;
    }, 30_000, 250);
    const restart = await rigctl(['restart', RIG, '--reason', 'e2e security', '--timeout-seconds', '20'], ops);
    expect({ code: restart.code, stderr: restart.stderr }).toEqual({ code: 0, stderr: '' });
    expect((await rigctl(['restart', RIG], viewer)).code).toBe(4);

    expect((await rigctl(['keys', 'revoke', created['ops']!.id])).code).toBe(0);
    const revoked = await rigctl(['rigs'], ops);
    expect(revoked.code).toBe(4);
    expect(revoked.stderr).toContain(`API key ${created['ops']!.id} was revoked`);

    // The rig key rotated over the signed channel.
    const rotation = await rigctl(['keys', 'rotate', '--rig', RIG, '--agent-timeout', '20']);
    expect(rotation.stderr).toBe('');
    expect(rotation.stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0])).toEqual(['delivering', 'confirmed', 'switched', 'retired']);
    expect(rotation.code).toBe(0);
    const agentRing = parseRigKeyFile(readFileSync(agentKeys, 'utf8'), agentKeys).ring;
    const k2 = agentRing.signingKey(RIG, Date.now());
    expect(k2.id).not.toBe('k1');
    expect(agentRing.lookup(RIG, 'k1', Date.now())).toEqual({ ok: false, reason: 'retired_key' });

    // The audit log, through rigctl: creations, the denial, the revocation, each rotation step and command.
    const audit = JSON.parse((await rigctl(['audit', '--json', '--limit', '200'])).stdout) as { entries: Array<{ principal: string; action: string; target?: string; outcome: string }> };
    const rows = audit.entries.map((e) => `${e.principal} ${e.action} ${e.target ?? ''} ${e.outcome}`);
    const admin = `apikey:${adminToken.slice(4, 20)}`;
    expect(rows).toEqual(expect.arrayContaining([
      `${admin} apikey.create ${created['ops']!.id} ok`,
      `${admin} AdminService/CreateApiKey ops ok`,
      `apikey:${created['viewer']!.id} AdminService/ListApiKeys  denied`,
      `${admin} apikey.revoke ${created['ops']!.id} ok`,
      `apikey:${created['ops']!.id} FleetService/ListRigs  unauthenticated`,
      `${admin} rigkey.rotate ${RIG} retired`,
      `${admin} command.rotate-key ${RIG} succeeded`,
      `${admin} command.retire-key ${RIG} succeeded`,
      `${admin} AdminService/RotateRigKey ${RIG} ok`,
      `apikey:${created['ops']!.id} FleetService/RestartMiner ${RIG} ok`,
      `apikey:${created['ops']!.id} command.restart-miner ${RIG} succeeded`,
    ]));
    // Refusals are aggregated per key and minute: the viewer's second one (RestartMiner) is counted in the summary row
    // written when its window ends, here at shutdown (checked below), not as a row of its own.
    expect(rows).not.toContain(`apikey:${created['viewer']!.id} FleetService/RestartMiner  denied`);
    const filtered = JSON.parse((await rigctl(['audit', '--json', '--principal', `apikey:${created['viewer']!.id}`])).stdout) as { entries: Array<{ principal: string }> };
    expect(filtered.entries.length).toBeGreaterThan(0);
    expect(filtered.entries.every((e) => e.principal === `apikey:${created['viewer']!.id}`)).toBe(true);
    expect((await rigctl(['audit'])).stdout).toMatch(/SEQ\s+AT\s+PRINCIPAL\s+ACTION\s+TARGET\s+OUTCOME/);
    const verified = await rigctl(['audit', '--verify']);
    expect({ code: verified.code, stdout: verified.stdout }).toEqual({ code: 0, stdout: expect.stringMatching(/^audit log intact: \d+ rows; anchor: seq \d+ hash \S+/) });

    await agent.stop();
    agent = undefined;
    await controller.stop('SIGINT');
    const logs = controller.output();
    controller = undefined;

    // The grep: every secret, in every form, nowhere.
    const pepper = SecretBytes.fromBase64url((JSON.parse(readFileSync(join(dataDir, 'controller-secrets.json'), 'utf8')) as { apiKeyPepper: string }).apiKeyPepper);
    const secrets = {
      adminToken, opsToken: created['ops']!.token, viewerToken: created['viewer']!.token, rigSecretK1: k1, rigSecretRotated: k2.secret, pepper,
    };
    expect(logs).toContain('gRPC API listening'); // the logs were captured (LOG_LEVEL=debug)
    expect(findSecretLeaks(logs, secrets)).toEqual([]);
    expect(findSecretLeaks(outputs.join('\n'), secrets)).toEqual([]);
    const tables = await allRows(endpoints.db);
    expect(Object.keys(tables)).toEqual(expect.arrayContaining(['api_keys', 'audit', 'commands']));
    expect(tables['api_keys']).toHaveLength(3);
    const viewerSummaries = (tables['audit'] as Array<{ principal: string; action: string; outcome: string; detail: string }>)
      .filter((r) => r.principal === `apikey:${created['viewer']!.id}` && r.action === 'refusals')
      .map((r) => ({ outcome: r.outcome, ...(JSON.parse(r.detail) as { count: number; actions: Record<string, number> }) }));
    expect(viewerSummaries).toEqual([expect.objectContaining({ outcome: 'refused', count: 1, actions: { 'FleetService/RestartMiner': 1 } })]);
    for (const [table, rows] of Object.entries(tables)) {
      expect({ table, leaks: findSecretLeaks(JSON.stringify(rows), secrets) }).toEqual({ table, leaks: [] });
    }
    for (const file of filesUnder(dataDir).filter((f) => /rigwarden\.db/.test(f))) {
      expect({ file, leaks: findSecretLeaks(readFileSync(file), secrets) }).toEqual({ file, leaks: [] });
    }
    for (const file of filesUnder(join(dir.path, 'agent'))) {
      expect({ file, leaks: findSecretLeaks(readFileSync(file), secrets) }).toEqual({ file, leaks: [] });
    }
  });
});
