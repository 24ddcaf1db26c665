import { assertFinalState, commandFromRow as fromRow, commandType, encodePayload, UNFINISHED, type CommandRow } from '../persistence/command-row.mapper';
import type { CommandRecord, CommandSender, CommandStateName, CommandStore, NewCommand } from '../persistence/ports/command.port';
import type { SqliteDatabase } from '../persistence/sqlite-database';

// The types live with the port (persistence/ports/command.port.ts), the row mapping beside it; re-exported for the consumers.
export { TERMINAL_STATES, type CommandPayload, type CommandRecord, type CommandStateName } from '../persistence/ports/command.port';
export { commandType } from '../persistence/command-row.mapper';

/** The `commands` table (schema v5) in SQLite: every command, its attempts and its outcome. */
export class CommandRepository implements CommandStore {
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
  async insert(command: NewCommand): Promise<CommandRecord> {
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
  async markSent(id: string, at: number, sender?: CommandSender): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      await tx.run('UPDATE commands SET attempts = attempts + 1, sent_at = ?, sent_by = COALESCE(?, sent_by), lease_epoch = COALESCE(?, lease_epoch) WHERE id = ?',
        [at, sender?.replicaId ?? null, sender?.leaseEpoch ?? null, id]);
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
    assertFinalState(id, state);
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
