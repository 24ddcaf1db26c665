/**
 * Scenario (issue 6.8): an Avalon and a Whatsminer overheat at their normal work mode. The controller steps their
 * profile down (the agent sends `ascset workmode` to the Avalon, an encrypted `set_low_power` to the Whatsminer),
 * the boards cool at the lower work mode, and once they have stayed cool the profile is stepped back up. Real
 * processes; the work mode is read back from the simulated miners.
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
        rigs: [
          { id: 'hot-01', kind: 'asic', dialect: 'avalon', pools: ['pool-a'] },
          { id: 'hot-02', kind: 'asic', dialect: 'whatsminer', pools: ['pool-a'] },
        ],
        mining: { shareIntervalMs: 500 },
        // 10 °C a second: from the high 60s past 80 °C in about two seconds.
        heat: { hotC: 88, coolC: 62, hotFromWorkMode: 1, rampCPerS: 10 },
        drift: false,
      },
      fleet: (pools, user) => [
        'policy:', FAST_FRESHNESS,
        'groups:', '  - name: hot', '    match: { rigIds: [hot-01, hot-02] }', '    pools:', `      - { url: "${pools['pool-a']}", user: "${user}" }`,
        '    profiles:', '      - { name: eco, asic: { workMode: "0" } }', '      - { name: normal, asic: { workMode: "1" } }',
        '    desiredProfile: normal',
        `    policy: { thermal: { highC: 80, lowC: 70, stepDownAfterMs: ${STEP_DOWN_AFTER_MS}, stepUpAfterMs: ${STEP_UP_AFTER_MS}, stepCooldownMs: 2000 } }`, '',
      ].join('\n'),
    });
    const s = scenario;
    for (const rig of ['hot-01', 'hot-02']) {
      await s.waitForRig(`shares on pool-a (${rig})`, rig, (r: AsicRigState) => (r.pools[0]!.accepted >= 2 ? r : undefined), 20_000);
    }

    const cycle = async (rig: string): Promise<{ heatedAt: number; hot: number; down: number; cool: number; up: number }> => {
      const heatedAt = await s.fault({ fault: 'overheat', rig });
      const hot = await s.waitForRig(`${rig} over 80 °C`, rig, (r: AsicRigState) => (r.hottestC > 80 ? Date.now() : undefined), 10_000);
      const down = await s.waitForRig(`${rig} on work mode 0`, rig, (r: AsicRigState) => (r.workMode === 0 ? Date.now() : undefined), 15_000);
      const cool = await s.waitForRig(`${rig} under 70 °C`, rig, (r: AsicRigState) => (r.hottestC < 70 ? Date.now() : undefined), 10_000);
      const up = await s.waitForRig(`${rig} on work mode 1 again`, rig, (r: AsicRigState) => (r.workMode === 1 ? Date.now() : undefined), 20_000);
      await s.fault({ fault: 'cool', rig });
      return { heatedAt, hot, down, cool, up };
    };
    const [avalon, whatsminer] = await Promise.all([cycle('hot-01'), cycle('hot-02')]);
    for (const { hot, down, cool, up } of [avalon, whatsminer]) {
      // Not sooner than the policy's sustain periods allow.
      expect(down - hot).toBeGreaterThanOrEqual(STEP_DOWN_AFTER_MS - POLL_MS);
      expect(up - cool).toBeGreaterThanOrEqual(STEP_UP_AFTER_MS - POLL_MS);
    }
    for (const rig of ['hot-01', 'hot-02']) {
      const steps = (await s.events(rig)).filter((e) => e.kind === 'policy.apply-profile');
      expect(steps.map((e) => [e.reason, e.source])).toEqual([['temperature-high', 'thermal'], ['temperature-recovered', 'thermal']]);
      expect(steps[0]!.message).toMatch(/stepping down from profile "normal" to "eco"/);
      expect(steps[1]!.message).toMatch(/stepping up from profile "eco" to "normal"/);
    }
    const { heatedAt, hot, down, cool, up } = avalon;
    report('thermal', {
      heatToOver80Ms: hot - heatedAt, over80ToStepDownMs: down - hot, stepDownToUnder70Ms: cool - down, under70ToStepUpMs: up - cool,
      stepDownAfterMs: STEP_DOWN_AFTER_MS, stepUpAfterMs: STEP_UP_AFTER_MS,
      whatsminerOver80ToStepDownMs: whatsminer.down - whatsminer.hot, whatsminerUnder70ToStepUpMs: whatsminer.up - whatsminer.cool,
    });
  });
});
