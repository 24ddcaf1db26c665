import { createSocket } from 'node:dgram';
import { ApcPduSimulator } from './apc-pdu.simulator';
import { parseMessage, TAG, writeMessage } from './snmp-wire.codec';
import { waitFor } from '@rigwarden/testing';

/** Sends one datagram from a fresh socket and returns the first reply, or undefined after waitMs. */
function exchange(port: number, datagram: Buffer, waitMs = 300): Promise<Buffer | undefined> {
  const socket = createSocket('udp4');
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.close();
      resolve(undefined);
    }, waitMs);
    socket.once('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(msg);
    });
    socket.send(datagram, port, '127.0.0.1');
  });
}

const hexOf = (text: string): string => Buffer.from(text).toString('hex');

/** v1/v2c request with one varbind, built by hand from RFC 1157's layout. */
function request(opts: { version: 0 | 1; community: string; pduTag: number; requestId: number; oid: string; value?: bigint }): Buffer {
  return writeMessage({
    version: opts.version,
    community: Buffer.from(opts.community),
    pduTag: opts.pduTag,
    requestId: BigInt(opts.requestId),
    errorStatus: 0n,
    errorIndex: 0n,
    varbinds: [{ oid: opts.oid, value: opts.value === undefined ? { kind: 'empty', tag: TAG.NULL } : { kind: 'int', tag: TAG.INTEGER, value: opts.value } }],
  });
}

const SPDU_CTL = '1.3.6.1.4.1.318.1.1.4.4.2.1.3';

describe('APC PDU SNMP simulator', () => {
  let sim: ApcPduSimulator;
  let port: number;

  beforeEach(async () => {
    sim = new ApcPduSimulator({ outlets: 4, rebootDurationMs: 400, lifetimeMs: 10_000 });
    ({ port } = await sim.start());
  });

  afterEach(async () => {
    await sim.stop();
  });

  it('answers a hand-written v1 GET of sysName.0 with the exact bytes of a GetResponse', async () => {
    // 30 26: message; 02 01 00: v1; 04 06 "public"; a0 19: GetRequest { id 1, 0, 0, [ sysName.0 = NULL ] }
    const get = Buffer.from('3026020100' + '0406' + hexOf('public') + 'a019020101020100020100300e300c06082b06010201010500' + '0500', 'hex');
    const reply = await exchange(port, get);
    const name = hexOf('rigwarden-sim-pdu');
    expect(reply?.toString('hex')).toBe(
      '3037020100' + '0406' + hexOf('public') + 'a22a020101020100020100' + '301f301d06082b06010201010500' + '0411' + name,
    );
  });

  it('says nothing to an unknown community, and records why', async () => {
    const reply = await exchange(port, request({ version: 0, community: 'admin', pduTag: TAG.GET, requestId: 9, oid: `${SPDU_CTL}.1` }), 150);
    expect(reply).toBeUndefined();
    expect(sim.requests).toEqual([expect.objectContaining({ community: 'admin', requestId: 9, outcome: 'dropped: unknown community' })]);
  });

  it('says nothing to a datagram that is not BER', async () => {
    expect(await exchange(port, Buffer.from('hello'), 150)).toBeUndefined();
    expect(sim.requests[0].outcome).toBe('dropped: unparseable');
  });

  it('reboot (3): off now, on again after the reboot duration, both on the timeline', async () => {
    const reply = await exchange(port, request({ version: 0, community: 'private', pduTag: TAG.SET, requestId: 5, oid: `${SPDU_CTL}.2`, value: 3n }));
    expect(reply && parseMessage(reply).errorStatus).toBe(0n);
    expect(sim.outletState(2)).toBe('off');
    await waitFor('outlet 2 on again after the reboot', () => (sim.outletState(2) === 'on' ? true : undefined), 3_000, 20);
    expect(sim.timeline[1].at - sim.timeline[0].at).toBeGreaterThanOrEqual(390);
    expect(sim.timeline.map((t) => [t.outlet, t.to, t.cause])).toEqual([[2, 'off', 'reboot'], [2, 'on', 'reboot done']]);
  });

  it('v2c: an unknown object is noSuchObject, a missing outlet noSuchInstance', async () => {
    const unknown = await exchange(port, request({ version: 1, community: 'public', pduTag: TAG.GET, requestId: 1, oid: '1.3.6.1.4.1.99999.1.0' }));
    expect(parseMessage(unknown as Buffer).varbinds[0].value).toEqual({ kind: 'empty', tag: TAG.NO_SUCH_OBJECT });
    const missing = await exchange(port, request({ version: 1, community: 'public', pduTag: TAG.GET, requestId: 2, oid: `${SPDU_CTL}.5` }));
    expect(parseMessage(missing as Buffer).varbinds[0].value).toEqual({ kind: 'empty', tag: TAG.NO_SUCH_INSTANCE });
  });

  it('GETNEXT walks into the outlet column in numeric OID order', async () => {
    const reply = await exchange(port, request({ version: 0, community: 'public', pduTag: TAG.GET_NEXT, requestId: 3, oid: SPDU_CTL }));
    const [vb] = parseMessage(reply as Buffer).varbinds;
    expect(vb.oid).toBe(`${SPDU_CTL}.1`);
    expect(vb.value).toEqual({ kind: 'int', tag: TAG.INTEGER, value: 1n });
  });

  it('rPDU2 state reads off(1)/on(2), the other way round from its control object', async () => {
    sim.setOutletState(1, 'off');
    const state = await exchange(port, request({ version: 0, community: 'public', pduTag: TAG.GET, requestId: 4, oid: '1.3.6.1.4.1.318.1.1.26.9.2.3.1.5.1' }));
    const control = await exchange(port, request({ version: 0, community: 'public', pduTag: TAG.GET, requestId: 5, oid: '1.3.6.1.4.1.318.1.1.26.9.2.4.1.5.1' }));
    expect(parseMessage(state as Buffer).varbinds[0].value).toMatchObject({ value: 1n });
    expect(parseMessage(control as Buffer).varbinds[0].value).toMatchObject({ value: 2n });
  });

  it('comes back on the same port after a stop, outlets as they were', async () => {
    sim.setOutletState(3, 'off');
    await sim.stop();
    expect(await exchange(port, request({ version: 0, community: 'public', pduTag: TAG.GET, requestId: 1, oid: `${SPDU_CTL}.3` }), 100)).toBeUndefined();
    const again = await sim.start();
    expect(again.port).toBe(port);
    const reply = await exchange(port, request({ version: 0, community: 'public', pduTag: TAG.GET, requestId: 2, oid: `${SPDU_CTL}.3` }));
    expect(parseMessage(reply as Buffer).varbinds[0].value).toMatchObject({ value: 2n });
  });

  it('stops by itself after its lifetime, so a forgotten simulator cannot outlive its test', async () => {
    const shortLived = new ApcPduSimulator({ lifetimeMs: 50 });
    const { port: shortPort } = await shortLived.start();
    await waitFor('the simulator to stop at the end of its lifetime', () => (shortLived.listening ? undefined : true), 5_000, 10);
    expect(await exchange(shortPort, request({ version: 0, community: 'public', pduTag: TAG.GET, requestId: 1, oid: `${SPDU_CTL}.1` }), 100)).toBeUndefined();
    expect(shortLived.port).toBe(shortPort);
    await shortLived.stop();
  });
});
