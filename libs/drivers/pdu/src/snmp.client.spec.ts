import { ApcPduSimulator } from '@rigwarden/simulators';
import { PduError } from './pdu-error';
import { SnmpClient, type SnmpTarget } from './snmp.client';
import { snmpInteger, snmpOctetString, type SnmpVersion } from './snmp-message.codec';

const SPDU_CTL = '1.3.6.1.4.1.318.1.1.4.4.2.1.3';
const SYS_DESCR = '1.3.6.1.2.1.1.1.0';

async function caught(promise: Promise<unknown>): Promise<PduError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof PduError) return err;
    throw err;
  }
  throw new Error('expected a PduError, the call succeeded');
}

describe('snmp client against the APC PDU simulator over loopback UDP', () => {
  let sim: ApcPduSimulator;
  let port: number;
  const target = (version: SnmpVersion, community = 'private'): SnmpTarget => ({ host: '127.0.0.1', port, community, version });

  beforeEach(async () => {
    sim = new ApcPduSimulator({ outlets: 8, readCommunity: 'public', writeCommunity: 'private', lifetimeMs: 15_000 });
    ({ port } = await sim.start());
  });

  afterEach(async () => {
    await sim.stop();
  });

  it.each(['1', '2c'] as const)('v%s: GET reads several objects in the order asked', async (version) => {
    const client = new SnmpClient({ timeoutMs: 500, retries: 0 });
    const reply = await client.get(target(version, 'public'), [`${SPDU_CTL}.1`, SYS_DESCR, '1.3.6.1.2.1.1.2.0']);
    expect(reply.map((vb) => vb.oid)).toEqual([`${SPDU_CTL}.1`, SYS_DESCR, '1.3.6.1.2.1.1.2.0']);
    expect(reply[0].value).toEqual({ type: 'integer', value: 1 });
    expect(reply[1].value.type).toBe('octetString');
    expect(reply[2].value).toEqual({ type: 'oid', value: '1.3.6.1.4.1.318.1.3.4.5' });
    expect(sim.requests[0]).toMatchObject({ version, community: 'public', pdu: 'get', outcome: 'answered' });
  });

  it.each(['1', '2c'] as const)('v%s: SET with the write community switches the outlet and is echoed', async (version) => {
    const client = new SnmpClient({ timeoutMs: 500, retries: 0 });
    const reply = await client.set(target(version), [{ oid: `${SPDU_CTL}.3`, value: snmpInteger(2) }]);
    expect(reply).toEqual([{ oid: `${SPDU_CTL}.3`, value: { type: 'integer', value: 2 } }]);
    expect(sim.outletState(3)).toBe('off');
    expect(sim.timeline).toEqual([expect.objectContaining({ outlet: 3, from: 'on', to: 'off', cause: 'set' })]);
  });

  it('sends the request-id it was given and takes only the reply carrying it', async () => {
    const client = new SnmpClient({ timeoutMs: 500, retries: 0, nextRequestId: () => 4242 });
    sim.sendStaleReplies(1);
    sim.sendGarbage(1);
    const reply = await client.get(target('2c', 'public'), [`${SPDU_CTL}.2`]);
    expect(sim.requests[0].requestId).toBe(4242);
    // The stale reply said 4 (outletUnknown); the matching one says 1 (on).
    expect(reply[0].value).toEqual({ type: 'integer', value: 1 });
    expect(client.lastExchange).toEqual({ sent: 1, staleReplies: 1, ignoredDatagrams: 1 });
  });

  it('a wrong community gets no reply, like a real agent, and times out naming the host and the tries', async () => {
    const client = new SnmpClient({ timeoutMs: 80, retries: 1 });
    const err = await caught(client.get(target('1', 'guess'), [`${SPDU_CTL}.1`]));
    expect(err.kind).toBe('timeout');
    expect(err.context).toMatchObject({ host: '127.0.0.1', port, oid: `${SPDU_CTL}.1`, attempts: 2 });
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(err.message).toMatch(/no reply after 2 tries of 80 ms: wrong community/);
    expect(err.message).not.toContain('guess');
    expect(sim.requests.map((r) => r.outcome)).toEqual(['dropped: unknown community', 'dropped: unknown community']);
  });

  it('retries a lost request and succeeds on the next try', async () => {
    const client = new SnmpClient({ timeoutMs: 80, retries: 2 });
    sim.dropRequests(2);
    const reply = await client.get(target('1', 'public'), [`${SPDU_CTL}.4`]);
    expect(reply[0].value).toEqual({ type: 'integer', value: 1 });
    expect(client.lastExchange.sent).toBe(3);
    expect(sim.requests.map((r) => r.outcome)).toEqual(['dropped: request lost (fault)', 'dropped: request lost (fault)', 'answered']);
    expect(new Set(sim.requests.map((r) => r.requestId)).size).toBe(1);
  });

  it('retries a SET whose reply was lost: the SET is applied once in effect (idempotent on/off)', async () => {
    const client = new SnmpClient({ timeoutMs: 80, retries: 1 });
    sim.dropReplies(1);
    await client.set(target('1'), [{ oid: `${SPDU_CTL}.5`, value: snmpInteger(2) }]);
    expect(sim.sets().map((r) => r.outcome)).toEqual(['dropped: reply lost (fault)', 'answered']);
    expect(sim.transitionsOf(5)).toEqual(['off']);
  });

  it('accepts a late reply to an earlier try, since retries keep the request-id', async () => {
    // Tries at 0 and 200 ms; the reply to the first comes at 300 ms, before a third try would go at 400 ms.
    const client = new SnmpClient({ timeoutMs: 200, retries: 2 });
    sim.delayReplies(300);
    const reply = await client.get(target('2c', 'public'), [`${SPDU_CTL}.1`]);
    expect(reply[0].value).toEqual({ type: 'integer', value: 1 });
    expect(client.lastExchange.sent).toBe(2);
  });

  it('gives up after every retry when the agent hangs', async () => {
    const client = new SnmpClient({ timeoutMs: 50, retries: 2 });
    sim.silence();
    const started = performance.now();
    const err = await caught(client.get(target('2c', 'public'), [SYS_DESCR]));
    expect(err.kind).toBe('timeout');
    expect(err.context.attempts).toBe(3);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it.each([
    // [version, fault error-status, kind, name]
    ['1', 2, 'no_such_object', 'noSuchName'],
    ['1', 3, 'snmp_error', 'badValue'],
    ['1', 4, 'snmp_error', 'readOnly'],
    ['1', 5, 'snmp_error', 'genErr'],
    ['2c', 6, 'snmp_error', 'noAccess'],
    ['2c', 7, 'snmp_error', 'wrongType'],
    ['2c', 10, 'snmp_error', 'wrongValue'],
    ['2c', 13, 'snmp_error', 'resourceUnavailable'],
    ['2c', 16, 'snmp_error', 'authorizationError'],
    ['2c', 17, 'snmp_error', 'notWritable'],
  ] as const)('v%s error-status %d is a %s error named %s, with the OID at error-index', async (version, status, kind, name) => {
    const client = new SnmpClient({ timeoutMs: 300, retries: 0 });
    sim.failWith({ errorStatus: status, errorIndex: 2 });
    const err = await caught(client.set(target(version), [
      { oid: `${SPDU_CTL}.1`, value: snmpInteger(1) },
      { oid: `${SPDU_CTL}.2`, value: snmpInteger(1) },
    ]));
    expect(err.kind).toBe(kind);
    expect(err.context).toMatchObject({ host: '127.0.0.1', port, oid: `${SPDU_CTL}.2`, errorStatus: name, errorStatusCode: status, errorIndex: 2 });
    expect(err.message).toContain(name);
  });

  it('v1: a SET with the read community is refused with noSuchName, as RFC 1157 agents do', async () => {
    const client = new SnmpClient({ timeoutMs: 300, retries: 0 });
    const err = await caught(client.set(target('1', 'public'), [{ oid: `${SPDU_CTL}.1`, value: snmpInteger(2) }]));
    expect(err.kind).toBe('no_such_object');
    expect(err.context.errorStatus).toBe('noSuchName');
    expect(sim.outletState(1)).toBe('on');
  });

  it('v2c: a SET with the read community is refused with noAccess and a hint about the community', async () => {
    const client = new SnmpClient({ timeoutMs: 300, retries: 0 });
    const err = await caught(client.set(target('2c', 'public'), [{ oid: `${SPDU_CTL}.1`, value: snmpInteger(2) }]));
    expect(err.kind).toBe('snmp_error');
    expect(err.context.errorStatus).toBe('noAccess');
    expect(err.message).toMatch(/write\) community/);
    expect(err.message).not.toContain('public');
  });

  it('v2c: a value the agent refuses is wrongValue, a wrong type is wrongType', async () => {
    const client = new SnmpClient({ timeoutMs: 300, retries: 0 });
    const bad = await caught(client.set(target('2c'), [{ oid: `${SPDU_CTL}.1`, value: snmpInteger(9) }]));
    expect(bad.context.errorStatus).toBe('wrongValue');
    const type = await caught(client.set(target('2c'), [{ oid: `${SPDU_CTL}.1`, value: snmpOctetString('off') }]));
    expect(type.context.errorStatus).toBe('wrongType');
  });

  it('v2c: a missing outlet is a noSuchInstance exception, reported as no_such_object with its OID', async () => {
    const client = new SnmpClient({ timeoutMs: 300, retries: 0 });
    const err = await caught(client.get(target('2c', 'public'), [`${SPDU_CTL}.1`, `${SPDU_CTL}.9`]));
    expect(err.kind).toBe('no_such_object');
    expect(err.context).toMatchObject({ oid: `${SPDU_CTL}.9`, errorStatus: 'noSuchInstance' });
  });

  it('v1: a missing outlet is noSuchName at its index', async () => {
    const client = new SnmpClient({ timeoutMs: 300, retries: 0 });
    const err = await caught(client.get(target('1', 'public'), [`${SPDU_CTL}.1`, `${SPDU_CTL}.9`]));
    expect(err.kind).toBe('no_such_object');
    expect(err.context).toMatchObject({ oid: `${SPDU_CTL}.9`, errorStatus: 'noSuchName', errorIndex: 2 });
  });

  it('an abort stops the request at once', async () => {
    const client = new SnmpClient({ timeoutMs: 5_000, retries: 0 });
    sim.silence();
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('deadline')), 30);
    const started = performance.now();
    const err = await caught(client.get(target('2c', 'public'), [SYS_DESCR], { signal: controller.signal }));
    expect(err.kind).toBe('aborted');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('a closed port (ICMP port unreachable on loopback) fails fast as unreachable', async () => {
    await sim.stop();
    const client = new SnmpClient({ timeoutMs: 200, retries: 3 });
    const started = performance.now();
    const err = await caught(client.get(target('2c', 'public'), [SYS_DESCR]));
    expect(err.kind).toBe('unreachable');
    expect(err.message).toMatch(/port unreachable/);
    expect(performance.now() - started).toBeLessThan(800);
  });

  it('refuses to encode a value outside Integer32 before sending anything', async () => {
    const client = new SnmpClient({ timeoutMs: 300, retries: 0 });
    const err = await caught(client.set(target('1'), [{ oid: `${SPDU_CTL}.1`, value: snmpInteger(2 ** 40) }]));
    expect(err.kind).toBe('bad_input');
    expect(sim.requests).toHaveLength(0);
  });

  it.each(['1', '2c'] as const)('v%s: walk lists a column in order and stops where it ends', async (version) => {
    const client = new SnmpClient({ timeoutMs: 300, retries: 0 });
    sim.setOutletState(2, 'off');
    const rows = await client.walk(target(version, 'public'), SPDU_CTL);
    expect(rows.map((vb) => vb.oid)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => `${SPDU_CTL}.${n}`));
    expect(rows.map((vb) => (vb.value.type === 'integer' ? vb.value.value : undefined))).toEqual([1, 2, 1, 1, 1, 1, 1, 1]);
    expect(sim.requests.every((r) => r.pdu === 'getNext')).toBe(true);
  });

  it.each(['1', '2c'] as const)('v%s: walk of the last column ends at the end of the MIB (noSuchName / endOfMibView)', async (version) => {
    const client = new SnmpClient({ timeoutMs: 300, retries: 0 });
    const rows = await client.walk(target(version, 'public'), '1.3.6.1.4.1.318.1.1.26.9.2.4.1.5');
    expect(rows).toHaveLength(8);
    expect(sim.requests).toHaveLength(9);
  });

  it('walk stops at maxRows', async () => {
    const client = new SnmpClient({ timeoutMs: 300, retries: 0 });
    const rows = await client.walk(target('2c', 'public'), SPDU_CTL, { maxRows: 3 });
    expect(rows).toHaveLength(3);
    expect(sim.requests).toHaveLength(3);
  });

  it('refuses a port it cannot address as bad_input, without leaving a socket open', async () => {
    const client = new SnmpClient({ timeoutMs: 100, retries: 0 });
    const err = await caught(client.get({ host: '127.0.0.1', port: 70_000, community: 'public', version: '1' }, [SYS_DESCR]));
    expect(err.kind).toBe('bad_input');
  });

  it('refuses a timeout or retry count out of range', () => {
    expect(() => new SnmpClient({ timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => new SnmpClient({ retries: -1 })).toThrow(/retries/);
  });
});
