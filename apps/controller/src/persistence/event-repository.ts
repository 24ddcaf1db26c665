import { AgentStatus, CommandResult, commandOutcomeToJSON, type RigEvent } from '@rigwarden/protocol';
import type { SqliteDatabase } from './sqlite-database';

import type { EventRow, EventStore, PolicyActionRow } from './ports/event.port';

export type { EventRow, PolicyActionRow } from './ports/event.port';

/** Events, command results and agent status: what agents report besides telemetry. */
export class EventRepository implements EventStore {
  private readonly recordedListeners: Array<(event: RigEvent, source: string) => void> = [];

  constructor(private readonly db: SqliteDatabase) {}

  /** Called after a new event is stored (never for a replayed one). Listeners must be quick; a throw is ignored. */
  onRecorded(listener: (event: RigEvent, source: string) => void): void {
    this.recordedListeners.push(listener);
  }

  /** Stores an event once (by event id): a replayed event is ignored. Returns whether it was new. */
  async recordEvent(event: RigEvent, source: string, commandId = '', params = ''): Promise<boolean> {
    const { changes } = await this.db.transaction((tx) => tx.run(
      `INSERT INTO events (event_id, rig_id, kind, severity, reason, message, at, source, command_id, params) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (event_id) DO NOTHING`,
      [event.eventId, event.rigId, event.kind, event.severity, event.reason, event.message, event.at?.getTime() ?? 0, source, commandId, params],
    ));
    if (changes > 0) {
      for (const l of this.recordedListeners) {
        try { l(event, source); } catch { /* a listener's failure never fails the write */ }
      }
    }
    return changes > 0;
  }

  async recordResult(result: CommandResult, receivedAt: number): Promise<void> {
    await this.db.transaction((tx) => tx.run(
      // One row per result (schema v13): heard again, it is not added.
      `INSERT OR IGNORE INTO command_results (command_id, rig_id, outcome, cause, duration_ms, finished_at, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [result.commandId, result.rigId, commandOutcomeToJSON(result.outcome), result.cause, result.durationMs, result.finishedAt?.getTime() ?? null, receivedAt],
    ));
  }

  async recordAgentStatus(status: AgentStatus): Promise<void> {
    const at = status.at?.getTime() ?? 0;
    await this.db.transaction((tx) => tx.run(
      `INSERT INTO agents (agent_id, online, at, status) VALUES (?, ?, ?, ?)
       ON CONFLICT (agent_id) DO UPDATE SET online = excluded.online, at = excluded.at, status = excluded.status WHERE excluded.at >= agents.at`,
      [status.agentId, status.online ? 1 : 0, at, JSON.stringify(AgentStatus.toJSON(status))],
    ));
  }

  /** Newest first; `since` (epoch ms): only events at or after it. */
  eventsForRig(rigId: string, limit = 100, since = 0): Promise<EventRow[]> {
    return this.db.all<EventRow>('SELECT * FROM events WHERE rig_id = ? AND at >= ? ORDER BY at DESC, event_id LIMIT ?', [rigId, since, limit]);
  }

  /**
   * The decisions and operator actions that make up a rig's policy history, oldest first: policy.* and
   * operator.release events at or after `since`, plus the newest quarantine or release of any age (a quarantine
   * holds until released), each with the state and payload of the command it sent.
   */
  policyActionsForRig(rigId: string, since: number): Promise<PolicyActionRow[]> {
    return this.db.all<PolicyActionRow>(
      `SELECT e.kind, e.reason, e.at, e.source, e.command_id, e.params, c.state AS command_state, c.payload AS command_payload,
              c.cause AS command_cause, c.observed_outcome AS command_observed
       FROM events e LEFT JOIN commands c ON c.id = e.command_id AND e.command_id <> ''
       WHERE e.rig_id = ? AND (e.kind LIKE 'policy.%' OR e.kind = 'operator.release')
         AND (e.at >= ? OR e.rowid = (SELECT q.rowid FROM events q WHERE q.rig_id = ?
           AND q.kind IN ('policy.quarantine', 'policy.release', 'operator.release') ORDER BY q.at DESC, q.rowid DESC LIMIT 1))
       ORDER BY e.at, e.rowid`,
      [rigId, since, rigId],
    );
  }

  resultsForCommand(commandId: string): Promise<Array<{ outcome: string; cause: string; duration_ms: number }>> {
    return this.db.all('SELECT outcome, cause, duration_ms FROM command_results WHERE command_id = ? ORDER BY id', [commandId]);
  }

  /** Every agent's latest status (metrics: driver counters). */
  async listAgentStatus(): Promise<AgentStatus[]> {
    const rows = await this.db.all<{ status: string }>('SELECT status FROM agents ORDER BY agent_id');
    return rows.map((r) => AgentStatus.fromJSON(JSON.parse(r.status)));
  }

  async agentStatus(agentId: string): Promise<AgentStatus | undefined> {
    const row = await this.db.get<{ status: string }>('SELECT status FROM agents WHERE agent_id = ?', [agentId]);
    return row ? AgentStatus.fromJSON(JSON.parse(row.status)) : undefined;
  }
}
