import type { ActionRecord, EpochMs, SettlingAction, WatchdogParams } from './policy-types';

/**
 * The latest command that may have acted on the miner and whose after-effects last a while on its driver (a pool
 * change through a stock Antminer's web UI restarts mining for minutes), and when they end. Commands that failed, were
 * refused or never reached the agent changed nothing. `kinds`: only those command kinds (default: every kind with a
 * settle time). Pure: the table is WatchdogParams.commandSettleMs, per driver name or '*'.
 */
export function settlingCommand(
  actions: readonly ActionRecord[],
  table: WatchdogParams['commandSettleMs'],
  driver: string | undefined,
  kinds?: readonly SettlingAction[],
): { action: ActionRecord; until: EpochMs } | undefined {
  let best: { action: ActionRecord; until: EpochMs } | undefined;
  for (const a of actions) {
    if (a.outcome === 'failed' || a.outcome === 'rejected' || a.delivered === false) continue;
    const kind = a.kind as SettlingAction;
    if (kinds && !kinds.includes(kind)) continue;
    const ms = (driver !== undefined ? table[driver]?.[kind] : undefined) ?? table['*']?.[kind];
    if (!ms) continue;
    const until = a.at + ms;
    if (!best || until > best.until) best = { action: a, until };
  }
  return best;
}
