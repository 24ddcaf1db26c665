/**
 * Capabilities end to end, real processes: the controller (dist/, embedded broker), the agent (dist/) driving a
 * Whatsminer API v3 simulator on a loopback port with the whatsminer-v3 driver, and rigctl. The agent publishes what
 * each miner accepts; rigctl sets the power mode and turns the LED on, and the simulator's state shows both; a miner
 * configured without the admin password reads only, so rigctl is refused at the controller, naming the capability.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WhatsminerV3Simulator } from '@rigwarden/simulators';
import { makeTempDir, runNode, startNode, waitFor, type RunningProcess, type TempDir } from '@rigwarden/testing';

jest.setTimeout(60_000);
const root = join(__dirname, '..');
const bin = (name: string): string => join(root, 'bin', `${name}.js`);

describe('e2e: Whatsminer v3 capabilities through rigctl, the controller and the agent', () => {
  let dir: TempDir;
  let admin: WhatsminerV3Simulator;
  let readOnly: WhatsminerV3Simulator;
  const processes: RunningProcess[] = [];
  let grpc = '';

  beforeAll(async () => {
    dir = makeTempDir('rigwarden-wm3-caps-');
    admin = new WhatsminerV3Simulator({ password: 'admin-pass' });
    readOnly = new WhatsminerV3Simulator({ password: 'admin-pass' });
    const a = await admin.start();
    const r = await readOnly.start();
    const topicRoot = `e2e-wm3-${randomBytes(4).toString('hex')}/v1`;
    const env = { RIGWARDEN_TOPIC_ROOT: topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${topicRoot}`, LOG_LEVEL: 'warn' };
    const keysFile = join(dir.path, 'keys.json');
    const key = () => [{ id: 'k1', secret: randomBytes(32).toString('base64url') }];
    writeFileSync(keysFile, JSON.stringify({ rigs: { 'wm-admin': key(), 'wm-readonly': key() } }), { mode: 0o600 });

    const controllerReady = join(dir.path, 'controller.ready.json');
    const controller = startNode(bin('rigwarden-controller'), ['--data-dir', join(dir.path, 'controller'), '--grpc', '127.0.0.1:0',
      '--ready-file', controllerReady, '--keys-file', keysFile, ...(process.env['MQTT_URL'] ? [] : ['--mqtt-port', '0', '--mqtt-allow-anonymous'])], env);
    processes.push(controller);
    const endpoints = await waitFor('the controller', () => {
      if (controller.child.exitCode !== null) throw new Error(`controller exited:\n${controller.output()}`);
      return existsSync(controllerReady) ? JSON.parse(readFileSync(controllerReady, 'utf8')) as { grpc: string; mqtt: string } : undefined;
    }, 30_000, 50);
    grpc = endpoints.grpc;

    const agentConfig = join(dir.path, 'agent.yaml');
    writeFileSync(agentConfig, [
      'agent:', '  id: agent-wm3', `  dataDir: ${JSON.stringify(join(dir.path, 'agent'))}`,
      'poll:', '  intervalMs: 500',
      'security:', `  keysFile: ${JSON.stringify(keysFile)}`,
      'miners:',
      `  - { rig: wm-admin, driver: whatsminer-v3, host: 127.0.0.1, port: ${a.port}, id: m1, options: { password: admin-pass } }`,
      `  - { rig: wm-readonly, driver: whatsminer-v3, host: 127.0.0.1, port: ${r.port}, id: m1 }`,
      '',
    ].join('\n'));
    processes.push(startNode(bin('rigwarden-agent'), ['run', '--config', agentConfig], { ...env, MQTT_URL: endpoints.mqtt }));
  });

  afterAll(async () => {
    for (const p of processes.reverse()) await p.stop('SIGTERM', 5000);
    await admin?.stop();
    await readOnly?.stop();
    dir?.remove();
  });

  const rigctl = (...args: string[]) => {
    const token = join(dir.path, 'controller', 'admin.token');
    return runNode(bin('rigctl'), ['--server', grpc, ...args], existsSync(token) ? { RIGWARDEN_API_KEY_FILE: token } : {}, 30_000);
  };
  const capabilitiesOf = async (rigId: string): Promise<string[] | undefined> => {
    const r = await rigctl('rig', rigId, '--json');
    if (r.code !== 0) return undefined;
    const caps = (JSON.parse(r.stdout) as { miners?: Array<{ capabilities?: string[] }> }).miners?.[0]?.capabilities;
    return caps && caps.length > 0 ? caps : undefined;
  };
  const logs = () => processes.map((p) => p.output().slice(-2000)).join('\n---\n');

  it('publishes what each miner accepts: everything with the password, reads only without', async () => {
    const full = await waitFor('wm-admin capabilities at the controller', () => capabilitiesOf('wm-admin'), 30_000, 250).catch((e: Error) => { throw new Error(`${e.message}\n${logs()}`); });
    expect(full).toEqual(['read', 'set-pools', 'restart', 'reboot', 'power-mode', 'power-target', 'fault-light']);
    expect(await waitFor('wm-readonly capabilities', () => capabilitiesOf('wm-readonly'), 30_000, 250)).toEqual(['read']);
  });

  it('rigctl power-mode low and fault-light --on change the simulated miner', async () => {
    const mode = await rigctl('power-mode', 'wm-admin', '--mode', 'low', '--reason', 'e2e', '--json');
    expect(mode.code).toBe(0);
    expect(JSON.parse(mode.stdout)).toMatchObject({ rigId: 'wm-admin', type: 'set-power-mode', state: 'COMMAND_STATE_SUCCEEDED', cause: 'power mode low' });
    expect(admin.state.mode).toBe('low');

    const light = await rigctl('fault-light', 'wm-admin', '--on', '--json');
    expect(light.code).toBe(0);
    expect(JSON.parse(light.stdout)).toMatchObject({ type: 'set-fault-light', state: 'COMMAND_STATE_SUCCEEDED', cause: 'fault light on' });
    expect(admin.state.ledStatus).not.toBe('auto');
  });

  it('a miner without the password: rigctl is refused at the controller naming the capability and the fix, and nothing is written', async () => {
    await waitFor('wm-readonly capabilities', () => capabilitiesOf('wm-readonly'), 30_000, 250);
    const refused = await rigctl('power-mode', 'wm-readonly', '--mode', 'low');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('(capability "power-mode" missing)');
    expect(refused.stderr).toContain('options.password');
    expect(readOnly.state.mode).toBe('normal');
    expect(readOnly.requests.filter((q) => String(q.body?.['cmd']).startsWith('set.'))).toEqual([]);
  });
});
