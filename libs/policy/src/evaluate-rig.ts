import { FailoverPolicy } from './failover.policy';
import { resolveParams } from './policy-defaults';
import type { ActionRecord, Decision, EpochMs, Policy, PolicyInput, PolicyParamsOverrides } from './policy-types';
import { ThermalPolicy } from './thermal.policy';
import { WatchdogPolicy } from './watchdog.policy';

export interface RigEvaluation {
  readonly rigId: string;
  readonly at: EpochMs;
  /** What to do now: at most one action on the rig, then any alerts. */
  readonly act: readonly Decision[];
  /** Everything the policies proposed, most urgent first, including what waits for a later reconcile. */
  readonly decisions: readonly Decision[];
  /** The action still in flight that held everything but a stop back, if any. */
  readonly waitingFor?: ActionRecord;
}

export interface EvaluateRigOptions {
  /** Fleet-wide parameter overrides, under each rig's own spec.policy. */
  readonly defaults?: PolicyParamsOverrides;
  /** The policies to run; by default thermal, failover and watchdog with `defaults`. */
  readonly policies?: readonly Policy[];
}

export function defaultPolicies(defaults?: PolicyParamsOverrides): Policy[] {
  return [new ThermalPolicy(defaults), new FailoverPolicy(defaults), new WatchdogPolicy(defaults)];
}

/**
 * Urgency, lowest first: safety (stop, thermal step-down), then getting the rig back to work (quarantine, urgent
 * pool switches, the repair ladder), then optimisation (resume, step-up, fail back).
 */
export function decisionRank(d: Decision): number {
  switch (d.kind) {
    case 'stop-mining':
      return 0;
    case 'apply-profile':
      return d.params.direction === 'down' ? 1 : 9;
    case 'quarantine':
      return 2;
    case 'switch-pool':
      return d.reason === 'preferred-pool-stable' ? 10 : 3;
    case 'set-pools':
      return 4;
    case 'power-cycle':
      return 5;
    case 'reboot-host':
      return 6;
    case 'restart-miner':
      return 7;
    case 'resume-mining':
    case 'release':
      return 8;
    case 'alert':
      return 11;
  }
}

/**
 * Runs every policy on one rig and merges what they propose: a stop beats everything, one action at a time
 * (nothing new while a previous action is pending, except a stop), alerts always pass.
 */
export function evaluateRig(input: PolicyInput, now: EpochMs, options: EvaluateRigOptions = {}): RigEvaluation {
  const policies = options.policies ?? defaultPolicies(options.defaults);
  const decisions = policies
    .flatMap((policy) => policy.evaluate(input, now))
    .map((d, i) => ({ d, i }))
    .sort((a, b) => decisionRank(a.d) - decisionRank(b.d) || a.i - b.i)
    .map(({ d }) => d);
  const alerts = decisions.filter((d) => d.kind === 'alert');
  const actions = decisions.filter((d) => d.kind !== 'alert');

  const { pendingTimeoutMs } = resolveParams(options.defaults, input.spec.policy).engine;
  const pending = [...input.history.actions]
    .reverse()
    .find((a) => a.outcome === 'pending' && a.kind !== 'alert' && a.at <= now && now - a.at < pendingTimeoutMs);

  const first = actions[0];
  let act: Decision[];
  if (first?.kind === 'stop-mining') act = [first];
  else if (pending || !first) act = [];
  else act = [first];
  return {
    rigId: input.spec.rigId,
    at: now,
    act: [...act, ...alerts],
    decisions,
    ...(pending && first?.kind !== 'stop-mining' ? { waitingFor: pending } : {}),
  };
}
