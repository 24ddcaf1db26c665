import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from './canonical-json';
import { INSPECT, REDACTED } from './redaction';
import type { SecretBytes } from './secret-bytes';
import { SecurityError } from './security-error';

const AUDIT_DOMAIN = 'rigwarden/audit/v1';

/** One audit row: who (principal, key id) did what (action) to what (target), how it ended, when (epoch ms). */
export interface AuditEntry {
  /** 1, 2, 3, ... with no gaps. */
  readonly seq: number;
  readonly at: number;
  readonly principal: string;
  readonly keyId?: string;
  readonly action: string;
  readonly target: string;
  readonly outcome: string;
  readonly detail?: string;
}

export interface ChainedAuditEntry extends AuditEntry {
  /** HMAC-SHA256 over the previous entry's mac and this entry, base64url. */
  readonly mac: string;
}

export type AuditChainCheck =
  | { readonly ok: true; readonly entries: number; readonly lastMac: string }
  | { readonly ok: false; readonly index: number; readonly seq: number; readonly reason: 'bad_mac' | 'seq_gap' };

/**
 * Makes the append-only audit table tamper-evident: each row carries an HMAC over the previous row's mac and its own
 * canonical JSON, under an audit key kept outside the database. Changing, deleting, inserting or reordering a row
 * breaks the chain from that row on; cutting rows off the end is only visible against an anchor kept elsewhere (the
 * last `seq` and mac, e.g. in the controller log or a metric), which `verify` returns.
 */
export class AuditChain {
  readonly #key: SecretBytes;

  constructor(key: SecretBytes) {
    this.#key = key;
  }

  /** The entry with its mac, chained to `previous` (undefined for the first entry). */
  append(entry: AuditEntry, previous: ChainedAuditEntry | undefined): ChainedAuditEntry {
    const expectedSeq = (previous?.seq ?? 0) + 1;
    if (entry.seq !== expectedSeq) {
      throw new SecurityError('invalid_argument', `AuditChain.append: seq must be ${expectedSeq}, got ${entry.seq}`, { seq: entry.seq });
    }
    return { ...entry, mac: this.#mac(entry, previous?.mac ?? '').toString('base64url') };
  }

  /** Checks a whole table, oldest first, and returns where it first breaks. */
  verify(entries: readonly ChainedAuditEntry[]): AuditChainCheck {
    let previousMac = '';
    for (let index = 0; index < entries.length; index++) {
      const { mac, ...entry } = entries[index] as ChainedAuditEntry;
      if (entry.seq !== index + 1) return { ok: false, index, seq: entry.seq, reason: 'seq_gap' };
      const expected = this.#mac(entry, previousMac);
      const actual = Buffer.from(typeof mac === 'string' ? mac : '', 'base64url');
      if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return { ok: false, index, seq: entry.seq, reason: 'bad_mac' };
      previousMac = mac;
    }
    return { ok: true, entries: entries.length, lastMac: previousMac };
  }

  #mac(entry: AuditEntry, previousMac: string): Buffer {
    const fields: AuditEntry = {
      seq: entry.seq, at: entry.at, principal: entry.principal, keyId: entry.keyId, action: entry.action,
      target: entry.target, outcome: entry.outcome, detail: entry.detail,
    };
    return createHmac('sha256', this.#key.expose()).update(`${AUDIT_DOMAIN}\n${previousMac}\n${canonicalJson(fields)}`, 'utf8').digest();
  }

  toJSON(): unknown {
    return { chain: 'hmac-sha256', key: REDACTED };
  }

  [INSPECT](): string {
    return `AuditChain { key: ${REDACTED} }`;
  }
}
