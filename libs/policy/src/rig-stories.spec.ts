/**
 * Stories: evaluateRig driving a simulated rig that reacts to what it is told, the policy-level twins of the
 * end-to-end scenarios of issue 6.
 */
import { rigSpec, MIN, SEC, T0 } from './testing/policy-fixtures';
import { runStory, type StoryEvent } from './testing/rig-simulator';

const spec = rigSpec();
const summary = (events: readonly StoryEvent[]) =>
  events.map((e) => `${Math.round((e.at - T0) / SEC)}s ${e.decision.kind}/${e.decision.reason}`);

describe('rig-stories', () => {
  it('rig-stories: an overheating rig steps down once, then back up once cool', () => {
    const events = runStory(spec, { ambientC: (at) => (at >= T0 + 5 * MIN && at < T0 + 25 * MIN ? 12 : 0) }, T0, T0 + 60 * MIN);
    expect(summary(events)).toEqual(['360s apply-profile/temperature-high', '1800s apply-profile/temperature-recovered']);
    expect(events.map((e) => e.decision.kind === 'apply-profile' && e.decision.params.profile)).toEqual(['normal', 'turbo']);
  });

  it('rig-stories: a rig that only gets hotter steps down to the lowest profile, then stops at critical', () => {
    const events = runStory(spec, { ambientC: (at) => Math.max(0, (at - T0) / MIN) }, T0, T0 + 60 * MIN);
    expect(events.map((e) => e.decision.kind)).toEqual(['apply-profile', 'apply-profile', 'stop-mining']);
    expect(events[2]!.decision.severity).toBe('critical');
  });

  it('rig-stories: a dead board climbs the ladder: restart, reboot, power-cycle, quarantine', () => {
    const events = runStory(spec, { deadBoards: (at) => (at >= T0 + MIN ? [2] : []) }, T0, T0 + 90 * MIN);
    expect(summary(events)).toEqual([
      '180s restart-miner/board-dead',
      // Each step restarts the miner: its board readings of the first warmupMs (3 min) are no evidence, so each
      // step waits for 2 min of dead readings after that, 30 s past its grace period (issue 15: sustained evidence).
      '510s reboot-host/board-dead',
      '1110s power-cycle/board-dead',
      '2010s quarantine/ladder-exhausted',
    ]);
  });

  it('rig-stories: a board that a restart fixes is restarted once', () => {
    let restarted = false;
    const events = runStory(spec, {
      deadBoards: (at) => {
        if (at >= T0 + 4 * MIN) restarted = true; // the restart at 180 s brought it back
        return at >= T0 + MIN && !restarted ? [2] : [];
      },
    }, T0, T0 + 60 * MIN);
    expect(summary(events)).toEqual(['180s restart-miner/board-dead']);
  });

  it('rig-stories: a silent primary goes to the backup in about 30 s, and comes back with a growing stable period', () => {
    const events = runStory(spec, { silentPools: (at) => (at >= T0 + 2 * MIN && at < T0 + 10 * MIN ? [0] : []) }, T0, T0 + 60 * MIN);
    expect(summary(events)).toEqual([
      // The last share was seen at 115 s: 30 s later.
      '145s switch-pool/active-pool-silent',
      // A silent pool looks alive: the first fail-back after 5 min finds it still silent ...
      '445s switch-pool/preferred-pool-stable',
      // ... noticed soon after the fail-back, acted on once the cooldown, doubled for our second switch, is over ...
      '570s switch-pool/active-pool-silent',
      // ... and the next fail-back waits for the switch budget (3 per 30 min): the first switch leaves it at 1945 s.
      '1945s switch-pool/preferred-pool-stable',
    ]);
  });

  it('rig-stories: a dead primary goes to the backup on the first reading', () => {
    const events = runStory(spec, { poolStates: (at) => (at >= T0 + 2 * MIN ? { 0: 'dead' } : {}) }, T0, T0 + 10 * MIN);
    expect(summary(events)).toEqual(['120s switch-pool/active-pool-dead']);
  });
});
