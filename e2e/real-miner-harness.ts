/**
 * Shared by the e2e/real-miner-*.spec.ts scenarios: the simulated real programs (libs/simulators/src/cgminer/real:
 * cgminer 4.11.1 without devices, cgminer 2.11.4 with its phantom CPU, bfgminer 5.5.0), a fleet spec with policy
 * windows short enough for a test, and the policy actions a rig got.
 */
import { FAST_FRESHNESS, type Scenario, type ScenarioEvent } from './scenario-harness';

/** Decisions that change a miner (alerts are not among them). */
export const ACTIONS = ['switch-pool', 'set-pools', 'apply-profile', 'stop-mining', 'resume-mining', 'restart-miner', 'reboot-host', 'power-cycle', 'quarantine'].map((k) => `policy.${k}`);

/** bfgminer's hash rate walk with this seed stays between 0.43 and 1 MH/s for 4 minutes (a share every ~2-5 s). */
export const BFGMINER_SEED = 36;

/**
 * Policy windows cut down so that a wrong verdict would act within the test's window: the watchdog judges a zero
 * hash rate after 20 s (default 3 min) and a dead board after 10 s, failover calls a pool silent after 12 s.
 */
export function realMinerFleet(pools: Record<string, string>, user: string, rigIds: string[], extra: string[] = []): string {
  return [
    'policy:', FAST_FRESHNESS,
    '  failover: { silentAfterMs: 12000, switchCooldownMs: 10000 }',
    '  watchdog: { zeroHashrateForMs: 20000, warmupMs: 5000, deadBoardForMs: 10000, missingBoardForMs: 10000, unreachableForMs: 15000 }',
    'groups:', '  - name: real', `    match: { rigIds: [${rigIds.join(', ')}] }`, '    pools:',
    `      - { url: "${pools['pool-a']}", user: "${user}" }`, `      - { url: "${pools['pool-b']}", user: "${user}" }`,
    ...extra, '',
  ].join('\n');
}

/** The rigs' policy actions so far, by rig. */
export async function actionsOf(s: Scenario, rigIds: string[]): Promise<Record<string, ScenarioEvent[]>> {
  const out: Record<string, ScenarioEvent[]> = {};
  for (const id of rigIds) out[id] = (await s.events(id)).filter((e) => ACTIONS.includes(e.kind));
  return out;
}

/** Every policy action of each rig within `windowMs` (watched to the end, not stopping at the first). */
export async function actionsOver(s: Scenario, rigIds: string[], windowMs: number, everyMs = 5_000): Promise<Record<string, ScenarioEvent[]>> {
  const until = Date.now() + windowMs;
  while (Date.now() < until) await new Promise((resolve) => setTimeout(resolve, Math.min(everyMs, Math.max(0, until - Date.now()))));
  return actionsOf(s, rigIds);
}
