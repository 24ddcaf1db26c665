/**
 * `npm start` as a new user runs it: controller, embedded broker, simulated farm and
 * agent come up within a minute, rigctl shows the farm (9 rigs: the Braiins OS+ rig sim-007 and the Whatsminer
 * API v3 rig sim-009 read through their own drivers), the scheduled faults make the policies act (a hung pool is
 * left, by sim-001 through the cgminer API and by sim-007 through gRPC; an overheating board is stepped down), and
 * Ctrl-C (SIGINT) stops every process it started.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { readFileSync, statSync } from 'node:fs';
import { farmControl, type ApiRigState, type AsicRigState } from '@rigwarden/simulators';
import { makeTempDir, runNode, waitFor, type TempDir } from '@rigwarden/testing';

const root = join(__dirname, '..');
jest.setTimeout(120_000);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start', () => {
  let dir: TempDir;
  beforeAll(() => { dir = makeTempDir('rigwarden-start-'); });
  afterAll(() => dir.remove());

  it('comes up in under a minute, shows the demo farm, acts on its faults, and stops cleanly on SIGINT', async () => {
    const started = Date.now();
    // --faults-start 5: the demo's fault schedule from 5 s in (the miners are on their pools by then) instead of 45 s.
    const child = spawn(process.execPath, [join(root, 'tools/start.mjs'), '--rigs', '9', '--data-dir', dir.path, '--no-build', '--faults-start', '5'], {
      cwd: root, env: { ...process.env, MQTT_URL: '', LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { output += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let pids: number[] = [];
    try {
      // The whole banner, through its last line: under load it can arrive in more than one chunk.
      const banner = await waitFor('the start banner', () => /gRPC API\s+(\S+)[\s\S]*\(pids: ([^)]*)\)/.exec(output) ?? undefined, 60_000, 100);
      const grpc = banner[1]!;
      pids = [...banner[2]!.matchAll(/(controller|simfarm|agent) (\d+)/g)].map((m) => Number(m[2]));
      expect(pids).toHaveLength(3);
      const rigs = await waitFor('nine rigs with data', async () => {
        const { code, stdout } = await runNode(join(root, 'bin/rigctl.js'), ['--server', grpc, 'rigs', '--json'], { RIGWARDEN_API_KEY_FILE: join(dir.path, 'admin.token') });
        if (code !== 0) return undefined;
        type Miner = { driver?: string; hashrate5sHs?: number; hashrateWindows?: Array<{ label: string; hashrateHs: number }> };
        const parsed = JSON.parse(stdout) as { rigs: Array<{ rigId: string; miners: Miner[] }> };
        // A hashrate: the 5 s one, or under the miner's own window label (an Avalon's 30s): no 5 s rate is made up.
        const hashing = (m: Miner | undefined) => m?.hashrate5sHs !== undefined || (m?.hashrateWindows ?? []).length > 0;
        return parsed.rigs.length === 9 && parsed.rigs.every((r) => hashing(r.miners[0])) ? parsed.rigs : undefined;
      }, 30_000, 250);
      expect(rigs.map((r) => r.rigId)).toEqual(['sim-001', 'sim-002', 'sim-003', 'sim-004', 'sim-005', 'sim-006', 'sim-007', 'sim-008', 'sim-009']);
      // Each vendor rig read through its firmware's own API, with the driver the farm's agent config names.
      expect(rigs.filter((r) => ['sim-004', 'sim-007', 'sim-009'].includes(r.rigId)).map((r) => [r.rigId, r.miners[0]!.driver]))
        .toEqual([['sim-004', 'antminer-web+cgminer-api'], ['sim-007', 'braiins-grpc'], ['sim-009', 'whatsminer-v3']]);
      // The demo agent logged in to the embedded broker with credentials npm start made: hashes for the controller,
      // the password for the agent, both 0600 in the data dir, the password nowhere in the users file.
      const password = readFileSync(join(dir.path, 'demo-agent.mqtt-password'), 'utf8').trim();
      expect(password.length).toBeGreaterThanOrEqual(32);
      expect(readFileSync(join(dir.path, 'broker-users.yaml'), 'utf8')).not.toContain(password);
      expect([statSync(join(dir.path, 'demo-agent.mqtt-password')).mode & 0o777, statSync(join(dir.path, 'broker-users.yaml')).mode & 0o777]).toEqual([0o600, 0o600]);
      expect(Date.now() - started).toBeLessThan(60_000);

      // The demo's faults: pool-a hangs at 5 s (the demo fleet leaves a pool after 20 s without shares), sim-002
      // overheats at 20 s (stepped down after 10 s above 80 °C).
      const events = async (rig: string): Promise<Array<{ kind: string; reason: string }>> => {
        const { code, stdout } = await runNode(join(root, 'bin/rigctl.js'), ['--server', grpc, 'events', rig, '--json'], { RIGWARDEN_API_KEY_FILE: join(dir.path, 'admin.token') });
        return code === 0 ? (JSON.parse(stdout) as { events?: Array<{ kind: string; reason: string }> }).events ?? [] : [];
      };
      const failover = await waitFor('a failover off the hung pool', async () => (await events('sim-001')).find((e) => e.kind === 'policy.switch-pool'), 45_000, 1000);
      expect(failover.reason).toBe('active-pool-silent');
      // The Braiins OS+ rig, on the same hung pool, is moved through PoolService/SetPoolGroups.
      const bos = await waitFor('sim-007 failed over through gRPC', async () => (await events('sim-007')).find((e) => e.kind === 'policy.switch-pool'), 45_000, 1000);
      expect(bos.reason).toBe('active-pool-silent');
      const control = (JSON.parse(readFileSync(join(dir.path, 'simfarm.ready.json'), 'utf8')) as { control: string }).control;
      await waitFor('sim-001 mining on pool-b', async () => ((await farmControl<AsicRigState>(control, 'GET', '/rigs/sim-001')).activePool === 1 ? true : undefined), 10_000, 250);
      const bosState = await waitFor('sim-007 mining on pool-b', async () => {
        const r = await farmControl<ApiRigState>(control, 'GET', '/rigs/sim-007');
        return r.activePool !== undefined && r.pools[r.activePool]!.name === 'pool-b' ? r : undefined;
      }, 20_000, 250);
      expect(bosState.writes).toContain('PoolService/SetPoolGroups');
      const thermal = await waitFor('the overheating board stepped down', async () => (await events('sim-002')).find((e) => e.kind === 'policy.apply-profile'), 45_000, 1000);
      expect(thermal.reason).toBe('temperature-high');
      expect((await farmControl<AsicRigState>(control, 'GET', '/rigs/sim-002')).workMode).toBe(0);

      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(output).toMatch(/rigwarden: stopped/);
      for (const pid of pids) expect(alive(pid)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL'); // only after a failure
    }
  });
});
