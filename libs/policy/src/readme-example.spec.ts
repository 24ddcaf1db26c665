import { silentPoolExample } from '../examples/silent-pool.example';

describe('readme-example', () => {
  it('readme-example: the silent-pool example switches to the backup once, 30 s into the silence', () => {
    expect(silentPoolExample()).toEqual([
      't+90s switch-pool [active-pool-silent] rig rig-7: active pool stratum+tcp://a.pool.example:3333 has accepted no share ' +
        'for 30 s while the miner is hashing; switching to pool 1 (stratum+tcp://b.pool.example:3333)',
    ]);
  });
});
