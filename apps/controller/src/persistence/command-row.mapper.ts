import { CommandEnvelope } from '@rigwarden/protocol';
import { TERMINAL_STATES, type CommandPayload, type CommandRecord, type CommandStateName } from './ports/command.port';

/** A `commands` row as both SQLite and PostgreSQL return it (epoch ms as numbers). */
export interface CommandRow {
  id: string;
  rig_id: string;
  miner_id: string;
  type: string;
  payload: string;
  state: CommandStateName;
  attempts: number;
  created_at: number;
  deadline: number;
  sent_at: number | null;
  finished_at: number | null;
  cause: string;
  requested_by: string;
  reason: string;
  observed_outcome?: string;
  observed_at?: number | null;
  observed_note?: string;
  sent_by?: string;
  lease_epoch?: number;
}

const TYPE_OF: Record<CommandPayload['$case'], string> = {
  setPools: 'set-pools', switchPool: 'switch-pool', applyProfile: 'apply-profile', restartMiner: 'restart-miner',
  rebootHost: 'reboot-host', powerCycle: 'power-cycle', rotateKey: 'rotate-key', retireKey: 'retire-key',
  setPowerMode: 'set-power-mode', setFaultLight: 'set-fault-light', setPowerTarget: 'set-power-target',
};

export function commandType(payload: CommandPayload): string {
  return TYPE_OF[payload.$case];
}

/** The proto3 JSON of the envelope's payload ({"setPools": {...}}), as the payload column holds it. */
export function encodePayload(payload: CommandPayload): string {
  return JSON.stringify(CommandEnvelope.toJSON(CommandEnvelope.fromPartial({ payload })));
}

function decodePayload(json: string, id: string): CommandPayload {
  const payload = CommandEnvelope.fromJSON(JSON.parse(json)).payload;
  if (!payload) throw new Error(`command ${id}: the stored payload ${json.slice(0, 80)} has no command`);
  return payload;
}

export function commandFromRow(r: CommandRow): CommandRecord {
  return {
    id: r.id, rigId: r.rig_id, minerId: r.miner_id, type: r.type, payload: decodePayload(r.payload, r.id), state: r.state,
    attempts: r.attempts, createdAt: r.created_at, deadline: r.deadline, sentAt: r.sent_at ?? undefined,
    finishedAt: r.finished_at ?? undefined, cause: r.cause, requestedBy: r.requested_by, reason: r.reason,
    ...(r.observed_outcome ? { observedOutcome: r.observed_outcome, observedNote: r.observed_note ?? '', ...(r.observed_at != null ? { observedAt: r.observed_at } : {}) } : {}),
    ...(r.sent_by || r.lease_epoch ? { sentBy: r.sent_by ?? '', leaseEpoch: r.lease_epoch ?? 0 } : {}),
  };
}

export function assertFinalState(id: string, state: CommandStateName): void {
  if (!TERMINAL_STATES.has(state)) throw new Error(`finish(${id}): ${state} is not a final state`);
}

export const UNFINISHED = "state IN ('PENDING', 'SENT')";
