import { ApcPduSimulator, type ApcPduSimulatorOptions } from '@rigwarden/simulators';
import { APC_DIALECTS, type ApcDialectName } from './apc-powernet.dialect';
import { ApcSnmpPdu, type ApcSnmpPduOptions } from './apc-snmp.pdu';
import { PduError } from './pdu-error';
import { systemPduRuntime, type PduRuntime } from './power-distribution-unit';
import { waitFor } from '@rigwarden/testing';

async function caught(promise: Promise<unknown>): Promise<PduError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof PduError) return err;
    throw err;
  }
  throw new Error('expected a PduError, the call succeeded');
}

/** A clock that only moves when the code under test sleeps; the simulator reads it too. */
function fakeTime(onSleep?: (ms: number) => void | Promise<void>): { clock: { t: number }; sleeps: number[]; runtime: PduRuntime } {
  const clock = { t: 1_000 };
  const sleeps: number[] = [];
  const runtime: PduRuntime = {
    now: () => clock.t,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      sleeps.push(ms);
      clock.t += ms;
      await onSleep?.(ms);
      if (signal?.aborted) throw signal.reason;
    },
  };
  return { clock, sleeps, runtime };
}

describe('apc-snmp PDU against the simulator', () => {
  const sims: ApcPduSimulator[] = [];

  async function setup(
    simOptions: ApcPduSimulatorOptions = {},
    pduOptions: Partial<ApcSnmpPduOptions> = {},
    runtime: PduRuntime = fakeTime().runtime,
  ): Promise<{ sim: ApcPduSimulator; pdu: ApcSnmpPdu }> {
    const sim = new ApcPduSimulator({ outlets: 8, readCommunity: 'public', writeCommunity: 'private', lifetimeMs: 15_000, now: runtime.now, ...simOptions });
    sims.push(sim);
    const { port } = await sim.start();
    const pdu = new ApcSnmpPdu(
      { host: '127.0.0.1', port, community: 'private', readCommunity: 'public', timeoutMs: 100, retries: 1, outletCount: 8, ...pduOptions },
      { runtime },
    );
    return { sim, pdu };
  }

  afterEach(async () => {
    await Promise.all(sims.splice(0).map((sim) => sim.stop()));
  });

  it.each(['spdu', 'rpdu', 'rpdu2'] as const)('%s: reads on and off from the dialect\'s state object', async (dialect: ApcDialectName) => {
    const { sim, pdu } = await setup({}, { dialect, version: '2c' });
    sim.setOutletState(2, 'off');
    await expect(pdu.outletState(1)).resolves.toBe('on');
    await expect(pdu.outletState(2)).resolves.toBe('off');
    const asked = sim.requests.map((r) => r.varbinds[0].oid);
    expect(asked).toEqual([`${APC_DIALECTS[dialect].stateColumn}.1`, `${APC_DIALECTS[dialect].stateColumn}.2`]);
    expect(sim.requests.every((r) => r.community === 'public' && r.version === '2c')).toBe(true);
  });

  it.each(['spdu', 'rpdu', 'rpdu2'] as const)('%s: setOutlet sends the dialect\'s command with the write community and reads it back', async (dialect) => {
    const { sim, pdu } = await setup({}, { dialect });
    await pdu.setOutlet(4, 'off');
    await pdu.setOutlet(4, 'on');
    expect(sim.transitionsOf(4)).toEqual(['off', 'on']);
    expect(sim.sets().map((r) => [r.community, r.varbinds[0].oid, r.varbinds[0].value])).toEqual([
      ['private', `${APC_DIALECTS[dialect].controlColumn}.4`, 2],
      ['private', `${APC_DIALECTS[dialect].controlColumn}.4`, 1],
    ]);
    // every SET is followed by a GET that shows the new state
    expect(sim.requests.map((r) => r.pdu)).toEqual(['set', 'get', 'set', 'get']);
  });

  it('power-cycle: off, then on after offMs, each verified, on the simulator\'s timeline', async () => {
    const time = fakeTime();
    const { sim, pdu } = await setup({}, {}, time.runtime);
    const result = await pdu.powerCycle(3, { offMs: 15_000 });

    expect(sim.timeline.filter((t) => t.outlet === 3).map((t) => [t.from, t.to, t.cause])).toEqual([
      ['on', 'off', 'set'],
      ['off', 'on', 'set'],
    ]);
    const [off, on] = sim.timeline;
    expect(on.at - off.at).toBe(15_000);
    expect(time.sleeps).toEqual([15_000]);
    expect(sim.sets().map((r) => r.varbinds[0].value)).toEqual([2, 1]);
    expect(result).toMatchObject({ outlet: 3, initialState: 'on', offMs: 15_000, durationMs: 15_000 });
    expect(result.steps.map((s) => [s.action, s.state])).toEqual([['read', 'on'], ['off', 'off'], ['wait', undefined], ['on', 'on']]);
    // other outlets untouched
    expect(sim.timeline.every((t) => t.outlet === 3)).toBe(true);
  });

  it('power-cycle of an outlet that was off turns it on and says it was off', async () => {
    const { sim, pdu } = await setup({ initialState: 'off' });
    const result = await pdu.powerCycle(1, { offMs: 5_000 });
    expect(result.initialState).toBe('off');
    expect(sim.transitionsOf(1)).toEqual(['on']);
  });

  it('power-cycle rides out a lost request and a lost reply (on/off SETs are retried safely)', async () => {
    const { sim, pdu } = await setup({}, { retries: 2 });
    // The first read is lost on the way; its retry is answered but the answer is lost; the third try gets through.
    sim.dropRequests(1);
    sim.dropReplies(1);
    await pdu.powerCycle(6, { offMs: 1_000 });
    expect(sim.transitionsOf(6)).toEqual(['off', 'on']);
    expect(sim.requests.slice(0, 3).map((r) => r.outcome)).toEqual(['dropped: request lost (fault)', 'dropped: reply lost (fault)', 'answered']);
  });

  it('waits for a PDU that applies commands late, reading until the state shows', async () => {
    const { sim, pdu } = await setup({ applyDelayMs: 80 }, { verifyIntervalMs: 20, verifyTimeoutMs: 2_000 }, systemPduRuntime);
    await pdu.setOutlet(2, 'off');
    expect(sim.outletState(2)).toBe('off');
    const reads = sim.requests.filter((r) => r.pdu === 'get');
    expect(reads.length).toBeGreaterThan(1);
  });

  it('verify_failed when the outlet never reads back in the commanded state', async () => {
    const { pdu } = await setup({ applyDelayMs: 10_000 }, { verifyIntervalMs: 20, verifyTimeoutMs: 100 }, systemPduRuntime);
    const err = await caught(pdu.setOutlet(7, 'off'));
    expect(err.kind).toBe('verify_failed');
    expect(err.context).toMatchObject({ outlet: 7, host: '127.0.0.1' });
    expect(err.message).toMatch(/accepted "off" but the outlet still reads on after 100 ms/);
  });

  it('a failure after "off" says the outlet is left off', async () => {
    const ref: { sim?: ApcPduSimulator } = {};
    // While the outlet is off, the agent starts refusing SETs.
    const time = fakeTime(() => ref.sim?.failWith({ errorStatus: 5, pdu: 'set' }));
    const { sim, pdu } = await setup({}, {}, time.runtime);
    ref.sim = sim;
    const err = await caught(pdu.powerCycle(5, { offMs: 2_000 }));
    expect(err.kind).toBe('snmp_error');
    expect(err.context).toMatchObject({ outlet: 5, errorStatus: 'genErr', outletLeft: 'off' });
    expect(err.message).toMatch(/the outlet is left OFF/);
    expect(sim.outletState(5)).toBe('off');
  });

  it('a refused "off" leaves the outlet on, and the error says so', async () => {
    const { sim, pdu } = await setup({}, { community: 'public', version: '2c' });
    const err = await caught(pdu.powerCycle(4, { offMs: 2_000 }));
    expect(err.context).toMatchObject({ errorStatus: 'noAccess', outletLeft: 'on' });
    expect(err.message).toMatch(/the outlet is left on$/);
    expect(sim.timeline).toEqual([]);
  });

  it('an agent that hangs while the outlet is off: bounded by the retries, state unknown', async () => {
    const ref: { sim?: ApcPduSimulator } = {};
    const time = fakeTime(() => ref.sim?.silence());
    const { sim, pdu } = await setup({}, { timeoutMs: 50, retries: 1 }, time.runtime);
    ref.sim = sim;
    const started = performance.now();
    const err = await caught(pdu.powerCycle(2, { offMs: 1_000 }));
    expect(err.kind).toBe('timeout');
    expect(err.context).toMatchObject({ outlet: 2, outletLeft: 'unknown', attempts: 2 });
    expect(performance.now() - started).toBeLessThan(pdu.maxPowerCycleMs(1_000));
  });

  it('an abort during the off time stops the cycle and says the outlet is left off', async () => {
    const controller = new AbortController();
    const time = fakeTime(() => controller.abort(new Error('command deadline')));
    const { sim, pdu } = await setup({}, {}, time.runtime);
    const err = await caught(pdu.powerCycle(1, { offMs: 3_000, signal: controller.signal }));
    expect(err.kind).toBe('aborted');
    expect(err.context.outletLeft).toBe('off');
    expect(sim.transitionsOf(1)).toEqual(['off']);
  });

  it('a wrong community times out with an error naming the host and the outlet, not the community', async () => {
    const { pdu } = await setup({}, { community: 'wrong-rw', readCommunity: 'wrong-ro' });
    const err = await caught(pdu.outletState(2));
    expect(err.kind).toBe('timeout');
    expect(err.context).toMatchObject({ host: '127.0.0.1', outlet: 2, attempts: 2 });
    expect(err.message).toMatch(/^127\.0\.0\.1:\d+ outlet 2 outlet state/);
    expect(err.message).not.toMatch(/wrong-r[wo]/);
  });

  it('v2c: a read-only community for SET is refused with noAccess and the outlet stays as it was', async () => {
    const { sim, pdu } = await setup({}, { community: 'public', version: '2c' });
    const err = await caught(pdu.setOutlet(1, 'off'));
    expect(err.kind).toBe('snmp_error');
    expect(err.context).toMatchObject({ outlet: 1, errorStatus: 'noAccess', oid: `${APC_DIALECTS.spdu.controlColumn}.1` });
    expect(sim.outletState(1)).toBe('on');
  });

  it('v1: a read-only community for SET gets noSuchName, and the error points at the community first', async () => {
    const { sim, pdu } = await setup({}, { community: 'public', version: '1' });
    const err = await caught(pdu.setOutlet(1, 'off'));
    expect(err.kind).toBe('no_such_object');
    expect(err.context).toMatchObject({ outlet: 1, errorStatus: 'noSuchName' });
    expect(err.message).toMatch(/check that "community" is the read-write community/);
    expect(sim.outletState(1)).toBe('on');
  });

  it('outletUnknown (4) is an unexpected_reply, never taken for on or off, and a power-cycle does not start', async () => {
    const { sim, pdu } = await setup();
    sim.reportUnknown(3);
    const err = await caught(pdu.outletState(3));
    expect(err.kind).toBe('unexpected_reply');
    expect(err.message).toMatch(/sPDUOutletCtl reads outletUnknown\(4\), neither on nor off/);
    await expect(pdu.powerCycle(3, { offMs: 1_000 })).rejects.toMatchObject({ kind: 'unexpected_reply' });
    expect(sim.sets()).toHaveLength(0);
  });

  it('an outlet the PDU does not have is no_such_object, naming the outlet', async () => {
    const { pdu } = await setup({ outlets: 8 }, { outletCount: 24 });
    const err = await caught(pdu.outletState(9));
    expect(err.kind).toBe('no_such_object');
    expect(err.message).toMatch(/outlet 9 does not exist on this PDU/);
  });

  it('a PDU without the configured dialect is no_such_object too (rpdu2 asked, spdu answered)', async () => {
    const { pdu } = await setup({ dialects: ['spdu'] }, { dialect: 'rpdu2', version: '2c' });
    const err = await caught(pdu.outletState(1));
    expect(err.kind).toBe('no_such_object');
    expect(err.message).toMatch(/does not implement rpdu2 \(rPDU2OutletSwitchedControlCommand\)/);
  });

  it.each([
    [0, /outlet must be an integer from 1 to 8, got 0/],
    [9, /from 1 to 8, got 9/],
    [1.5, /got 1.5/],
    [Number.NaN, /got NaN/],
  ])('refuses outlet %p before sending anything', async (outlet, message) => {
    const { sim, pdu } = await setup();
    const err = await caught(pdu.outletState(outlet));
    expect(err.kind).toBe('bad_input');
    expect(err.message).toMatch(message);
    await expect(pdu.powerCycle(outlet, { offMs: 5_000 })).rejects.toThrow(message);
    expect(sim.requests).toHaveLength(0);
  });

  it('refuses an off time below 1 s or above 10 min, and a state other than on/off', async () => {
    const { sim, pdu } = await setup();
    await expect(pdu.powerCycle(1, { offMs: 10 })).rejects.toThrow(/offMs must be an integer from 1000 to 600000, got 10/);
    await expect(pdu.powerCycle(1, { offMs: 3_600_000 })).rejects.toThrow(/offMs/);
    await expect(pdu.setOutlet(1, 'reboot' as never)).rejects.toThrow(/state must be "on" or "off"/);
    expect(sim.requests).toHaveLength(0);
  });

  it('one command per outlet at a time: a second is refused as busy, other outlets go on', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const time = fakeTime(() => gate);
    const { sim, pdu } = await setup({}, {}, time.runtime);
    const cycle = pdu.powerCycle(2, { offMs: 5_000 });
    await waitFor('outlet 2 off', () => (sim.outletState(2) === 'off' ? true : undefined), 5_000, 5);
    const err = await caught(pdu.setOutlet(2, 'on'));
    expect(err.kind).toBe('busy');
    await pdu.setOutlet(3, 'off');
    release();
    await cycle;
    expect(sim.transitionsOf(2)).toEqual(['off', 'on']);
    expect(sim.transitionsOf(3)).toEqual(['off']);
  });

  it.each(['spdu', 'rpdu', 'rpdu2'] as const)('%s: outlets() lists every outlet with its state and name', async (dialect) => {
    const { sim, pdu } = await setup({ outlets: 3, dialects: [dialect], outletNames: ['A1 antminer s19', 'A2 antminer s19'] }, { dialect, outletCount: 3 });
    sim.setOutletState(2, 'off');
    sim.reportUnknown(3);
    await expect(pdu.outlets()).resolves.toEqual([
      { outlet: 1, state: 'on', name: 'A1 antminer s19' },
      { outlet: 2, state: 'off', name: 'A2 antminer s19' },
      { outlet: 3, state: 'unknown', name: 'Outlet 3' },
    ]);
  });

  it('identify reads sysDescr and sysObjectID and suggests the dialect of the family', async () => {
    const { pdu } = await setup();
    await expect(pdu.identify()).resolves.toMatchObject({
      sysObjectId: '1.3.6.1.4.1.318.1.3.4.5',
      family: 'Switched Rack PDU 2G (rPDU2)',
      suggestedDialect: 'rpdu2',
      sysDescr: expect.stringContaining('APC'),
    });
  });

  it('twenty reads at once on one client each get their own reply', async () => {
    const { sim, pdu } = await setup();
    for (const outlet of [2, 4, 6, 8]) sim.setOutletState(outlet, 'off');
    const outlets = Array.from({ length: 20 }, (_, i) => (i % 8) + 1);
    const states = await Promise.all(outlets.map((outlet) => pdu.outletState(outlet)));
    expect(states).toEqual(outlets.map((outlet) => (outlet % 2 === 0 ? 'off' : 'on')));
    expect(new Set(sim.requests.map((r) => r.requestId)).size).toBe(20);
  });

  it('refuses bad constructor options naming the key', () => {
    expect(() => new ApcSnmpPdu({ host: '10.0.0.5', community: '' })).toThrow(/apc-snmp\.community: must be a non-empty string/);
    expect(() => new ApcSnmpPdu({ host: '10.0.0.5:161', community: 'x' })).toThrow(/put the port in apc-snmp\.port/);
    expect(() => new ApcSnmpPdu({ host: '10.0.0.5', community: 'x', outletCount: 193 })).toThrow(/outletCount: must be an integer from 1 to 192/);
  });
});
