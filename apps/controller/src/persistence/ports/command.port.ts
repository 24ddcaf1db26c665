import type { CommandEnvelope } from '@rigwarden/protocol';

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
  /** The controller (--replica-id) that sent the last attempt and the lease epoch it carried (schema v12); absent without leases. */
  sentBy?: string;
  leaseEpoch?: number;
}

/** Who sent an attempt: the controller's replica id ('' alone) and the lease epoch in its envelope (0 without leases). */
export interface CommandSender {
  replicaId: string;
  leaseEpoch: number;
}

/** What a caller gives to store a new command; the store fills in the type, the PENDING state and the counters. */
export type NewCommand = Omit<CommandRecord, 'state' | 'attempts' | 'sentAt' | 'finishedAt' | 'cause' | 'type'>;

/**
 * Every command, its attempts and its outcome (schema v5), one row per id. The state machine: PENDING -> SENT on the
 * first publish; PENDING or SENT -> a final state (TERMINAL_STATES) once; a finished command never changes state
 * again (the first outcome wins), though a late publish acknowledgement still counts as an attempt.
 */
export interface CommandStore {
  /** Stores a new command as PENDING. Throws on a duplicate id (the agent runs an id once: an id is never reused). */
  insert(command: NewCommand): Promise<CommandRecord>;
  /**
   * Counts one more publish and makes a PENDING command SENT; records who sent it, when given. Returns whether the
   * command was still unfinished.
   */
  markSent(id: string, at: number, sender?: CommandSender): Promise<boolean>;
  /** Records the last cause of an unfinished command (a rejected attempt, a broker error) without finishing it. */
  noteCause(id: string, cause: string): Promise<void>;
  /** Finishes an unfinished command. Returns false when it was already finished. Throws for a state that is not final. */
  finish(id: string, state: CommandStateName, cause: string, at: number): Promise<boolean>;
  /**
   * A finished command whose effect the miner showed afterwards although it was recorded FAILED or TIMED_OUT: the
   * row keeps its state and gets the observed outcome beside it, once. Answers whether it was new.
   */
  annotateObserved(id: string, outcome: string, at: number, note: string): Promise<boolean>;
  get(id: string): Promise<CommandRecord | undefined>;
  /** Newest first; every rig when rigId is empty. */
  list(rigId: string, limit: number): Promise<CommandRecord[]>;
  /** PENDING and SENT commands, oldest first (resumed after a controller restart). */
  unfinished(): Promise<CommandRecord[]>;
}

export const COMMAND_STORE = Symbol('CommandStore');
