import { ApcPduSimulator } from '@rigwarden/simulators';
import { ApcSnmpPdu } from './apc-snmp.pdu';
import { PduError } from './pdu-error';
import { createPduOutlet, PduDriverRegistry, pduDriverRegistry, PduOutlet } from './pdu-registry';
import type { PduRuntime, PowerDistributionUnit } from './power-distribution-unit';

function configErrorOf(run: () => unknown): PduError {
  try {
    run();
  } catch (err) {
    if (err instanceof PduError) return err;
    throw err;
  }
  throw new Error('expected a PduError');
}

const valid = { driver: 'apc-snmp', host: '10.20.0.5', community: 's3cret-rw', outlet: 3 };

describe('pdu registry and config', () => {
  it('apc-snmp registers itself when the lib loads', () => {
    expect(pduDriverRegistry.names()).toContain('apc-snmp');
    expect(pduDriverRegistry.get('apc-snmp')).toMatchObject({ defaultPort: 161 });
  });

  it('builds an outlet from a minimal config with the documented defaults', () => {
    const outlet = createPduOutlet(valid, 'miners[0].pdu');
    expect(outlet).toBeInstanceOf(PduOutlet);
    expect(outlet.outlet).toBe(3);
    expect(outlet.defaultOffMs).toBe(10_000);
    expect(outlet.describe()).toBe('apc-snmp 10.20.0.5:161 outlet 3');
    const pdu = outlet.pdu as ApcSnmpPdu;
    expect(pdu).toBeInstanceOf(ApcSnmpPdu);
    expect(pdu.dialect.name).toBe('spdu');
    expect(pdu.outletCount).toBe(48);
    expect(pdu.requestBudgetMs).toBe(3_000);
    expect(pdu.settings()).toEqual({
      host: '10.20.0.5', port: 161, version: '1', dialect: 'spdu', outletCount: 48, timeoutMs: 1000, retries: 2,
      verifyTimeoutMs: 10_000, verifyIntervalMs: 500, separateReadCommunity: false,
    });
    // read 3 s + 2 × (set 3 s + verify 10 s + last read 3 s) + off 10 s
    expect(outlet.maxPowerCycleMs()).toBe(3_000 + 2 * 16_000 + 10_000);
  });

  it.each<[number | string, string]>([
    [1, '1'],
    ['1', '1'],
    ['v1', '1'],
    ['2c', '2c'],
    ['v2c', '2c'],
  ])('accepts SNMP version %p as v%s', (version, expected) => {
    const outlet = createPduOutlet({ ...valid, version });
    expect((outlet.pdu as ApcSnmpPdu).settings().version).toBe(expected);
  });

  it.each([
    // [config, field, message]
    [null, 'pdu', /must be a mapping/],
    [[], 'pdu', /must be a mapping/],
    [{ ...valid, driver: undefined }, 'pdu.driver', /is required: one of "apc-snmp"/],
    [{ ...valid, driver: 'raritan-snmp' }, 'pdu.driver', /unknown PDU driver "raritan-snmp"; known: apc-snmp/],
    [{ ...valid, comunity: 'x' }, 'pdu.comunity', /unknown key for driver "apc-snmp"; allowed: driver, outlet, offMs, host, port, community/],
    [{ ...valid, outlet: undefined }, 'pdu.outlet', /is required: the outlet number/],
    [{ ...valid, outlet: 0 }, 'pdu.outlet', /must be an integer from 1 to 48, got 0/],
    [{ ...valid, outlet: '3' }, 'pdu.outlet', /must be an integer from 1 to 48, got "3"/],
    [{ ...valid, outlet: 9, outletCount: 8 }, 'pdu.outlet', /from 1 to 8, got 9/],
    [{ ...valid, host: '' }, 'pdu.host', /non-empty string, got an empty one/],
    [{ ...valid, host: '10.20.0.5:161' }, 'pdu.host', /put the port in pdu\.port/],
    [{ ...valid, host: 'snmp://10.20.0.5' }, 'pdu.host', /host name or IP address/],
    [{ ...valid, port: 0 }, 'pdu.port', /from 1 to 65535/],
    [{ ...valid, community: undefined }, 'pdu.community', /is required/],
    [{ ...valid, community: '' }, 'pdu.community', /non-empty string/],
    [{ ...valid, community: ' private' }, 'pdu.community', /leading or trailing spaces/],
    [{ ...valid, readCommunity: '' }, 'pdu.readCommunity', /non-empty string/],
    [{ ...valid, version: 3 }, 'pdu.version', /"1" or "2c" \(SNMPv3 is not supported\), got 3/],
    [{ ...valid, version: '2' }, 'pdu.version', /"1" or "2c"/],
    [{ ...valid, dialect: 'rpdu3' }, 'pdu.dialect', /one of "spdu", "rpdu", "rpdu2", got "rpdu3"/],
    [{ ...valid, offMs: 500 }, 'pdu.offMs', /from 1000 to 600000, got 500/],
    [{ ...valid, timeoutMs: 0 }, 'pdu.timeoutMs', /from 10 to 30000/],
    [{ ...valid, retries: 11 }, 'pdu.retries', /from 0 to 10/],
  ])('refuses %j at %s', (config, field, message) => {
    const err = configErrorOf(() => createPduOutlet(config));
    expect(err.kind).toBe('bad_config');
    expect(err.context.field).toBe(field);
    expect(err.message).toMatch(message);
    expect(err.message.startsWith(`config ${field}:`)).toBe(true);
  });

  it('never echoes a community in a config error', () => {
    const err = configErrorOf(() => createPduOutlet({ ...valid, community: 12345678 }));
    expect(err.message).toMatch(/pdu\.community: must be a non-empty string \(quote it in YAML\), got a number/);
    expect(err.message).not.toContain('12345678');
    const spaced = configErrorOf(() => createPduOutlet({ ...valid, community: 'topsecret ' }));
    expect(spaced.message).not.toContain('topsecret');
  });

  it('names the key under the path the caller gives', () => {
    const err = configErrorOf(() => createPduOutlet({ ...valid, community: '' }, 'miners[2].pdu'));
    expect(err.context.field).toBe('miners[2].pdu.community');
  });

  it('refuses a driver registered twice', () => {
    const registry = new PduDriverRegistry();
    const registration = { name: 'x', description: 'x', defaultPort: 1, keys: [], create: () => ({}) as PowerDistributionUnit };
    registry.register(registration);
    expect(() => registry.register(registration)).toThrow(/registered twice/);
  });

  it('from config to a power-cycle on the simulator, with the configured off time', async () => {
    const sim = new ApcPduSimulator({ outlets: 8, readCommunity: 'ro', writeCommunity: 'rw', lifetimeMs: 10_000 });
    const { port } = await sim.start();
    try {
      const sleeps: number[] = [];
      let t = 0;
      const runtime: PduRuntime = {
        now: () => t,
        sleep: async (ms) => {
          t += ms;
          sleeps.push(ms);
        },
      };
      const outlet = createPduOutlet(
        { driver: 'apc-snmp', host: '127.0.0.1', port, community: 'rw', readCommunity: 'ro', version: '2c', outlet: 8, outletCount: 8, offMs: 12_000, timeoutMs: 200 },
        'pdu',
        { runtime },
      );
      const result = await outlet.powerCycle();
      expect(result.offMs).toBe(12_000);
      expect(sleeps).toEqual([12_000]);
      expect(sim.transitionsOf(8)).toEqual(['off', 'on']);
      await expect(outlet.state()).resolves.toBe('on');
      await outlet.set('off');
      expect(sim.outletState(8)).toBe('off');
    } finally {
      await sim.stop();
    }
  });
});
