/**
 * Scenario (issue 6.8): dead hash boards and a lost GPU climb the watchdog's ladder with real processes. A board
 * that a miner restart re-initialises is fixed by the restart; a sticky one survives it, so after the restart's grace
 * period the host is rebooted (the agent's rebootCommand asks the farm's control port, as ssh would ask the host).
 * A GPU miner cannot be restarted through its API: the failed restart is followed at once by the reboot. A broken
 * board survives both; the power-cycle fails (no PDU outlet), and the rig is quarantined with the ladder exhausted.
 */
import type { AsicRigState, GpuRigState } from '@rigwarden/simulators';
import { waitFor } from '@rigwarden/testing';
import { FAST_FRESHNESS, Scenario, report } from './scenario-harness';

jest.setTimeout(60_000);
const POLL_MS = 500;
const DEAD_FOR_MS = 1500;
const RESTART_GRACE_MS = 4000;
const REBOOT_GRACE_MS = 4000;

describe('scenario: dead board and lost GPU', () => {
  let scenario: Scenario | undefined;
  afterAll(async () => { await scenario?.stop(); });

  it('restart fixes a transient dead board; a sticky one gets the restart, then the reboot; a lost GPU the reboot; a broken one the whole ladder, then quarantine', async () => {
    const watchdog = `watchdog: { deadBoardForMs: ${DEAD_FOR_MS}, missingBoardForMs: ${DEAD_FOR_MS}, warmupMs: 1000, healthyResetMs: 60000, maxActionsPerHour: 10, `
      + `ladder: [{ action: restart-miner, graceMs: ${RESTART_GRACE_MS} }, { action: reboot-host, graceMs: ${REBOOT_GRACE_MS} }, { action: power-cycle, graceMs: 8000 }] }`;
    scenario = await Scenario.start('dead-board', {
      pollMs: POLL_MS,
      farm: {
        pools: [{ name: 'pool-a', notifyIntervalMs: 500 }],
        rigs: [
          { id: 'board-transient', kind: 'asic', dialect: 'cgminer', pools: ['pool-a'] },
          { id: 'board-sticky', kind: 'asic', dialect: 'cgminer', pools: ['pool-a'] },
          { id: 'board-broken', kind: 'asic', dialect: 'cgminer', pools: ['pool-a'] },
          { id: 'gpu-01', kind: 'gpu', flavor: 't-rex', gpus: 4 },
        ],
        mining: { shareIntervalMs: 500 },
        restartDownMs: 500,
        rebootDownMs: 1000,
      },
      fleet: (pools, user) => [
        'policy:', FAST_FRESHNESS, `  ${watchdog}`,
        'groups:',
        '  - name: asic', '    match: { rigIds: [board-transient, board-sticky, board-broken] }', '    pools:', `      - { url: "${pools['pool-a']}", user: "${user}" }`,
        '  - name: gpu', '    kind: gpu', '    match: { rigIds: [gpu-01] }', '',
      ].join('\n'),
    });
    const s = scenario;
    for (const rig of ['board-transient', 'board-sticky', 'board-broken']) {
      await s.waitForRig(`shares (${rig})`, rig, (r: AsicRigState) => (r.pools[0]!.accepted >= 2 ? r : undefined), 20_000);
    }
    await s.waitForRig('the GPU rig hashing', 'gpu-01', (r: GpuRigState) => (r.gpus.length === 4 ? r : undefined), 5000);
    await new Promise((r) => setTimeout(r, 2 * POLL_MS));

    const t0 = Date.now();
    await Promise.all([
      s.fault({ fault: 'kill-board', rig: 'board-transient', board: 1, sticky: false }),
      s.fault({ fault: 'kill-board', rig: 'board-sticky', board: 2, sticky: true }),
      s.fault({ fault: 'lose-gpu', rig: 'gpu-01', gpu: 2 }),
      s.fault({ fault: 'kill-board', rig: 'board-broken', board: 0, broken: true }),
    ]);
    // Watched side by side, so each time is when it happened.
    const [transient, restarted, gpuBack] = await Promise.all([
      s.waitForRig('the transient board back', 'board-transient', (r: AsicRigState) => (r.restarts === 1 && r.boards[1]!.alive ? Date.now() : undefined), 15_000),
      s.waitForRig('the sticky rig restarted', 'board-sticky', (r: AsicRigState) => (r.restarts === 1 ? Date.now() : undefined), 15_000),
      s.waitForRig('the GPU back', 'gpu-01', (r: GpuRigState) => (r.reboots === 1 && !r.gpus[2]!.lost ? Date.now() : undefined), 20_000),
    ]);
    expect((await s.rig<AsicRigState>('board-sticky')).boards[2]!.alive).toBe(false);
    const rebooted = await s.waitForRig('the sticky rig rebooted', 'board-sticky',
      (r: AsicRigState) => (r.reboots === 1 && r.boards[2]!.alive ? Date.now() : undefined), 20_000);
    expect(rebooted - restarted).toBeGreaterThanOrEqual(RESTART_GRACE_MS - 2 * POLL_MS);

    const ladder = async (rig: string): Promise<string[]> => (await s.events(rig))
      .filter((e) => e.source === 'watchdog' && e.kind.startsWith('policy.') && e.kind !== 'policy.alert').map((e) => `${e.kind}:${e.reason}`);
    const notices = async (rig: string): Promise<string[]> => (await s.events(rig))
      .filter((e) => e.source === 'watchdog' && e.kind === 'policy.alert').map((e) => `${e.kind}:${e.reason}`);
    expect(await ladder('board-transient')).toEqual(['policy.restart-miner:board-dead']);
    expect(await ladder('board-sticky')).toEqual(['policy.restart-miner:board-dead', 'policy.reboot-host:board-dead']);
    expect(await ladder('gpu-01')).toEqual(['policy.restart-miner:board-dead', 'policy.reboot-host:board-dead']);
    // The GPU rig's miner cannot be restarted (its agent says so): the watchdog says that once, then reboots.
    expect(await notices('gpu-01')).toEqual(['policy.alert:remedy-not-configured']);
    expect(await notices('board-sticky')).toEqual([]);
    // The broken board: every step, the power-cycle failing for want of a PDU outlet, then quarantine.
    const quarantined = await waitFor('board-broken quarantined', async () => {
      const events = await s.events('board-broken');
      return events.some((e) => e.kind === 'policy.quarantine') ? events : undefined;
    }, 25_000, 500);
    expect(quarantined.filter((e) => e.source === 'watchdog' && e.kind.startsWith('policy.') && e.kind !== 'policy.alert').map((e) => `${e.kind}:${e.reason}`)).toEqual([
      'policy.restart-miner:board-dead', 'policy.reboot-host:board-dead', 'policy.power-cycle:board-dead', 'policy.quarantine:ladder-exhausted',
    ]);
    // The power-cycle could not run (no PDU outlet): said once, and it did not count as a remedy.
    expect(quarantined.filter((e) => e.source === 'watchdog' && e.kind === 'policy.alert').map((e) => `${e.kind}:${e.reason}`)).toEqual(['policy.alert:remedy-not-configured']);
    const broken = await s.rig<AsicRigState>('board-broken');
    expect([broken.restarts, broken.reboots, broken.boards[0]!.alive]).toEqual([1, 1, false]);
    const quarantineMs = Date.parse(quarantined.at(-1)!.at!) - t0;
    // No further step: the reboot fixed the sticky board and the GPU.
    await new Promise((r) => setTimeout(r, 3 * POLL_MS));
    expect((await s.rig<AsicRigState>('board-sticky')).reboots).toBe(1);
    expect((await s.rig<AsicRigState>('board-transient')).reboots).toBe(0);
    report('dead-board', {
      deadForMs: DEAD_FOR_MS, restartGraceMs: RESTART_GRACE_MS, killToRestartFixedMs: transient - t0, killToStickyRestartMs: restarted - t0,
      restartToRebootMs: rebooted - restarted, killToGpuRebootMs: gpuBack - t0, killToQuarantineMs: quarantineMs,
    });
  });
});
