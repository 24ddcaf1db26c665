/**
 * Scenario (issue 6.8): an Avalon overheats at its normal work mode. The controller steps its profile down (the
 * agent sends ascset workmode to the miner), the board cools at the lower work mode, and once it has stayed cool the
 * profile is stepped back up. Real processes; the work mode is read back from the simulated miner.
 */
import type { AsicRigState } from '@rigwarden/simulators';
import { FAST_FRESHNESS, Scenario, report } from './scenario-harness';

jest.setTimeout(60_000);
const POLL_MS = 500;
const STEP_DOWN_AFTER_MS = 2000;
const STEP_UP_AFTER_MS = 3000;

describe('scenario: overheating board', () => {
  let scenario: Scenario | undefined;
  afterAll(async () => { await scenario?.stop(); });

  it('steps the profile down while hot and back up once cool', async () => {
    scenario = await Scenario.start('thermal', {
      pollMs: POLL_MS,
      farm: {
        pools: [{ name: 'pool-a', notifyIntervalMs: 500 }],
        rigs: [{ id: 'hot-01', kind: 'asic', dialect: 'avalon', pools: ['pool-a'] }],
        mining: { shareIntervalMs: 500 },
        // 10 °C a second: from the high 60s past 80 °C in about two seconds.
        heat: { hotC: 88, coolC: 62, hotFromWorkMode: 1, rampCPerS: 10 },
        drift: false,
      },
      fleet: (pools, user) => [
        'policy:', FAST_FRESHNESS,
        'groups:', '  - name: hot', '    match: { rigIds: [hot-01] }', '    pools:', `      - { url: "${pools['pool-a']}", user: "${user}" }`,
        '    profiles:', '      - { name: eco, asic: { workMode: "0" } }', '      - { name: normal, asic: { workMode: "1" } }',
        '    desiredProfile: normal',
        `    policy: { thermal: { highC: 80, lowC: 70, stepDownAfterMs: ${STEP_DOWN_AFTER_MS}, stepUpAfterMs: ${STEP_UP_AFTER_MS}, stepCooldownMs: 2000 } }`, '',
      ].join('\n'),
    });
    const s = scenario;
    await s.waitForRig('shares on pool-a', 'hot-01', (r: AsicRigState) => (r.pools[0]!.accepted >= 2 ? r : undefined), 20_000);

    const heatedAt = await s.fault({ fault: 'overheat', rig: 'hot-01' });
    const hot = await s.waitForRig('over 80 °C', 'hot-01', (r: AsicRigState) => (r.hottestC > 80 ? Date.now() : undefined), 10_000);
    const down = await s.waitForRig('work mode 0', 'hot-01', (r: AsicRigState) => (r.workMode === 0 ? Date.now() : undefined), 15_000);
    const cool = await s.waitForRig('under 70 °C', 'hot-01', (r: AsicRigState) => (r.hottestC < 70 ? Date.now() : undefined), 10_000);
    const up = await s.waitForRig('work mode 1 again', 'hot-01', (r: AsicRigState) => (r.workMode === 1 ? Date.now() : undefined), 20_000);
    // Not sooner than the policy's sustain periods allow.
    expect(down - hot).toBeGreaterThanOrEqual(STEP_DOWN_AFTER_MS - POLL_MS);
    expect(up - cool).toBeGreaterThanOrEqual(STEP_UP_AFTER_MS - POLL_MS);

    const steps = (await s.events('hot-01')).filter((e) => e.kind === 'policy.apply-profile');
    expect(steps.map((e) => [e.reason, e.source])).toEqual([['temperature-high', 'thermal'], ['temperature-recovered', 'thermal']]);
    expect(steps[0]!.message).toMatch(/stepping down from profile "normal" to "eco"/);
    expect(steps[1]!.message).toMatch(/stepping up from profile "eco" to "normal"/);
    await s.fault({ fault: 'cool', rig: 'hot-01' });
    report('thermal', {
      heatToOver80Ms: hot - heatedAt, over80ToStepDownMs: down - hot, stepDownToUnder70Ms: cool - down, under70ToStepUpMs: up - cool,
      stepDownAfterMs: STEP_DOWN_AFTER_MS, stepUpAfterMs: STEP_UP_AFTER_MS,
    });
  });
});
