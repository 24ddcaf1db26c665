import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiScope } from '@rigwarden/security';

/** How long a stream ticket can be used to open /api/stream. The stream itself stays open after that. */
export const STREAM_TICKET_TTL_MS = 60_000;

export interface StreamTicketClaims {
  principal: string;
  keyId: string;
  scope: ApiScope;
  /** Epoch ms after which the ticket no longer opens a stream. */
  expires: number;
}

/**
 * Short-lived tickets for the SSE stream: EventSource cannot send an Authorization header, and an API key in a URL
 * ends up in logs and browser history. A client trades its key (Bearer) for a ticket at POST /api/stream-ticket and
 * opens /api/stream?ticket=...; the ticket is HMAC-signed with a key that lives only in this process's memory, so a
 * controller restart voids every ticket.
 */
export class StreamTickets {
  private readonly key = randomBytes(32);

  constructor(private readonly ttlMs = STREAM_TICKET_TTL_MS) {}

  issue(claims: Omit<StreamTicketClaims, 'expires'>, now: number): { ticket: string; expires: number } {
    const body = Buffer.from(JSON.stringify({ ...claims, expires: now + this.ttlMs })).toString('base64url');
    return { ticket: `${body}.${this.sign(body)}`, expires: now + this.ttlMs };
  }

  /** The claims of a valid, unexpired ticket; undefined otherwise (never says which check failed). */
  verify(ticket: string | null | undefined, now: number): StreamTicketClaims | undefined {
    if (!ticket) return undefined;
    const [body, mac, extra] = ticket.split('.');
    if (!body || !mac || extra !== undefined) return undefined;
    const expected = Buffer.from(this.sign(body));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as StreamTicketClaims;
      return typeof claims.expires === 'number' && now <= claims.expires ? claims : undefined;
    } catch {
      return undefined;
    }
  }

  private sign(body: string): string {
    return createHmac('sha256', this.key).update(`rigwarden-stream-ticket\0${body}`).digest('base64url');
  }
}
