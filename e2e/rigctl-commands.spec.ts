/**
 * rigctl's command subcommands on the built bundles: the real controller process (embedded broker, API keys on),
 * an agent stand-in answering commands over MQTT, and dist/cli through bin/rigctl.js: the exit codes scripts rely on
 * (0 ok, 1 failed/rejected/timed out, 2 usage or invalid argument, 3 not found, 4 unauthenticated, 5 unreachable),
 * --json, and bulk progress lines.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { CommandOutcome, CommandResult, MinerSnapshot, RigState, RigTopics, decodeCommandEnvelope, encodeJson, type CommandEnvelope } from '@rigwarden/protocol';
import { RigKeyFile, RigMessageSigner, openSetPools } from '@rigwarden/security';
import { makeTempDir, runNode, startNode, waitFor, type RunningProcess, type TempDir } from '@rigwarden/testing';

const root = join(__dirname, '..');
const bin = (name: string): string => join(root, 'bin', `${name}.js`);
const RIGS = ['cmd-ok', 'cmd-fail', 'cmd-silent'];

jest.setTimeout(60_000);

describe('rigctl command subcommands against the built controller', () => {
  let dir: TempDir;
  let controller: RunningProcess;
  let agent: MqttClient;
  let grpc: string;
  let env: NodeJS.ProcessEnv;
  const received: CommandEnvelope[] = [];
  const rigctl = (...args: string[]) => runNode(bin('rigctl'), ['--server', grpc, ...args], env, 30_000);

  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/cli/main.js'))) {
      const build = await runNode(join(root, 'tools/build.mjs'), [], {}, 60_000);
      if (build.code !== 0) throw new Error(`build failed: ${build.stderr}`);
    }
    dir = makeTempDir('rigwarden-e2e-');
    const topicRoot = `e2e-${randomBytes(5).toString('hex')}/v1`;
    const keysFile = join(dir.path, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ rigs: Object.fromEntries(RIGS.map((r) => [r, [{ id: 'k1', secret: randomBytes(32).toString('base64url') }]])) }), { mode: 0o600 });
    const readyFile = join(dir.path, 'ready.json');
    controller = startNode(bin('rigwarden-controller'), [
      '--data-dir', dir.path, '--grpc', '127.0.0.1:0', '--ready-file', readyFile, '--keys-file', keysFile,
      ...(process.env['MQTT_URL'] ? [] : ['--mqtt-port', '0', '--mqtt-allow-anonymous']),
    ], { RIGWARDEN_TOPIC_ROOT: topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${topicRoot}` });
    const ready = await waitFor('the controller to be ready', () => {
      if (controller.child.exitCode !== null) throw new Error(`controller exited: ${controller.output()}`);
      return existsSync(readyFile) ? JSON.parse(readFileSync(readyFile, 'utf8')) as { grpc: string; mqtt: string } : undefined;
    }, 30_000);
    grpc = ready.grpc;
    env = { RIGWARDEN_API_KEY_FILE: join(dir.path, 'admin.token'), RIGWARDEN_API_KEY: '' };

    // The agent stand-in: cmd-ok succeeds, cmd-fail fails, cmd-silent never answers.
    const topics = new RigTopics(topicRoot);
    const signer = new RigMessageSigner(() => new RigKeyFile(join(dir.path, 'keys.json')).keyRing()); // the controller refuses unsigned results
    agent = await mqtt.connectAsync(ready.mqtt, { clientId: `agent-${topicRoot}` });
    agent.on('message', (_topic, payload) => {
      const envelope = decodeCommandEnvelope(payload);
      received.push(envelope);
      if (envelope.rigId === 'cmd-silent') return;
      const ok = envelope.rigId === 'cmd-ok';
      const result = CommandResult.fromPartial({
        commandId: envelope.commandId, rigId: envelope.rigId, durationMs: 4, finishedAt: new Date(),
        outcome: ok ? CommandOutcome.COMMAND_OUTCOME_SUCCEEDED : CommandOutcome.COMMAND_OUTCOME_FAILED,
        cause: ok ? `did ${envelope.payload!.$case}` : 'unsupported: driver cgminer cannot do restarting the miner',
      });
      void agent.publishAsync(topics.rig(envelope.rigId, 'results'), encodeJson(CommandResult, signer.signResult(result, Date.now())), { qos: 1 });
    });
    await agent.subscribeAsync(topics.allRigs('commands'), { qos: 1 });
    for (const rigId of RIGS) {
      await agent.publishAsync(topics.rig(rigId, 'state'), encodeJson(RigState, { rigId, agentId: 'agent-e2e', online: true, agentVersion: '0.1.0', at: new Date(), labels: { row: rigId === 'cmd-silent' ? '2' : '1' } }), { qos: 1, retain: true });
      await agent.publishAsync(topics.rig(rigId, 'telemetry'), encodeJson(MinerSnapshot, MinerSnapshot.fromPartial({ rigId, minerId: 'm1', seq: 1, collectedAt: new Date(), model: 'Antminer S19' })), { qos: 1 });
    }
    await waitFor('the rigs', async () => {
      const r = await rigctl('commands', '--rig', 'cmd-silent');
      return r.code === 0 ? true : undefined;
    }, 20_000, 200);
  });

  afterAll(async () => {
    await agent?.endAsync();
    await controller?.stop();
    dir?.remove();
  });

  it('restart: exit 0 with the result; --json gives the CommandStatus with who asked', async () => {
    const human = await rigctl('restart', 'cmd-ok', '--reason', 'stuck');
    expect(human).toMatchObject({ code: 0 });
    expect(human.stdout).toMatch(/^command [0-9a-f-]{36} restart-miner on cmd-ok\/m1: SUCCEEDED \(1 attempt\): did restartMiner/);
    const json = await rigctl('restart', 'cmd-ok', '--json');
    expect(json.code).toBe(0);
    const status = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(status).toMatchObject({ rigId: 'cmd-ok', minerId: 'm1', type: 'restart-miner', state: 'COMMAND_STATE_SUCCEEDED', attempts: 1 });
    expect(status['requestedBy']).toMatch(/^operator:\S+/);
    expect(status['requestedBy']).not.toBe('operator:anonymous');
  });

  it('exit 1 when the agent reports a failure or never answers before the deadline', async () => {
    const failed = await rigctl('restart', 'cmd-fail');
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('FAILED (1 attempt): unsupported: driver cgminer cannot do restarting the miner');
    const silent = await rigctl('reboot', 'cmd-silent', '--timeout-seconds', '2', '--json');
    expect(silent.code).toBe(1);
    expect(JSON.parse(silent.stdout)).toMatchObject({ state: 'COMMAND_STATE_TIMED_OUT', type: 'reboot-host', cause: expect.stringContaining('no result from rig cmd-silent within 2 s') });
  });

  it('--no-wait answers once the command is sent (exit 0), and `command --wait` follows it to the end', async () => {
    const sent = await rigctl('set-pools', 'cmd-ok', '--pool', 'stratum+tcp://a.example:3333,farm.w1,x', '--pool', 'stratum+tcp://b.example:3333,farm.w1', '--no-wait', '--json');
    expect(sent.code).toBe(0);
    const id = (JSON.parse(sent.stdout) as { commandId: string }).commandId;
    const followed = await rigctl('command', id, '--wait');
    expect(followed.code).toBe(0);
    expect(followed.stdout).toMatch(new RegExp(`command +${id}\\n`));
    expect(followed.stdout).toMatch(/state +SUCCEEDED/);
    // The password travels sealed to the rig key; opened with it, it is the one given.
    const delivered = received.find((e) => e.commandId === id)!.payload;
    if (delivered?.$case !== 'setPools') throw new Error(`expected a set-pools delivery, got ${delivered?.$case}`);
    expect(delivered.value.pools[0]!.password).toMatch(/^rwp1\./);
    expect(openSetPools(delivered.value, new RigKeyFile(join(dir.path, 'keys.json')), 'cmd-ok', id, Date.now())).toEqual({ pools: [
      { url: 'stratum+tcp://a.example:3333', user: 'farm.w1', password: 'x' }, { url: 'stratum+tcp://b.example:3333', user: 'farm.w1', password: '' },
    ] });
    const listed = await rigctl('commands', '--rig', 'cmd-ok', '--json');
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { commands: Array<{ commandId: string }> }).commands[0]!.commandId).toBe(id);
    const table = await rigctl('commands', '--rig', 'cmd-ok');
    expect(table.stdout.split('\n')[0]).toMatch(/^COMMAND +RIG +MINER +TYPE +STATE +ATTEMPTS +CREATED +BY +CAUSE$/);
  });

  it.each([
    ['an unknown rig', 3, ['restart', 'no-such-rig'], /no rig "no-such-rig"/],
    ['an unknown command id', 3, ['command', 'no-such-command'], /no command "no-such-command"/],
    ['a bad pool URL (the server names the field)', 2, ['set-pools', 'cmd-ok', '--pool', 'http://x,w'], /pools\[0\]\.url/],
    ['a missing --pool', 2, ['set-pools', 'cmd-ok'], /at least one --pool/],
    ['an unknown option', 2, ['restart', 'cmd-ok', '--bogus'], /unknown option "--bogus"/],
    ['bulk without a selector', 2, ['bulk', 'restart'], /needs a selector/],
    ['bulk naming an unknown rig', 3, ['bulk', 'restart', '--rig', 'nope'], /never heard of "nope"/],
    ['bulk matching nothing', 3, ['bulk', 'restart', '--label', 'row=9'], /no rig matches the selector/],
  ])('%s: exit %i', async (_label, code, args, message) => {
    const r = await rigctl(...args);
    expect(r.code).toBe(code);
    expect(r.stderr + r.stdout).toMatch(message);
  });

  it('exit 4 with a wrong API key, exit 5 when the controller is unreachable', async () => {
    const denied = await runNode(bin('rigctl'), ['--server', grpc, 'restart', 'cmd-ok'], { RIGWARDEN_API_KEY: 'rwk_nope_nope', RIGWARDEN_API_KEY_FILE: '' });
    expect(denied.code).toBe(4);
    expect(denied.stderr).toMatch(/refused the API key/);
    const down = await runNode(bin('rigctl'), ['--server', '127.0.0.1:1', '--timeout', '2000', 'restart', 'cmd-ok', '--no-wait'], env);
    expect(down.code).toBe(5);
    expect(down.stderr).toMatch(/cannot reach the controller|did not answer in time/);
  });

  it('bulk: a progress line per rig off a terminal, the per-rig results as JSON, exit 1 when a rig failed', async () => {
    const r = await rigctl('bulk', 'restart', '--label', 'row=1', '--reason', 'nightly', '--json');
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => l.replace(/^\[(\d)\/2\].*/, '$1')).sort()).toEqual(['1', '2']);
    expect(r.stderr).toMatch(/\] cmd-ok SUCCEEDED \(1 attempt\): did restartMiner/);
    expect(r.stderr).toMatch(/\] cmd-fail FAILED \(1 attempt\): unsupported/);
    const out = JSON.parse(r.stdout) as { total: number; succeeded: number; failed: number; rigs: Array<{ rigId: string; state: string; reason: string }> };
    expect(out).toMatchObject({ total: 2, succeeded: 1, failed: 1 });
    expect(out.rigs.map((x) => x.rigId).sort()).toEqual(['cmd-fail', 'cmd-ok']);
    expect(out.rigs.every((x) => x.reason === 'nightly')).toBe(true);

    const before = received.length;
    const dry = await rigctl('bulk', 'reboot', '--all', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/dry run: 3 rigs would get reboot; nothing was sent/);
    expect(received.length).toBe(before);

    const ok = await rigctl('bulk', 'apply-profile', '--profile', 'eco', '--rig', 'cmd-ok');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/1 rig: 1 succeeded, 0 failed/);
  });

  it('bulk on a terminal: a progress bar redrawn in place instead of lines (util-linux script gives it a pty)', async () => {
    const line = ['node', bin('rigctl'), '--server', grpc, 'bulk', 'restart', '--rig', 'cmd-ok', '--rig', 'cmd-fail'].map((a) => `'${a}'`).join(' ');
    const r = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
      const child = spawn('script', ['-qec', line, '/dev/null'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      child.once('error', reject);
      child.once('exit', (code) => resolve({ code, out }));
    });
    expect(r.code).toBe(1);
    expect(r.out).toContain('\r[###############---------------] 1/2  ok ');
    expect(r.out).toMatch(/\r\[#{30}\] 2\/2  ok 1  failed 1\r?\n/);
    expect(r.out).not.toMatch(/\[\d\/2\] cmd-/); // no per-rig lines on a terminal
    expect(r.out).toMatch(/2 rigs: 1 succeeded, 1 failed/);
  });
});
