import { silentPoolExample } from '../examples/silent-pool.example';

describe('readme-example', () => {
  it('readme-example: the silent-pool example switches to the backup once, 30 s into the silence', () => {
    expect(silentPoolExample()).toEqual([
      't+90s switch-pool [active-pool-silent] rig rig-7: active pool stratum+tcp://a.pool.example:3333 has accepted no share ' +
        'for 30 s while the miner is hashing; switching to pool 1 (stratum+tcp://b.pool.example:3333); evidence (confident): ' +
        'shares last moved on pool 0 alone, 30 s ago; the firmware flags pool 0 active; pool 0 Status is Alive; no share on pool 0 ' +
        'for 30 s; the miner hashed at 100 TH/s over the silence (current rate); no expected share interval (no share difficulty, ' +
        'under 5 min of share history): silent after 30 s; current rate 100 TH/s; 60 share(s) accepted over the last 120 s',
    ]);
  });
});
