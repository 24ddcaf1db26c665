import { assertFinalState, commandFromRow, commandType, encodePayload, UNFINISHED, type CommandRow } from '../command-row.mapper';
import type { CommandRecord, CommandSender, CommandStateName, CommandStore, NewCommand } from '../ports/command.port';
import type { PostgresDatabase } from './postgres-database';

/**
 * The `commands` table in PostgreSQL. Each transition is one conditional UPDATE, so two controllers (or a retry racing
 * a result) on the same row still see one outcome: the first finish() wins, a finished command stays finished.
 */
export class PostgresCommandStore implements CommandStore {
  constructor(private readonly db: PostgresDatabase) {}

  async insert(command: NewCommand): Promise<CommandRecord> {
    const record: CommandRecord = { ...command, type: commandType(command.payload), state: 'PENDING', attempts: 0, cause: '' };
    await this.db.run(
      `INSERT INTO commands (id, rig_id, miner_id, type, payload, state, attempts, created_at, deadline, cause, requested_by, reason)
       VALUES ($1, $2, $3, $4, $5, 'PENDING', 0, $6, $7, '', $8, $9)`,
      [record.id, record.rigId, record.minerId, record.type, encodePayload(record.payload), record.createdAt, record.deadline, record.requestedBy, record.reason],
    );
    return record;
  }

  async markSent(id: string, at: number, sender?: CommandSender): Promise<boolean> {
    // Counted even when finished (a late acknowledgement: it was sent); the state after the update is SENT only if it
    // was PENDING or SENT before, since a final state is never changed.
    const row = await this.db.get<{ unfinished: boolean }>(
      `UPDATE commands SET attempts = attempts + 1, sent_at = $2, state = CASE WHEN ${UNFINISHED} THEN 'SENT' ELSE state END,
              sent_by = COALESCE($3, sent_by), lease_epoch = COALESCE($4, lease_epoch)
       WHERE id = $1 RETURNING state = 'SENT' AS unfinished`,
      [id, at, sender?.replicaId ?? null, sender?.leaseEpoch ?? null],
    );
    return row?.unfinished === true;
  }

  async noteCause(id: string, cause: string): Promise<void> {
    await this.db.run(`UPDATE commands SET cause = $2 WHERE id = $1 AND ${UNFINISHED}`, [id, cause]);
  }

  async finish(id: string, state: CommandStateName, cause: string, at: number): Promise<boolean> {
    assertFinalState(id, state);
    return (await this.db.run(`UPDATE commands SET state = $2, cause = $3, finished_at = $4 WHERE id = $1 AND ${UNFINISHED}`, [id, state, cause, at])) > 0;
  }

  async annotateObserved(id: string, outcome: string, at: number, note: string): Promise<boolean> {
    return (await this.db.run(
      "UPDATE commands SET observed_outcome = $2, observed_at = $3, observed_note = $4 WHERE id = $1 AND observed_outcome = ''",
      [id, outcome, at, note],
    )) > 0;
  }

  async get(id: string): Promise<CommandRecord | undefined> {
    const row = await this.db.get<CommandRow>('SELECT * FROM commands WHERE id = $1', [id]);
    return row ? commandFromRow(row) : undefined;
  }

  async list(rigId: string, limit: number): Promise<CommandRecord[]> {
    const rows = rigId
      ? await this.db.all<CommandRow>('SELECT * FROM commands WHERE rig_id = $1 ORDER BY created_at DESC, id LIMIT $2', [rigId, limit])
      : await this.db.all<CommandRow>('SELECT * FROM commands ORDER BY created_at DESC, id LIMIT $1', [limit]);
    return rows.map(commandFromRow);
  }

  async unfinished(): Promise<CommandRecord[]> {
    return (await this.db.all<CommandRow>(`SELECT * FROM commands WHERE ${UNFINISHED} ORDER BY created_at, id`)).map(commandFromRow);
  }
}
