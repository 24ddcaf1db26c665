import { STREAM_TICKET_TTL_MS, StreamTickets } from './stream-ticket';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const claims = { principal: 'apikey:0123456789abcdef', keyId: '0123456789abcdef', scope: 'read' as const };

describe('stream tickets', () => {
  const tickets = new StreamTickets();
  const { ticket, expires } = tickets.issue(claims, T0);

  it('opens the stream until it expires, with the claims it was issued for', () => {
    expect(expires).toBe(T0 + STREAM_TICKET_TTL_MS);
    expect(tickets.verify(ticket, T0)).toEqual({ ...claims, expires });
    expect(tickets.verify(ticket, expires)).toEqual({ ...claims, expires });
  });

  it.each<[string, string | undefined, number]>([
    ['expired by a millisecond', ticket, T0 + STREAM_TICKET_TTL_MS + 1],
    ['missing', undefined, T0],
    ['empty', '', T0],
    ['without a signature', ticket.split('.')[0]!, T0],
    ['with a forged body (scope raised to admin)', `${Buffer.from(JSON.stringify({ ...claims, scope: 'admin', expires })).toString('base64url')}.${ticket.split('.')[1]}`, T0],
    ['with a flipped signature character', ticket.slice(0, -1) + (ticket.endsWith('A') ? 'B' : 'A'), T0],
    ['with an extra part', `${ticket}.x`, T0],
  ])('is refused when %s', (_name, presented, now) => {
    expect(tickets.verify(presented, now)).toBeUndefined();
  });

  it('is refused by another controller process (the signing key lives in memory only)', () => {
    expect(new StreamTickets().verify(ticket, T0)).toBeUndefined();
  });
});
