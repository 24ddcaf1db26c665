export interface RestartPolicy {
  /** Delay before the first restart after a failure. */
  initialDelayMs: number;
  /** Each further consecutive failure multiplies the delay by this. */
  factor: number;
  maxDelayMs: number;
  /** A run at least this long counts as healthy: the next failure starts from initialDelayMs again. */
  resetAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialDelayMs: 2_000, factor: 2, maxDelayMs: 120_000, resetAfterMs: 300_000 };

/** The delay before restart number `consecutiveFailures` (1 for the first failure). */
export function restartDelayMs(consecutiveFailures: number, policy: RestartPolicy): number {
  const n = Math.max(1, consecutiveFailures);
  return Math.min(policy.maxDelayMs, Math.round(policy.initialDelayMs * policy.factor ** (n - 1)));
}
