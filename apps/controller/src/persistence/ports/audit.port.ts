import type { AuditChainCheck } from '@rigwarden/security';

/** What a caller records; seq, time and hash are filled in by the log. */
export interface AuditRecord {
  /** "apikey:<id>", "policy:<name>", "controller". */
  principal: string;
  keyId?: string;
  /** "FleetService/RestartMiner", "command.restart-miner", "apikey.revoke", ... */
  action: string;
  /** A rig id, a key id, "fleet-spec"; '' when unknown (a call denied before its request was read). */
  target: string;
  /** "ok", "denied", "unauthenticated", "invalid", "failed", or a command outcome. */
  outcome: string;
  /** Non-secret details, stored as JSON. */
  detail?: Record<string, unknown>;
}

export interface AuditRow {
  seq: number;
  at: number;
  principal: string;
  key_id: string;
  action: string;
  target: string;
  outcome: string;
  detail: string;
  hash: string;
}

export interface AuditQuery {
  principal?: string;
  action?: string;
  target?: string;
  since?: number;
  /** Default 100, max 10,000. */
  limit?: number;
}

/** The append-only, hash-chained audit log. Appends run one at a time, so the chain has no forks. */
export interface AuditStore {
  append(record: AuditRecord): Promise<AuditRow>;
  /** Newest first. */
  query(q?: AuditQuery): Promise<AuditRow[]>;
  /** The newest row's seq and hash. */
  anchor(): Promise<{ seq: number; hash: string }>;
  /** Checks the whole chain, oldest first. */
  verify(): Promise<AuditChainCheck>;
}

export const AUDIT_STORE = Symbol('AuditStore');
