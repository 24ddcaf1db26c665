/**
 * Scenario: an operator drives the farm with rigctl. Real processes: simfarm (stratum pools + cgminer APIs), the
 * controller (commands stored, signed, retried), the agent (verifies, journals, runs through the cgminer driver),
 * and rigctl. No fleet group governs these rigs, so every change the miners show came from the operator.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AsicRigState } from '@rigwarden/simulators';
import { runNode, waitFor } from '@rigwarden/testing';
import { Scenario, bin, report } from './scenario-harness';

jest.setTimeout(60_000);
const RIGS = ['ops-01', 'ops-02', 'ops-03'];

describe('scenario: operator commands through rigctl', () => {
  let scenario: Scenario | undefined;
  afterAll(async () => { await scenario?.stop(); });

  it('switches a row of miners with one bulk command, restarts one, and reports what cannot be done', async () => {
    scenario = await Scenario.start('operator-commands', {
      pollMs: 500,
      farm: {
        pools: [{ name: 'pool-a', notifyIntervalMs: 500 }, { name: 'pool-b', notifyIntervalMs: 500 }],
        rigs: RIGS.map((id) => ({ id, kind: 'asic' as const, dialect: 'cgminer' as const, pools: ['pool-a', 'pool-b'], labels: { row: 'ops' } })),
        mining: { shareIntervalMs: 500, reconnectMs: 250 },
        restartDownMs: 300,
      },
      fleet: () => 'groups: []\n',
    });
    const s = scenario;
    const token = join(s.dir.path, 'admin.token');
    const env = existsSync(token) ? { RIGWARDEN_API_KEY_FILE: token } : {};
    const rigctl = (...args: string[]) => runNode(bin('rigctl'), ['--server', s.grpc, ...args], env, 30_000);
    await waitFor('the three rigs at the controller', async () => {
      const r = await rigctl('rigs', '--label', 'row=ops', '--json');
      return r.code === 0 && (JSON.parse(r.stdout) as { rigs: unknown[] }).rigs.length === 3 ? true : undefined;
    }, 20_000, 250);

    const started = Date.now();
    const bulk = await rigctl('bulk', 'switch-pool', '--label', 'row=ops', '--pool-index', '1', '--reason', 'pool-a maintenance', '--json');
    const bulkMs = Date.now() - started;
    expect(bulk.stderr.trim().split('\n')).toHaveLength(3); // a progress line per rig
    expect(bulk.code).toBe(0);
    const out = JSON.parse(bulk.stdout) as { total: number; succeeded: number; rigs: Array<{ rigId: string; state: string; attempts: number; requestedBy: string }> };
    expect(out).toMatchObject({ total: 3, succeeded: 3 });
    expect(out.rigs.map((r) => r.state)).toEqual(['COMMAND_STATE_SUCCEEDED', 'COMMAND_STATE_SUCCEEDED', 'COMMAND_STATE_SUCCEEDED']);
    for (const id of RIGS) {
      const rig = await s.rig<AsicRigState>(id);
      expect(rig.activePool).toBe(1);
      expect(rig.poolSwitches.filter((w) => w.by === 'api')).toEqual([expect.objectContaining({ from: 0, to: 1 })]);
    }

    const restart = await rigctl('restart', 'ops-02', '--reason', 'e2e restart', '--json');
    expect(restart.code).toBe(0);
    expect(JSON.parse(restart.stdout)).toMatchObject({ rigId: 'ops-02', type: 'restart-miner', state: 'COMMAND_STATE_SUCCEEDED', reason: 'e2e restart' });
    expect((await s.rig<AsicRigState>('ops-02')).restarts).toBe(1);
    expect((await s.rig<AsicRigState>('ops-01')).restarts).toBe(0);

    const cycle = await rigctl('power-cycle', 'ops-03');
    expect(cycle.code).toBe(1);
    expect(cycle.stdout).toMatch(/power-cycle on ops-03\/\S+: FAILED \(1 attempt\): rig ops-03 has no PDU outlet configured \(rigs\.ops-03\.pdu in the agent config\)/);

    const listed = await rigctl('commands', '--rig', 'ops-02', '--json');
    const commands = (JSON.parse(listed.stdout) as { commands: Array<{ type: string; reason: string; requestedBy: string }> }).commands;
    expect(commands.map((c) => c.type)).toEqual(['restart-miner', 'switch-pool']);
    expect(commands[1]).toMatchObject({ reason: 'pool-a maintenance', requestedBy: expect.stringMatching(/^operator:/) });
    report('operator-commands', { bulkSwitchMs: bulkMs, rigs: 3 });
  });
});
