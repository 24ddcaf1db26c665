import type { ActionKind, ActionOutcome, ActionRecord, PolicyName } from '@rigwarden/policy';
import type { PolicyActionRow } from '../persistence/event-repository';

const POLICIES: ReadonlySet<string> = new Set<PolicyName>(['failover', 'thermal', 'watchdog']);

const OUTCOME_OF_STATE: Readonly<Record<string, ActionOutcome>> = {
  PENDING: 'pending', SENT: 'pending', SUCCEEDED: 'succeeded', FAILED: 'failed', REJECTED: 'rejected', TIMED_OUT: 'timed-out',
};

/**
 * A rig's policy history actions rebuilt from the events table after a controller restart: `policy.<kind>` events
 * (source = the policy) and `operator.release` events, oldest first, each with the outcome of the command it sent.
 * The parameters the policies read back are restored from the command payload where it carries them (the profile
 * of apply-profile / resume-mining, the pool index of switch-pool) and from the reason (a thermal step's
 * direction); a failover switch's `fromUrl` is not on record and stays unknown. Rows of unknown kinds are skipped.
 */
export function restoredActions(rows: readonly PolicyActionRow[]): ActionRecord[] {
  const actions: ActionRecord[] = [];
  for (const row of rows) {
    const action = restoredAction(row);
    if (action) actions.push(action);
  }
  return actions;
}

function restoredAction(row: PolicyActionRow): ActionRecord | undefined {
  if (row.kind === 'operator.release' || row.kind === 'policy.release') {
    return { at: row.at, kind: 'release', reason: row.reason, by: 'operator', params: {} };
  }
  if (!row.kind.startsWith('policy.') || !POLICIES.has(row.source)) return undefined;
  const kind = row.kind.slice('policy.'.length) as ActionKind;
  // A failed or timed-out remedy the miner was seen to carry out counts as succeeded, as it did before the restart.
  const outcome = row.command_observed === 'succeeded-observed' ? 'succeeded' : row.command_state === null ? undefined : OUTCOME_OF_STATE[row.command_state];
  return {
    at: row.at,
    kind,
    reason: row.reason,
    by: row.source as PolicyName,
    params: paramsOf(kind, row),
    ...(row.command_id ? { id: row.command_id } : {}),
    ...(outcome ? { outcome } : {}),
    ...(row.command_cause ? { cause: row.command_cause } : {}),
  };
}

function paramsOf(kind: ActionKind, row: PolicyActionRow): Record<string, unknown> {
  // Since schema v10 the decision's own parameters are on record (fromUrl of a switch, a step's direction).
  const stored = parseParams(row.params);
  if (stored) return stored;
  const payload = parsePayload(row.command_payload);
  switch (kind) {
    case 'apply-profile': {
      const profile = (payload['applyProfile'] as { profile?: unknown } | undefined)?.profile;
      return { ...(typeof profile === 'string' ? { profile } : {}), direction: row.reason === 'temperature-recovered' ? 'up' : 'down' };
    }
    case 'resume-mining': {
      const profile = (payload['applyProfile'] as { profile?: unknown } | undefined)?.profile;
      return typeof profile === 'string' ? { profile } : {};
    }
    case 'switch-pool': {
      const poolIndex = (payload['switchPool'] as { poolIndex?: unknown } | undefined)?.poolIndex;
      return { poolIndex: typeof poolIndex === 'number' ? poolIndex : 0 };
    }
    default:
      return {};
  }
}

function parsePayload(json: string | null): Record<string, unknown> {
  if (!json) return {};
  try {
    const parsed: unknown = JSON.parse(json);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function parseParams(json: string | undefined): Record<string, unknown> | undefined {
  if (!json) return undefined;
  try {
    const value: unknown = JSON.parse(json);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}
