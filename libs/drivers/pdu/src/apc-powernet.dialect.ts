import type { OutletState } from './power-distribution-unit';

/**
 * The three generations of outlet control in APC's PowerNet-MIB. All take the
 * same commands (1 on, 2 off, 3 reboot); they differ in OIDs and, for rPDU2, in
 * how the state reads: rPDU2OutletSwitchedStatusState is off(1), on(2), the
 * opposite numbering of the other two.
 *
 * - spdu: MasterSwitch and AP79xx, sPDUOutletCtl (.1.3.6.1.4.1.318.1.1.4.4.2.1.3.N):
 *   write outletOn(1), outletOff(2), outletReboot(3); read outletOn(1), outletOff(2), outletUnknown(4).
 * - rpdu: Switched Rack PDU (AP79xx firmware 3.x), rPDUOutletControlOutletCommand
 *   (.1.3.6.1.4.1.318.1.1.12.3.3.1.1.4.N): immediateOn(1), immediateOff(2), immediateReboot(3);
 *   state from rPDUOutletStatusOutletState (.1.3.6.1.4.1.318.1.1.12.3.5.1.1.4.N): outletStatusOn(1), outletStatusOff(2).
 * - rpdu2: AP86xx/AP88xx/AP89xx, rPDU2OutletSwitchedControlCommand (.1.3.6.1.4.1.318.1.1.26.9.2.4.1.5.N):
 *   immediateOn(1), immediateOff(2), immediateReboot(3); state from rPDU2OutletSwitchedStatusState
 *   (.1.3.6.1.4.1.318.1.1.26.9.2.3.1.5.N): off(1), on(2).
 */
export type ApcDialectName = 'spdu' | 'rpdu' | 'rpdu2';

export interface ApcDialect {
  name: ApcDialectName;
  /** The MIB objects, for messages and docs. */
  controlObject: string;
  stateObject: string;
  /** Column OIDs without the outlet index. */
  controlColumn: string;
  stateColumn: string;
  /** The outlet's name as set on the PDU (read-only here). */
  nameObject: string;
  nameColumn: string;
  commands: { on: number; off: number; reboot: number };
  /** Read value to state; other values are errors, named by `stateNames`. */
  states: ReadonlyMap<number, OutletState>;
  stateNames: Readonly<Record<number, string>>;
}

const APC = '1.3.6.1.4.1.318';

export const APC_DIALECTS: Readonly<Record<ApcDialectName, ApcDialect>> = Object.freeze({
  spdu: {
    name: 'spdu',
    controlObject: 'sPDUOutletCtl',
    stateObject: 'sPDUOutletCtl',
    controlColumn: `${APC}.1.1.4.4.2.1.3`,
    stateColumn: `${APC}.1.1.4.4.2.1.3`,
    nameObject: 'sPDUOutletCtlName',
    nameColumn: `${APC}.1.1.4.4.2.1.4`,
    commands: { on: 1, off: 2, reboot: 3 },
    states: new Map<number, OutletState>([[1, 'on'], [2, 'off']]),
    stateNames: { 1: 'outletOn', 2: 'outletOff', 3: 'outletReboot', 4: 'outletUnknown', 5: 'outletOnWithDelay', 6: 'outletOffWithDelay', 7: 'outletRebootWithDelay' },
  },
  rpdu: {
    name: 'rpdu',
    controlObject: 'rPDUOutletControlOutletCommand',
    stateObject: 'rPDUOutletStatusOutletState',
    controlColumn: `${APC}.1.1.12.3.3.1.1.4`,
    stateColumn: `${APC}.1.1.12.3.5.1.1.4`,
    nameObject: 'rPDUOutletStatusOutletName',
    nameColumn: `${APC}.1.1.12.3.5.1.1.2`,
    commands: { on: 1, off: 2, reboot: 3 },
    states: new Map<number, OutletState>([[1, 'on'], [2, 'off']]),
    stateNames: { 1: 'outletStatusOn', 2: 'outletStatusOff' },
  },
  rpdu2: {
    name: 'rpdu2',
    controlObject: 'rPDU2OutletSwitchedControlCommand',
    stateObject: 'rPDU2OutletSwitchedStatusState',
    controlColumn: `${APC}.1.1.26.9.2.4.1.5`,
    stateColumn: `${APC}.1.1.26.9.2.3.1.5`,
    nameObject: 'rPDU2OutletSwitchedStatusName',
    nameColumn: `${APC}.1.1.26.9.2.3.1.3`,
    commands: { on: 1, off: 2, reboot: 3 },
    states: new Map<number, OutletState>([[1, 'off'], [2, 'on']]),
    stateNames: { 1: 'off', 2: 'on' },
  },
});

export const APC_DIALECT_NAMES = Object.keys(APC_DIALECTS) as ApcDialectName[];

export function isApcDialectName(value: unknown): value is ApcDialectName {
  return typeof value === 'string' && Object.hasOwn(APC_DIALECTS, value);
}

/** sysObjectID.0 values of APC PDUs (as NUT's apc-pdu-mib.c lists them). */
export const APC_SYS_OBJECT_IDS: Readonly<Record<string, { family: string; dialect: ApcDialectName }>> = Object.freeze({
  '1.3.6.1.4.1.318.1.3.4.4': { family: 'Switched Rack PDU (rPDU)', dialect: 'rpdu' },
  '1.3.6.1.4.1.318.1.3.4.5': { family: 'Switched Rack PDU 2G (rPDU2)', dialect: 'rpdu2' },
  '1.3.6.1.4.1.318.1.3.4.6': { family: 'Metered-by-outlet with switching (rPDU2)', dialect: 'rpdu2' },
});
