import { replayRig } from './replay-rig';
import { MIN, SEC, T0, acceptedAt, action, hashing, obs, rigSpec, series } from './testing/policy-fixtures';

const spec = rigSpec();

describe('replay-rig', () => {
  // 20 s, was 30 s: silentAfterMs is 12 s since issue 15 (a reading every 10 s: the first at or past 12 s).
  it('replay-rig: stored telemetry of a silent primary replays as a switch 20 s into the silence, repeated after the cooldown', () => {
    const telemetry = [
      ...hashing(T0, T0 + 5 * MIN),
      ...series(T0 + 5 * MIN + 10 * SEC, T0 + 7 * MIN, () => ({ accepted: acceptedAt(T0 + 5 * MIN) })),
    ];
    const steps = replayRig(spec, telemetry);
    expect(steps.map((s) => [s.at - T0, s.act.map((d) => d.reason)])).toEqual([
      [5 * MIN + 20 * SEC, ['active-pool-silent']],
      // Still silent in the record (the replay does not change the past): asked again once the cooldown is over.
      [5 * MIN + 80 * SEC, ['active-pool-silent']],
    ]);
  });

  it('replay-rig: telemetry given out of order replays the same', () => {
    const telemetry = [...hashing(T0, T0 + 2 * MIN), obs(T0 + 2 * MIN + 10 * SEC, { states: { 0: 'dead' } })];
    expect(replayRig(spec, [...telemetry].reverse())).toEqual(replayRig(spec, telemetry));
  });

  it('replay-rig: actions on record are taken into account at their time', () => {
    const telemetry = [...hashing(T0, T0 + 2 * MIN), obs(T0 + 2 * MIN + 10 * SEC, { states: { 0: 'dead' } })];
    const quarantined = [action(T0 + MIN, 'quarantine', 'operator')];
    expect(replayRig(spec, telemetry, { actions: quarantined })).toEqual([]);
  });

  it('replay-rig: a healthy hour replays as nothing to do', () => {
    expect(replayRig(spec, hashing(T0, T0 + 60 * MIN))).toEqual([]);
  });
});
