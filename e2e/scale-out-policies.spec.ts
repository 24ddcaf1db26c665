/**
 * Policies while a controller dies (issue 18 item 4): three built controllers on one PostgreSQL, a fleet spec with
 * pool failover and the thermal policy, the built agent reading a simulated farm. The owner of the failover rig is
 * killed with SIGKILL and at that moment its primary pool dies and another rig overheats: the failover is decided by
 * the rig's new owner once it takes the shard, the thermal step-down by whichever controller owns that rig, and the
 * database shows each decision taken once, by one replica, under its lease epoch; the miners count one switch and
 * one step-down.
 */
import type { AsicRigState } from '@rigwarden/simulators';
import { FAST_FRESHNESS, report } from './scenario-harness';
import { ScaleOut } from './scale-out-harness';

jest.setTimeout(90_000);
const POLL_MS = 500;
const IDS = ['ctl-1', 'ctl-2', 'ctl-3'];

interface Decision { kind: string; rig_id: string; source: string; decisions: number; replicas: number; sent_by: string; lease_epoch: number; state: string }

describe('scale-out: a failover and a thermal step-down while one of three controllers is killed', () => {
  let s: ScaleOut | undefined;
  afterAll(async () => { await s?.stop(); });

  it('each decision is taken once, by the rig\'s owner of the moment, and the miners see one switch and one step-down', async () => {
    s = await ScaleOut.start({
      name: 'so-policies',
      replicas: IDS,
      pollMs: POLL_MS,
      farm: {
        pools: [{ name: 'pool-a', notifyIntervalMs: 500 }, { name: 'pool-b', notifyIntervalMs: 500 }],
        rigs: [
          // Stays on a dead pool until told otherwise: the controller must move it.
          { id: 'sop-fo', kind: 'asic', dialect: 'cgminer', pools: ['pool-a', 'pool-b'], mining: { ownFailover: false } },
          { id: 'sop-hot', kind: 'asic', dialect: 'avalon', pools: ['pool-b'] },
        ],
        mining: { shareIntervalMs: 500, reconnectMs: 250 },
        heat: { hotC: 88, coolC: 62, hotFromWorkMode: 1, rampCPerS: 10 },
        drift: false,
      },
      fleet: (pools, user) => [
        'policy:', FAST_FRESHNESS,
        'groups:',
        '  - name: failover', '    match: { rigIds: [sop-fo] }', '    pools:',
        `      - { url: "${pools['pool-a']}", user: "${user}" }`, `      - { url: "${pools['pool-b']}", user: "${user}" }`,
        '    policy: { failover: { silentAfterMs: 10000 } }',
        '  - name: hot', '    match: { rigIds: [sop-hot] }', '    pools:', `      - { url: "${pools['pool-b']}", user: "${user}" }`,
        '    profiles:', '      - { name: eco, asic: { workMode: "0" } }', '      - { name: normal, asic: { workMode: "1" } }',
        '    desiredProfile: normal',
        // No step back up within the test: one step-down is the decision to count.
        '    policy: { thermal: { highC: 80, lowC: 70, stepDownAfterMs: 2000, stepUpAfterMs: 600000, stepCooldownMs: 2000 } }', '',
      ].join('\n'),
    });
    const so = s;
    await so.until('both rigs reporting and the shards split over three', async () => {
      const [{ n }] = await so.rows<{ n: number }>("SELECT COUNT(DISTINCT rig_id)::int AS n FROM snapshots WHERE rig_id LIKE 'sop-%'");
      const l = await so.leased();
      return n === 2 && IDS.every((id) => (l.get(id) ?? 0) >= 21) ? true : undefined;
    }, 30_000);
    for (const rig of ['sop-fo', 'sop-hot']) {
      await so.until(`shares accepted (${rig})`, async () => ((await so.rig<AsicRigState>(rig)).pools[0]!.accepted >= 2 ? true : undefined), 20_000);
    }

    const victim = await so.ownerOf('sop-fo');
    const hotOwnerBefore = await so.ownerOf('sop-hot');
    so.controllers.get(victim)!.proc.child.kill('SIGKILL');
    const killedAt = Date.now();
    await so.fault({ fault: 'kill-pool', pool: 'pool-a' });
    await so.fault({ fault: 'overheat', rig: 'sop-hot' });
    const survivors = IDS.filter((id) => id !== victim);

    // Watched from the faults on: the step-down need not wait for the takeover when a live controller owns the rig.
    const outcomes = Promise.all([
      so.until('sop-fo on pool-b', async () => {
        const r = await so.rig<AsicRigState>('sop-fo');
        return r.activePool === 1 ? [r, Date.now() - killedAt] as const : undefined;
      }, 30_000),
      so.until('sop-hot stepped down to work mode 0', async () => {
        const r = await so.rig<AsicRigState>('sop-hot');
        return r.workMode === 0 ? [r, Date.now() - killedAt] as const : undefined;
      }, 30_000),
    ]);
    await so.leasedBy(survivors, 1, 20_000);
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThanOrEqual(15_000);
    const [[moved, movedMs], [cooled, steppedMs]] = await outcomes;
    await so.until('both commands finished', async () => {
      const open = await so.rows<{ n: number }>("SELECT COUNT(*)::int AS n FROM commands WHERE rig_id LIKE 'sop-%' AND state IN ('PENDING', 'SENT')");
      return open[0]!.n === 0 ? true : undefined;
    }, 15_000);

    // One policy decision per rig, its command sent by one replica (a survivor for the failover: the killed one
    // owned the rig when the pool died), under a lease epoch, and run.
    const decisions = await so.rows<Decision>(`
      SELECT e.kind, e.rig_id, e.source, COUNT(*)::int AS decisions, COUNT(DISTINCT c.sent_by)::int AS replicas,
             MIN(c.sent_by) AS sent_by, MIN(c.lease_epoch)::float8 AS lease_epoch, MIN(c.state) AS state
        FROM events e JOIN commands c ON c.id = e.command_id
       WHERE e.rig_id LIKE 'sop-%' AND e.kind LIKE 'policy.%'
       GROUP BY e.kind, e.rig_id, e.source ORDER BY e.rig_id`);
    expect(decisions.map((d) => [d.rig_id, d.kind, d.source, d.decisions, d.replicas, d.state])).toEqual([
      ['sop-fo', 'policy.switch-pool', 'failover', 1, 1, 'SUCCEEDED'],
      ['sop-hot', 'policy.apply-profile', 'thermal', 1, 1, 'SUCCEEDED'],
    ]);
    const [fo, hot] = decisions as [Decision, Decision];
    expect(survivors).toContain(fo.sent_by);
    expect(fo.sent_by).toBe(await so.ownerOf('sop-fo'));
    expect(survivors).toContain(hot.sent_by);
    for (const d of decisions) expect(d.lease_epoch).toBeGreaterThan(0);
    // Nothing at all sent by the killed controller after its death.
    const afterKill = await so.rows<{ id: string }>('SELECT id FROM commands WHERE sent_by = $1 AND sent_at > $2', [victim, killedAt]);
    expect(afterKill).toEqual([]);
    // And the miners saw exactly one switch (by the API) and one work-mode change.
    expect(moved.poolSwitches.filter((p) => p.by === 'api')).toHaveLength(1);
    expect((await so.rig<AsicRigState>('sop-fo')).poolSwitches.filter((p) => p.by === 'api')).toHaveLength(1);
    expect(cooled.workMode).toBe(0);
    report('scale-out-policies', { takeoverMs, killToFailoverMs: movedMs, killToStepDownMs: steppedMs, victim, hotOwnerBefore, failoverBy: fo.sent_by, stepDownBy: hot.sent_by });
  });
});
