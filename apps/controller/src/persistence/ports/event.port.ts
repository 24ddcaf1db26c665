import type { AgentStatus, CommandResult, RigEvent } from '@rigwarden/protocol';

export interface EventRow {
  event_id: string;
  rig_id: string;
  kind: string;
  severity: string;
  reason: string;
  message: string;
  at: number;
  source: string;
  /** The command a decision sent, '' when none (schema v6). */
  command_id: string;
  /** The decision's parameters as JSON (schema v10), '' when not on record. */
  params?: string;
}

/** A policy decision or operator action on record, with what became of its command (null without one). */
export interface PolicyActionRow {
  kind: string;
  reason: string;
  at: number;
  source: string;
  command_id: string;
  command_state: string | null;
  /** The proto3 JSON of the command payload ({"applyProfile": {...}}). */
  command_payload: string | null;
  /** Why the command failed (CommandResult.cause), and what the miner showed afterwards ('succeeded-observed'). */
  command_cause?: string | null;
  command_observed?: string | null;
  /** The decision's parameters as JSON (schema v10), '' when not on record. */
  params?: string;
}

/** Events, command results and agent status: what agents report besides telemetry. */
export interface EventStore {
  /** Called after a new event is stored (never for a replayed one). Listeners must be quick; a throw is ignored. */
  onRecorded(listener: (event: RigEvent, source: string) => void): void;
  /** Stores an event once (by event id): a replayed event is ignored. Returns whether it was new. */
  recordEvent(event: RigEvent, source: string, commandId?: string, params?: string): Promise<boolean>;
  recordResult(result: CommandResult, receivedAt: number): Promise<void>;
  /** Keeps each agent's newest status (an older one is ignored). */
  recordAgentStatus(status: AgentStatus): Promise<void>;
  /** Newest first; `since` (epoch ms): only events at or after it. */
  eventsForRig(rigId: string, limit?: number, since?: number): Promise<EventRow[]>;
  /** policy.* and operator.release events since `since` plus the newest quarantine or release of any age, oldest first. */
  policyActionsForRig(rigId: string, since: number): Promise<PolicyActionRow[]>;
  resultsForCommand(commandId: string): Promise<Array<{ outcome: string; cause: string; duration_ms: number }>>;
  listAgentStatus(): Promise<AgentStatus[]>;
  agentStatus(agentId: string): Promise<AgentStatus | undefined>;
}

export const EVENT_STORE = Symbol('EventStore');
