import { AgentStatus, CommandResult, commandOutcomeToJSON, type RigEvent } from '@rigwarden/protocol';
import type { EventRow, EventStore, PolicyActionRow } from '../ports/event.port';
import type { PostgresDatabase } from './postgres-database';

/** Events, command results and agent status in PostgreSQL (events.pos keeps insertion order, as SQLite's rowid). */
export class PostgresEventStore implements EventStore {
  private readonly recordedListeners: Array<(event: RigEvent, source: string) => void> = [];

  constructor(private readonly db: PostgresDatabase) {}

  onRecorded(listener: (event: RigEvent, source: string) => void): void {
    this.recordedListeners.push(listener);
  }

  async recordEvent(event: RigEvent, source: string, commandId = '', params = ''): Promise<boolean> {
    const changes = await this.db.run(
      `INSERT INTO events (event_id, rig_id, kind, severity, reason, message, at, source, command_id, params) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (event_id) DO NOTHING`,
      [event.eventId, event.rigId, event.kind, event.severity, event.reason, event.message, event.at?.getTime() ?? 0, source, commandId, params],
    );
    if (changes > 0) {
      for (const l of this.recordedListeners) {
        try { l(event, source); } catch { /* a listener's failure never fails the write */ }
      }
    }
    return changes > 0;
  }

  async recordResult(result: CommandResult, receivedAt: number): Promise<void> {
    await this.db.run(
      // One row per result (schema v13): heard again, it is not added.
      'INSERT INTO command_results (command_id, rig_id, outcome, cause, duration_ms, finished_at, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING',
      [result.commandId, result.rigId, commandOutcomeToJSON(result.outcome), result.cause, result.durationMs, result.finishedAt?.getTime() ?? null, receivedAt],
    );
  }

  async recordAgentStatus(status: AgentStatus): Promise<void> {
    await this.db.run(
      `INSERT INTO agents (agent_id, online, at, status) VALUES ($1, $2, $3, $4)
       ON CONFLICT (agent_id) DO UPDATE SET online = excluded.online, at = excluded.at, status = excluded.status WHERE excluded.at >= agents.at`,
      [status.agentId, status.online ? 1 : 0, status.at?.getTime() ?? 0, JSON.stringify(AgentStatus.toJSON(status))],
    );
  }

  eventsForRig(rigId: string, limit = 100, since = 0): Promise<EventRow[]> {
    return this.db.all<EventRow>(
      'SELECT event_id, rig_id, kind, severity, reason, message, at, source, command_id, params FROM events WHERE rig_id = $1 AND at >= $2 ORDER BY at DESC, event_id LIMIT $3',
      [rigId, since, limit],
    );
  }

  policyActionsForRig(rigId: string, since: number): Promise<PolicyActionRow[]> {
    return this.db.all<PolicyActionRow>(
      `SELECT e.kind, e.reason, e.at, e.source, e.command_id, e.params, c.state AS command_state, c.payload AS command_payload,
              c.cause AS command_cause, c.observed_outcome AS command_observed
       FROM events e LEFT JOIN commands c ON c.id = e.command_id AND e.command_id <> ''
       WHERE e.rig_id = $1 AND (e.kind LIKE 'policy.%' OR e.kind = 'operator.release')
         AND (e.at >= $2 OR e.pos = (SELECT q.pos FROM events q WHERE q.rig_id = $1
           AND q.kind IN ('policy.quarantine', 'policy.release', 'operator.release') ORDER BY q.at DESC, q.pos DESC LIMIT 1))
       ORDER BY e.at, e.pos`,
      [rigId, since],
    );
  }

  resultsForCommand(commandId: string): Promise<Array<{ outcome: string; cause: string; duration_ms: number }>> {
    return this.db.all('SELECT outcome, cause, duration_ms FROM command_results WHERE command_id = $1 ORDER BY id', [commandId]);
  }

  async listAgentStatus(): Promise<AgentStatus[]> {
    const rows = await this.db.all<{ status: string }>('SELECT status FROM agents ORDER BY agent_id');
    return rows.map((r) => AgentStatus.fromJSON(JSON.parse(r.status)));
  }

  async agentStatus(agentId: string): Promise<AgentStatus | undefined> {
    const row = await this.db.get<{ status: string }>('SELECT status FROM agents WHERE agent_id = $1', [agentId]);
    return row ? AgentStatus.fromJSON(JSON.parse(row.status)) : undefined;
  }
}
