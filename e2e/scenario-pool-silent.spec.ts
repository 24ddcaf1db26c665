/**
 * Scenario (issue 6.8): the primary pool hangs: its sockets stay open, it sends no job and answers no share. cgminer
 * itself calls such a pool Dead only after 90 s (real cgminer 2.11.4 took 140 s, bfgminer 5.5 233 s); the
 * controller sees that no share is accepted and moves the miner well within 30 s. Real processes throughout.
 */
import type { AsicRigState } from '@rigwarden/simulators';
import { FAST_FRESHNESS, Scenario, report } from './scenario-harness';

jest.setTimeout(60_000);
const POLL_MS = 500;
const SILENT_AFTER_MS = 15_000;

describe('scenario: primary pool silent', () => {
  let scenario: Scenario | undefined;
  afterAll(async () => { await scenario?.stop(); });

  it('moves the miner off a hung pool within 30 s, long before the miner itself would', async () => {
    scenario = await Scenario.start('pool-silent', {
      pollMs: POLL_MS,
      farm: {
        pools: [{ name: 'pool-a', notifyIntervalMs: 500 }, { name: 'pool-b', notifyIntervalMs: 500 }],
        // The miner's own failover as cgminer's: a pool is Dead after 90 s without a word.
        rigs: [{ id: 'hung-01', kind: 'asic', dialect: 'cgminer', pools: ['pool-a', 'pool-b'] }],
        mining: { shareIntervalMs: 500, silenceTimeoutMs: 90_000 },
      },
      fleet: (pools, user) => [
        'policy:', FAST_FRESHNESS,
        'groups:', '  - name: hung', '    match: { rigIds: [hung-01] }', '    pools:',
        `      - { url: "${pools['pool-a']}", user: "${user}" }`, `      - { url: "${pools['pool-b']}", user: "${user}" }`,
        `    policy: { failover: { silentAfterMs: ${SILENT_AFTER_MS} } }`, '',
      ].join('\n'),
    });
    const s = scenario;
    await s.waitForRig('shares on pool-a', 'hung-01', (r: AsicRigState) => (r.pools[0]!.accepted >= 3 ? r : undefined), 20_000);

    const silencedAt = await s.fault({ fault: 'silence-pool', pool: 'pool-a' });
    const moved = await s.waitForRig('the miner on pool-b', 'hung-01', (r: AsicRigState) => (r.activePool === 1 ? r : undefined), 30_000);
    const tookMs = Date.now() - silencedAt;
    expect(tookMs).toBeLessThan(30_000);
    expect(tookMs).toBeGreaterThanOrEqual(SILENT_AFTER_MS - 2 * POLL_MS); // not before the pool had its chance
    // The controller moved it (switchpool over the API); the miner still held pool-a for Alive.
    expect(moved.poolSwitches).toEqual([expect.objectContaining({ from: 0, to: 1, by: 'api' })]);
    expect(moved.pools[0]!.status).toBe('Alive');

    const switched = (await s.events('hung-01')).filter((e) => e.kind === 'policy.switch-pool');
    expect(switched).toEqual([expect.objectContaining({ reason: 'active-pool-silent', source: 'failover' })]);
    report('pool-silent', { pollMs: POLL_MS, silentAfterMs: SILENT_AFTER_MS, silentToBackupMs: tookMs, minerOwnTimeoutMs: 90_000 });
  });
});
