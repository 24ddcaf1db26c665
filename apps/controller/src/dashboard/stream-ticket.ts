import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiScope } from '@rigwarden/security';

/** How long a stream ticket can be used to open /api/stream. The stream itself stays open after that. */
export const STREAM_TICKET_TTL_MS = 60_000;

export interface StreamTicketClaims {
  principal: string;
  /** The API key that asked for the ticket: the stream it opens belongs to that key and closes when it is revoked. */
  keyId: string;
  scope: ApiScope;
  /** Epoch ms after which the ticket no longer opens a stream. */
  expires: number;
  /** Random id: a ticket opens one stream, once. */
  jti: string;
}

/**
 * Short-lived tickets for the SSE stream: EventSource cannot send an Authorization header, and an API key in a URL
 * ends up in logs and browser history. A client trades its key (Bearer) for a ticket at POST /api/stream-ticket and
 * opens /api/stream?ticket=...; the ticket is HMAC-signed with a key that lives only in this process's memory, so a
 * controller restart voids every ticket. A ticket is single-use (`redeem` remembers its id until it expires) and
 * bound to the key that asked for it: `revokeKey` voids every ticket that key was given.
 */
export class StreamTickets {
  private readonly key = randomBytes(32);
  /** Ids of redeemed tickets, with their expiry: forgotten once the ticket could not be used anyway. */
  private readonly redeemed = new Map<string, number>();
  /** Keys revoked since this process started, with when: their tickets issued before that are void. */
  private readonly revoked = new Map<string, number>();

  constructor(private readonly ttlMs = STREAM_TICKET_TTL_MS) {}

  issue(claims: Omit<StreamTicketClaims, 'expires' | 'jti'>, now: number): { ticket: string; expires: number } {
    const full: StreamTicketClaims = { ...claims, expires: now + this.ttlMs, jti: randomBytes(12).toString('base64url') };
    const body = Buffer.from(JSON.stringify(full)).toString('base64url');
    return { ticket: `${body}.${this.sign(body)}`, expires: full.expires };
  }

  /**
   * The claims of a valid, unexpired, unused ticket whose key was not revoked; undefined otherwise (never says which
   * check failed). Does not use the ticket up: `redeem` does.
   */
  verify(ticket: string | null | undefined, now: number): StreamTicketClaims | undefined {
    if (!ticket || ticket.length > 4096) return undefined;
    const [body, mac, extra] = ticket.split('.');
    if (!body || !mac || extra !== undefined) return undefined;
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    let claims: StreamTicketClaims;
    try {
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as StreamTicketClaims;
    } catch {
      return undefined;
    }
    if (typeof claims.expires !== 'number' || now > claims.expires || typeof claims.jti !== 'string') return undefined;
    if (this.redeemed.has(claims.jti) || this.revoked.has(claims.keyId)) return undefined;
    return claims;
  }

  /** verify(), then uses the ticket up: a second redeem of the same ticket is refused. */
  redeem(ticket: string | null | undefined, now: number): StreamTicketClaims | undefined {
    const claims = this.verify(ticket, now);
    if (!claims) return undefined;
    for (const [jti, expires] of this.redeemed) if (expires < now) this.redeemed.delete(jti);
    this.redeemed.set(claims.jti, claims.expires);
    return claims;
  }

  /** Voids every ticket issued to `keyId` (its key was revoked). */
  revokeKey(keyId: string, now: number): void {
    if (!this.revoked.has(keyId)) this.revoked.set(keyId, now);
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(`rigwarden-stream-ticket\0${body}`).digest('base64url');
  }
}
