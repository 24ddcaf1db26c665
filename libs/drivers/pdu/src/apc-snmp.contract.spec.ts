import { ApcPduSimulator } from '@rigwarden/simulators';
import type { ApcDialectName } from './apc-powernet.dialect';
import { ApcSnmpPdu } from './apc-snmp.pdu';
import type { SnmpVersion } from './snmp-message.codec';
import { powerDistributionUnitContract } from './testing/power-distribution-unit.contract';

const combinations: [ApcDialectName, SnmpVersion][] = [
  ['spdu', '1'], ['spdu', '2c'], ['rpdu', '1'], ['rpdu', '2c'], ['rpdu2', '1'], ['rpdu2', '2c'],
];

for (const [dialect, version] of combinations) {
  powerDistributionUnitContract(`apc-snmp ${dialect} v${version}`, async (runtime) => {
    // The simulator implements only this dialect, so a wrong OID would fail instead of finding another table.
    const sim = new ApcPduSimulator({ outlets: 4, dialects: [dialect], readCommunity: 'ro', writeCommunity: 'rw', lifetimeMs: 15_000 });
    const { port } = await sim.start();
    const pdu = new ApcSnmpPdu(
      { host: '127.0.0.1', port, community: 'rw', readCommunity: 'ro', version, dialect, outletCount: 4, timeoutMs: 200, retries: 1 },
      { runtime },
    );
    return {
      pdu,
      actual: (outlet) => sim.outletState(outlet),
      transitions: (outlet) => sim.transitionsOf(outlet),
      close: () => sim.stop(),
    };
  });
}
