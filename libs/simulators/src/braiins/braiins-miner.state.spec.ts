import { BraiinsMinerState } from './braiins-miner.state';

describe('braiins miner state (simulator)', () => {
  const A = 'stratum+tcp://pool-a.example:3333';
  const B = 'stratum+tcp://pool-b.example:3333';

  it('braiins sim: shares go to the pool in use, one per 2 s of hashing; none while paused, restarting or without a live pool', () => {
    let now = 0;
    const s = new BraiinsMinerState({ now: () => now, restartPauseMs: 4_000 });
    now = 10_000;
    expect([s.acceptedShares(A), s.acceptedShares(B)]).toEqual([5, 0]);
    s.killPool(A);
    now = 20_000;
    expect([s.acceptedShares(A), s.acceptedShares(B)]).toEqual([5, 5]);
    s.pause();
    now = 30_000;
    expect(s.acceptedShares()).toBe(10);
    expect(s.totalRateGhs()).toBe(0);
    s.resume();
    s.restart();
    expect(s.status).toBe(1);
    now = 34_000; // the restart's 4 s
    expect(s.acceptedShares()).toBe(10);
    now = 38_000;
    expect([s.acceptedShares(B), s.status, s.bosminerUptimeS()]).toEqual([7, 2, 4]);
    s.killPool(B);
    now = 48_000;
    expect([s.acceptedShares(), s.poolless, s.totalRateGhs(), s.activePool()]).toEqual([12, true, 0, undefined]);
  });

  it('braiins sim: the hashrate follows the power target; a dead or disabled board adds nothing', () => {
    const s = new BraiinsMinerState({ boards: 3, boardGhs: 40_000, nominalPowerW: 3000, powerTargetW: 1500 });
    expect(s.totalRateGhs()).toBe(60_000);
    s.deadBoards.add(1);
    s.disabledBoards.add(2);
    expect(s.totalRateGhs()).toBe(20_000);
  });

  it('braiins sim: a silent pool stays alive and in use, and accepts nothing until it answers again', () => {
    let now = 0;
    const s = new BraiinsMinerState({ now: () => now });
    now = 10_000;
    s.silencePool(A);
    now = 30_000;
    expect([s.acceptedShares(A), s.acceptedShares(B), s.poolAlive(A), s.activePool()]).toEqual([5, 0, true, { group: 0, pool: 0 }]);
    s.resumePool(A);
    now = 34_000;
    expect(s.acceptedShares(A)).toBe(7);
  });

  it('braiins sim: overheating heads for hotC above the power threshold and for coolC at or below it, at the ramp rate', () => {
    let now = 0;
    const s = new BraiinsMinerState({ now: () => now, boards: 3, powerTargetW: 3000 });
    expect(s.chipTempC(3)).toBe(71);
    s.overheat({ hotC: 88, coolC: 62, hotAboveW: 2600, rampCPerS: 10 });
    now = 1_000;
    expect(s.chipTempC(3)).toBe(81);
    now = 3_000;
    expect([s.chipTempC(3), s.chipTempC(1)]).toEqual([88, 86]);
    s.powerTargetW = 2500;
    now = 4_000;
    expect(s.chipTempC(3)).toBe(78);
    now = 10_000;
    expect(s.chipTempC(3)).toBe(62);
    s.cool();
    now = 20_000;
    expect(s.chipTempC(3)).toBe(71);
  });

  it('braiins sim: the pools\' difficulty makes one share per shareIntervalMs at the nominal hashrate', () => {
    let now = 0;
    const s = new BraiinsMinerState({ now: () => now, boards: 3, boardGhs: 47_000, shareIntervalMs: 250 });
    expect(s.shareDifficulty()).toBe(8207); // 141 TH/s * 0.25 s / 2^32
    now = 10_000;
    expect(s.acceptedShares(A)).toBe(40);
  });
});
