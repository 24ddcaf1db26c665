import { CommandEnvelope } from '@rigwarden/protocol';
import type { SqliteDatabase } from '../persistence/sqlite-database';

export type CommandStateName = 'PENDING' | 'SENT' | 'SUCCEEDED' | 'FAILED' | 'REJECTED' | 'TIMED_OUT';
export const TERMINAL_STATES: ReadonlySet<CommandStateName> = new Set(['SUCCEEDED', 'FAILED', 'REJECTED', 'TIMED_OUT']);
export type CommandPayload = NonNullable<CommandEnvelope['payload']>;

/** One command as stored: what was asked, by whom and why, and how far it got. */
export interface CommandRecord {
  id: string;
  rigId: string;
  minerId: string;
  /** "set-pools", "switch-pool", "apply-profile", "restart-miner", "reboot-host", "power-cycle", ... */
  type: string;
  payload: CommandPayload;
  state: CommandStateName;
  attempts: number;
  createdAt: number;
  deadline: number;
  sentAt?: number;
  finishedAt?: number;
  cause: string;
  requestedBy: string;
  reason: string;
  /** 'succeeded-observed': recorded FAILED or TIMED_OUT, but the miner showed its effect afterwards (schema v9). */
  observedOutcome?: string;
  observedAt?: number;
  /** What the miner showed ("the miner started 4 s after the command ..."). */
  observedNote?: string;
}

interface CommandRow {
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
}

const TYPE_OF: Record<CommandPayload['$case'], string> = {
  setPools: 'set-pools', switchPool: 'switch-pool', applyProfile: 'apply-profile', restartMiner: 'restart-miner',
  rebootHost: 'reboot-host', powerCycle: 'power-cycle', rotateKey: 'rotate-key', retireKey: 'retire-key',
  setPowerMode: 'set-power-mode', setFaultLight: 'set-fault-light', setPowerTarget: 'set-power-target',
};

export function commandType(payload: CommandPayload): string {
  return TYPE_OF[payload.$case];
}

function encodePayload(payload: CommandPayload): string {
  return JSON.stringify(CommandEnvelope.toJSON(CommandEnvelope.fromPartial({ payload })));
}

function decodePayload(json: string, id: string): CommandPayload {
  const payload = CommandEnvelope.fromJSON(JSON.parse(json)).payload;
  if (!payload) throw new Error(`command ${id}: the stored payload ${json.slice(0, 80)} has no command`);
  return payload;
}

function fromRow(r: CommandRow): CommandRecord {
  return {
    id: r.id, rigId: r.rig_id, minerId: r.miner_id, type: r.type, payload: decodePayload(r.payload, r.id), state: r.state,
    attempts: r.attempts, createdAt: r.created_at, deadline: r.deadline, sentAt: r.sent_at ?? undefined,
    finishedAt: r.finished_at ?? undefined, cause: r.cause, requestedBy: r.requested_by, reason: r.reason,
    ...(r.observed_outcome ? { observedOutcome: r.observed_outcome, observedNote: r.observed_note ?? '', ...(r.observed_at != null ? { observedAt: r.observed_at } : {}) } : {}),
  };
}

const UNFINISHED = "state IN ('PENDING', 'SENT')";

/** The `commands` table (schema v5): every command, its attempts and its outcome. */
export class CommandRepository {
  constructor(private readonly db: SqliteDatabase) {}

  /**
   * A finished command whose effect the miner showed afterwards although it was recorded FAILED or TIMED_OUT: the
   * row keeps its state (what the agent said) and gets the observed outcome beside it, once. Answers whether it was new.
   */
  async annotateObserved(id: string, outcome: string, at: number, note: string): Promise<boolean> {
    const { changes } = await this.db.transaction((tx) => tx.run(
      "UPDATE commands SET observed_outcome = ?, observed_at = ?, observed_note = ? WHERE id = ? AND observed_outcome = ''",
      [outcome, at, note, id],
    ));
    return changes > 0;
  }

  /** Stores a new command as PENDING. Throws on a duplicate id. */
  async insert(command: Omit<CommandRecord, 'state' | 'attempts' | 'sentAt' | 'finishedAt' | 'cause' | 'type'>): Promise<CommandRecord> {
    const record: CommandRecord = { ...command, type: commandType(command.payload), state: 'PENDING', attempts: 0, cause: '' };
    await this.db.transaction((tx) => tx.run(
      `INSERT INTO commands (id, rig_id, miner_id, type, payload, state, attempts, created_at, deadline, cause, requested_by, reason)
       VALUES (?, ?, ?, ?, ?, 'PENDING', 0, ?, ?, '', ?, ?)`,
      [record.id, record.rigId, record.minerId, record.type, encodePayload(record.payload), record.createdAt, record.deadline, record.requestedBy, record.reason],
    ));
    return record;
  }

  /**
   * Counts one more publish (even one acknowledged after the command finished: it was sent) and makes a PENDING
   * command SENT. Returns whether the command was still unfinished.
   */
  async markSent(id: string, at: number): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await tx.run('UPDATE commands SET attempts = attempts + 1, sent_at = ? WHERE id = ?', [at, id]);
      const { changes } = await tx.run(`UPDATE commands SET state = 'SENT' WHERE id = ? AND ${UNFINISHED}`, [id]);
      return changes > 0;
    });
  }

  /** Records the last cause of an unfinished command (a rejected attempt, a broker error) without finishing it. */
  async noteCause(id: string, cause: string): Promise<void> {
    await this.db.transaction((tx) => tx.run(`UPDATE commands SET cause = ? WHERE id = ? AND ${UNFINISHED}`, [cause, id]));
  }

  /** Finishes an unfinished command. Returns false when it was already finished (the first outcome wins). */
  async finish(id: string, state: CommandStateName, cause: string, at: number): Promise<boolean> {
    if (!TERMINAL_STATES.has(state)) throw new Error(`finish(${id}): ${state} is not a final state`);
    const { changes } = await this.db.transaction((tx) => tx.run(
      `UPDATE commands SET state = ?, cause = ?, finished_at = ? WHERE id = ? AND ${UNFINISHED}`, [state, cause, at, id],
    ));
    return changes > 0;
  }

  async get(id: string): Promise<CommandRecord | undefined> {
    const row = await this.db.get<CommandRow>('SELECT * FROM commands WHERE id = ?', [id]);
    return row ? fromRow(row) : undefined;
  }

  /** Newest first; every rig when rigId is empty. */
  async list(rigId: string, limit: number): Promise<CommandRecord[]> {
    const rows = rigId
      ? await this.db.all<CommandRow>('SELECT * FROM commands WHERE rig_id = ? ORDER BY created_at DESC, id LIMIT ?', [rigId, limit])
      : await this.db.all<CommandRow>('SELECT * FROM commands ORDER BY created_at DESC, id LIMIT ?', [limit]);
    return rows.map(fromRow);
  }

  /** PENDING and SENT commands, oldest first (resumed after a controller restart). */
  async unfinished(): Promise<CommandRecord[]> {
    const rows = await this.db.all<CommandRow>(`SELECT * FROM commands WHERE ${UNFINISHED} ORDER BY created_at, id`);
    return rows.map(fromRow);
  }
}
