import { STREAM_TICKET_TTL_MS, StreamTickets } from './stream-ticket';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const claims = { principal: 'apikey:0123456789abcdef', keyId: '0123456789abcdef', scope: 'read' as const };

describe('stream tickets', () => {
  const tickets = new StreamTickets();
  const { ticket, expires } = tickets.issue(claims, T0);

  it('opens the stream until it expires, with the claims it was issued for', () => {
    expect(expires).toBe(T0 + STREAM_TICKET_TTL_MS);
    expect(tickets.verify(ticket, T0)).toEqual({ ...claims, expires, jti: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/) });
    expect(tickets.verify(ticket, expires)).toEqual({ ...claims, expires, jti: expect.any(String) });
  });

  it('opens one stream only: a second redeem of the same ticket is refused, another ticket of the same key is not', () => {
    const own = new StreamTickets();
    const first = own.issue(claims, T0).ticket;
    const second = own.issue(claims, T0).ticket;
    expect(own.redeem(first, T0 + 1)).toMatchObject(claims);
    expect(own.redeem(first, T0 + 2)).toBeUndefined();
    expect(own.verify(first, T0 + 2)).toBeUndefined();
    expect(own.redeem(second, T0 + 3)).toMatchObject(claims);
  });

  it('is void once its key is revoked, unused or not; tickets of other keys still open', () => {
    const own = new StreamTickets();
    const unused = own.issue(claims, T0).ticket;
    const other = own.issue({ ...claims, keyId: 'fedcba9876543210', principal: 'apikey:fedcba9876543210' }, T0).ticket;
    own.revokeKey(claims.keyId, T0 + 10);
    expect(own.redeem(unused, T0 + 11)).toBeUndefined();
    expect(own.redeem(own.issue(claims, T0 + 12).ticket, T0 + 12)).toBeUndefined();
    expect(own.redeem(other, T0 + 13)).toMatchObject({ keyId: 'fedcba9876543210' });
  });

  it('forgets redeemed ids once they have expired (memory stays bounded by the issue rate)', () => {
    const own = new StreamTickets(1000);
    for (let i = 0; i < 50; i++) own.redeem(own.issue(claims, T0 + i * 100).ticket, T0 + i * 100);
    expect((own as unknown as { redeemed: Map<string, number> }).redeemed.size).toBeLessThanOrEqual(11);
  });

  it.each<[string, string | undefined, number]>([
    ['expired by a millisecond', ticket, T0 + STREAM_TICKET_TTL_MS + 1],
    ['missing', undefined, T0],
    ['empty', '', T0],
    ['without a signature', ticket.split('.')[0]!, T0],
    ['with a forged body (scope raised to admin)', `${Buffer.from(JSON.stringify({ ...claims, scope: 'admin', expires, jti: 'x' })).toString('base64url')}.${ticket.split('.')[1]}`, T0],
    ['longer than any ticket made here', `${'a'.repeat(5000)}.b`, T0],
    ['with a flipped signature character', ticket.slice(0, -1) + (ticket.endsWith('A') ? 'B' : 'A'), T0],
    ['with an extra part', `${ticket}.x`, T0],
  ])('is refused when %s', (_name, presented, now) => {
    expect(tickets.verify(presented, now)).toBeUndefined();
  });

  it('is refused by another controller process (the signing key lives in memory only)', () => {
    expect(new StreamTickets().verify(ticket, T0)).toBeUndefined();
  });
});
