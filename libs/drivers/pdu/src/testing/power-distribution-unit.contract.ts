import { PduError } from '../pdu-error';
import type { OutletState, PduRuntime, PowerDistributionUnit } from '../power-distribution-unit';

/** A PDU under test, with a way to look at its outlets other than through the PDU itself. */
export interface PduUnderTest {
  pdu: PowerDistributionUnit;
  /** The outlet's real state (the simulator's, the fake's). */
  actual(outlet: number): OutletState;
  /** Outlet states in the order they changed. */
  transitions(outlet: number): OutletState[];
  close(): Promise<void>;
}

/** A clock that moves only when the PDU sleeps, so off times cost nothing. */
export function steppingRuntime(): PduRuntime & { sleeps: number[] } {
  let t = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      sleeps.push(ms);
      t += ms;
    },
  };
}

/**
 * What every PowerDistributionUnit must do, whatever the driver or dialect: run
 * against each real implementation (and any fake) alike. `open` gets a PDU with
 * outlets 1..4 all on, and the runtime it must use.
 */
export function powerDistributionUnitContract(name: string, open: (runtime: PduRuntime) => Promise<PduUnderTest>): void {
  describe(`${name} (PowerDistributionUnit contract)`, () => {
    let subject: PduUnderTest;
    let runtime: ReturnType<typeof steppingRuntime>;

    beforeEach(async () => {
      runtime = steppingRuntime();
      subject = await open(runtime);
    });

    afterEach(async () => {
      await subject.close();
    });

    it(`${name}: reads each outlet's state`, async () => {
      await expect(subject.pdu.outletState(1)).resolves.toBe('on');
      await subject.pdu.setOutlet(2, 'off');
      await expect(subject.pdu.outletState(2)).resolves.toBe('off');
      await expect(subject.pdu.outletState(1)).resolves.toBe('on');
    });

    it(`${name}: setOutlet resolves once the outlet is in that state, and is idempotent`, async () => {
      await subject.pdu.setOutlet(3, 'off');
      expect(subject.actual(3)).toBe('off');
      await subject.pdu.setOutlet(3, 'off');
      await subject.pdu.setOutlet(3, 'on');
      expect(subject.transitions(3)).toEqual(['off', 'on']);
    });

    it(`${name}: powerCycle turns the outlet off, waits offMs, turns it on`, async () => {
      const result = await subject.pdu.powerCycle(4, { offMs: 7_000 });
      expect(subject.transitions(4)).toEqual(['off', 'on']);
      expect(runtime.sleeps).toContain(7_000);
      expect(result).toMatchObject({ outlet: 4, initialState: 'on', offMs: 7_000 });
      expect(result.durationMs).toBeGreaterThanOrEqual(7_000);
      expect(result.durationMs).toBeLessThanOrEqual(subject.pdu.maxPowerCycleMs(7_000));
      expect(result.steps.map((s) => s.action)).toEqual(['read', 'off', 'wait', 'on']);
    });

    it(`${name}: powerCycle of an outlet that is off leaves it on`, async () => {
      await subject.pdu.setOutlet(1, 'off');
      const result = await subject.pdu.powerCycle(1, { offMs: 1_000 });
      expect(result.initialState).toBe('off');
      expect(subject.actual(1)).toBe('on');
    });

    it(`${name}: refuses outlets outside 1..outletCount as bad_input, touching nothing`, async () => {
      for (const outlet of [0, subject.pdu.outletCount + 1, 2.5]) {
        await expect(subject.pdu.outletState(outlet)).rejects.toMatchObject({ kind: 'bad_input' });
        await expect(subject.pdu.powerCycle(outlet, { offMs: 1_000 })).rejects.toBeInstanceOf(PduError);
      }
      expect([1, 2, 3, 4].flatMap((o) => subject.transitions(o))).toEqual([]);
    });

    it(`${name}: an aborted power-cycle says the outlet is left off`, async () => {
      const controller = new AbortController();
      const sleep = runtime.sleep;
      runtime.sleep = async (ms, signal) => {
        controller.abort(new Error('deadline'));
        return sleep(ms, signal);
      };
      const err = await subject.pdu.powerCycle(2, { offMs: 1_000, signal: controller.signal }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PduError);
      expect((err as PduError).context.outletLeft).toBe('off');
      expect(subject.actual(2)).toBe('off');
    });
  });
}
