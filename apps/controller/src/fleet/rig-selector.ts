import type { RigSelector } from '@rigwarden/protocol';
import { FleetError } from './fleet-error';

/** What a selector looks at: fits the proto `Rig` and the repository's `RigRecord`. */
export interface SelectableRig {
  rigId: string;
  online: boolean;
  /** The controller's liveness verdict, when known ("stale", "miner-unreachable", ...). */
  liveness?: string;
  labels?: Readonly<Record<string, string>>;
  miners?: ReadonlyArray<{ model?: string }>;
}

const STATUSES = ['', 'online', 'offline', 'stale', 'miner-unreachable'];

/** Refuses a selector that can never be right, naming the field (`selector.status`). */
export function validateSelector(selector: RigSelector | undefined, field = 'selector'): void {
  if (!selector) return;
  if (!STATUSES.includes(selector.status)) {
    throw new FleetError('invalid_argument', `${field}.status must be "online", "offline", "stale", "miner-unreachable" or empty, got ${JSON.stringify(selector.status)}`, `${field}.status`);
  }
  for (const [key, value] of Object.entries(selector.labels ?? {})) {
    if (key === '') throw new FleetError('invalid_argument', `${field}.labels: a label name is empty`, `${field}.labels`);
    if (value === '') throw new FleetError('invalid_argument', `${field}.labels[${key}]: the value is empty (use k=v)`, `${field}.labels`);
  }
  if (selector.rigIds.some((id) => id === '')) throw new FleetError('invalid_argument', `${field}.rig_ids: contains an empty rig id`, `${field}.rig_ids`);
}

/**
 * Whether a rig is selected: every non-empty field must match (AND); an empty or absent selector selects every rig.
 * `groupName` is the fleet-spec group governing the rig (undefined when none does). `model` is a case-insensitive
 * substring of the rig's `model` label or of any of its miners' reported models.
 */
export function matchesSelector(rig: SelectableRig, groupName: string | undefined, selector: RigSelector | undefined): boolean {
  if (!selector) return true;
  if (selector.rigIds.length > 0 && !selector.rigIds.includes(rig.rigId)) return false;
  if (selector.group !== '' && selector.group !== groupName) return false;
  for (const [key, value] of Object.entries(selector.labels ?? {})) if (rig.labels?.[key] !== value) return false;
  if (selector.status === 'online' && !rig.online) return false;
  if (selector.status === 'offline' && rig.online) return false;
  if ((selector.status === 'stale' || selector.status === 'miner-unreachable') && rig.liveness !== selector.status) return false;
  if (selector.model !== '') {
    const wanted = selector.model.toLowerCase();
    const models = [rig.labels?.['model'], ...(rig.miners ?? []).map((m) => m.model)].filter((m): m is string => !!m);
    if (!models.some((m) => m.toLowerCase().includes(wanted))) return false;
  }
  return true;
}
