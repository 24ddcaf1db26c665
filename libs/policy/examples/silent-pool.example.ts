/**
 * A rig whose primary pool goes silent (sockets open, no share answers) is moved to the backup 30 s later.
 * Run it: npx esbuild libs/policy/examples/silent-pool.example.ts --bundle --platform=node --outfile=/tmp/silent-pool.js && node /tmp/silent-pool.js
 * (Code outside libs/policy imports the same names from '@rigwarden/policy'.)
 */
import {
  EMPTY_HISTORY,
  actionFromDecision,
  appendAction,
  appendObservation,
  evaluateRig,
  type RigObservation,
  type RigSpec,
} from '../src';

const spec: RigSpec = {
  rigId: 'rig-7',
  kind: 'asic',
  pools: [
    { url: 'stratum+tcp://a.pool.example:3333', user: 'farm.rig7' },
    { url: 'stratum+tcp://b.pool.example:3333', user: 'farm.rig7' },
  ],
  profiles: [{ name: 'eco' }, { name: 'normal' }],
};

/** A reading every 5 s; pool A accepts shares for the first minute, then nothing. */
function reading(at: number, second: number): RigObservation {
  return {
    at, seq: second / 5, rigId: 'rig-7', minerId: '10.0.0.7:4028', reachable: true, errorKinds: [],
    uptimeS: 3600 + second, hashrateHs: 100e12,
    boards: [{ index: 0, state: 'ok', tempC: 68 }],
    fans: [{ index: 0, rpm: 4800 }],
    pools: [
      { index: 0, url: spec.pools[0]!.url, user: 'farm.rig7', state: 'alive', active: true, accepted: Math.min(second, 60) },
      { index: 1, url: spec.pools[1]!.url, user: 'farm.rig7', state: 'alive', active: false, accepted: 0 },
    ],
  };
}

export function silentPoolExample(): string[] {
  const t0 = 1_800_000_000_000; // the controller passes its clock's now(); the policies never read one
  const lines: string[] = [];
  let history = EMPTY_HISTORY;
  for (let second = 0; second <= 120; second += 5) {
    const now = t0 + second * 1000;
    const latest = reading(now, second);
    history = appendObservation(history, latest);
    const { act } = evaluateRig({ spec, status: { rigId: spec.rigId, latest }, history }, now);
    for (const decision of act) {
      lines.push(`t+${second}s ${decision.kind} [${decision.reason}] ${decision.message}`);
      history = appendAction(history, actionFromDecision(decision)); // the controller records what it did
    }
  }
  return lines;
}

if (typeof require !== 'undefined' && require.main === module) console.log(silentPoolExample().join('\n'));
