/**
 * The price of a fast hung-pool decision: a healthy pool on a steadily hashing miner whose shares arrive as a
 * Poisson process (seeded) is sometimes silent by chance. Measured here, bounded, and damped by the budget.
 */
import { FailoverPolicy } from './failover.policy';
import { DEFAULT_POLICY_PARAMS } from './policy-defaults';
import type { Decision, RigObservation } from './policy-types';
import { drive, MIN, POOLS, SEC, T0, obs, rigSpec, seededRandom } from './testing/policy-fixtures';

const HOURS = 6;
const DIFFICULTY = 0.0005;

/** A miner at `rateHs` on pool A, polled every 5 s; the pool answers every share; the miner never switches. */
function steadyMiner(seed: number, rateHs: number): RigObservation[] {
  const random = seededRandom(seed);
  const meanMs = ((DIFFICULTY * 2 ** 32) / rateHs) * 1000;
  let nextShare = T0 - meanMs * Math.log(1 - random());
  let accepted = 0;
  const out: RigObservation[] = [];
  for (let at = T0; at <= T0 + HOURS * 60 * MIN; at += 5 * SEC) {
    while (nextShare <= at) {
      accepted++;
      nextShare += -meanMs * Math.log(1 - random());
    }
    const o = obs(at, { boards: [{ index: 0, state: 'ok', name: 'CPU' }], hashrateHs: rateHs, accepted });
    out.push({
      ...o,
      hashrateWindows: [{ label: '20s', windowS: 20, hashrateHs: rateHs }],
      pools: o.pools.slice(0, 2).map((p) => ({ ...p, stratumActive: p.index === 0, activeEvidence: 'stratum-active', ...(p.index === 0 && accepted > 0 ? { lastShareDifficulty: DIFFICULTY } : {}) })),
    });
  }
  return out;
}

describe('failover-false-alarm', () => {
  const spec = rigSpec({ pools: POOLS.slice(0, 2) });
  const { switchBudget, switchBudgetWindowMs } = DEFAULT_POLICY_PARAMS.failover;

  it.each([
    // rate, the most switches allowed over 6 h: at 1 MH/s a share comes every 2.1 s (~10,000 gaps per 6 h, each
    // beyond 18.4 intervals with a chance of 1e-8): none expected; at 0.1 MH/s (21 s) and 10 MH/s none either.
    [1e5, 0],
    [1e6, 0],
    [10e6, 0],
  ])('failover-false-alarm: a steady %p H/s miner on a healthy pool, 6 h of Poisson shares', (rateHs, most) => {
    const switches: Decision[] = [];
    for (const seed of [1, 2, 3]) {
      const { decisions } = drive(new FailoverPolicy(), spec, steadyMiner(seed, rateHs));
      const own = decisions.filter((d) => d.kind === 'switch-pool');
      for (const d of own) {
        expect(d.reason).toBe('active-pool-silent');
        expect(own.filter((x) => x.at <= d.at && d.at - x.at < switchBudgetWindowMs).length).toBeLessThanOrEqual(switchBudget);
      }
      switches.push(...own);
    }
    process.stdout.write(`false silent switches at ${rateHs / 1e6} MH/s: ${switches.length} in ${3 * HOURS} h (3 seeds)\n`);
    expect(switches.length).toBeLessThanOrEqual(3 * most);
  });
});
