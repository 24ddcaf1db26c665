import './ber.codec';
export { type BerElement } from './ber.codec';
import './snmp-message.codec';
export {
  type SnmpErrorStatusName,
  type SnmpMessage,
  type SnmpPdu,
  type SnmpPduType,
  type SnmpValue,
  type SnmpVarbind,
  type SnmpVersion,
} from './snmp-message.codec';
export { PduError, type PduErrorContext, type PduErrorKind } from './pdu-error';
import './snmp.client';
export {
  type SnmpClientOptions,
  type SnmpExchangeStats,
  type SnmpRequestOptions,
  type SnmpTarget,
} from './snmp.client';
import './power-distribution-unit';
export {
  type OutletState,
  type PduCallOptions,
  type PduRuntime,
  type PowerCycleOptions,
  type PowerCycleResult,
  type PowerCycleStep,
  type PowerDistributionUnit,
} from './power-distribution-unit';
import './pdu-config';
export { type ConfigRecord } from './pdu-config';
export {
  createPduOutlet,
  type PduDependencies,
  type PduDriverRegistration,
  PduDriverRegistry,
  PduOutlet,
} from './pdu-registry';
import './apc-powernet.dialect';
export { type ApcDialect, type ApcDialectName } from './apc-powernet.dialect';
export {
  type ApcIdentity,
  type ApcOutletRow,
  ApcSnmpPdu,
  type ApcSnmpPduOptions,
  type ResolvedApcSnmpOptions,
} from './apc-snmp.pdu';
