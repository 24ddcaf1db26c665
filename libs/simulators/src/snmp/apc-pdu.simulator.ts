import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { compareOids, parseMessage, TAG, writeMessage, type WireMessage, type WireValue, type WireVarbind } from './snmp-wire.codec';

export type SimOutletState = 'on' | 'off';
export type SimApcDialect = 'spdu' | 'rpdu' | 'rpdu2';

export interface ApcPduSimulatorOptions {
  /** 127.0.0.1 by default. */
  host?: string;
  /** 0 (any free port) by default. */
  port?: number;
  /** Number of switched outlets, 8 by default (AP7900). */
  outlets?: number;
  /** All outlets start in this state, or one state per outlet. 'on' by default. */
  initialState?: SimOutletState | readonly SimOutletState[];
  /** 'public' by default. GET and GETNEXT only. */
  readCommunity?: string;
  /** 'private' by default. GET, GETNEXT and SET. */
  writeCommunity?: string;
  /** SNMP versions answered; a request in another is dropped. Both by default. */
  versions?: ReadonlyArray<'1' | '2c'>;
  /** Outlet tables the agent implements; all three by default. */
  dialects?: readonly SimApcDialect[];
  /** How long an outlet stays off on a reboot command (sPDUOutletRebootDuration, 5 s on a real unit). */
  rebootDurationMs?: number;
  /** Commands take effect this long after the SET is answered, like a real PDU's relay (0 by default). */
  applyDelayMs?: number;
  /** Outlet names as set on the PDU; "Outlet N" by default. */
  outletNames?: readonly string[];
  /** Clock for the records (ms); the wall clock by default. */
  now?: () => number;
  /** Stops by itself after this long, so a forgotten simulator cannot outlive its test. 60 s by default. */
  lifetimeMs?: number;
}

export type SimPduType = 'get' | 'getNext' | 'set' | 'getBulk' | 'other';

/** One datagram received, and what became of it. */
export interface SnmpSimRequest {
  at: number;
  from: { address: string; port: number };
  /** '1', '2c', or the raw number of an unknown version. */
  version: '1' | '2c' | number;
  community: string;
  pdu: SimPduType;
  requestId: number;
  varbinds: { oid: string; value: number | string | null }[];
  outcome:
    | 'answered'
    | 'dropped: unparseable'
    | 'dropped: unsupported version'
    | 'dropped: unknown community'
    | 'dropped: request lost (fault)'
    | 'dropped: reply lost (fault)'
    | 'dropped: silenced';
  /** The error-status answered (0 = noError). */
  errorStatus?: number;
  errorIndex?: number;
}

/** One change of an outlet's state. */
export interface OutletTransition {
  at: number;
  outlet: number;
  from: SimOutletState;
  to: SimOutletState;
  cause: 'set' | 'reboot' | 'reboot done' | 'test';
}

export interface SimErrorFault {
  /** The error-status to answer (e.g. 5 genErr, 6 noAccess, 10 wrongValue). */
  errorStatus: number;
  /** 1-based; 1 by default. */
  errorIndex?: number;
  /** Only requests of this kind; any by default. */
  pdu?: SimPduType;
  /** How many requests get it; 1 by default. */
  count?: number;
}

const SYS_DESCR = '1.3.6.1.2.1.1.1.0';
const SYS_OBJECT_ID = '1.3.6.1.2.1.1.2.0';
const SYS_UPTIME = '1.3.6.1.2.1.1.3.0';
const SYS_NAME = '1.3.6.1.2.1.1.5.0';
const APC = '1.3.6.1.4.1.318';
const SPDU_TABLE_SIZE = `${APC}.1.1.4.4.1.0`;
const SPDU_PENDING = `${APC}.1.1.4.4.2.1.2`;
const SPDU_CTL = `${APC}.1.1.4.4.2.1.3`;
const SPDU_NAME = `${APC}.1.1.4.4.2.1.4`;
const RPDU_CONTROL = `${APC}.1.1.12.3.3.1.1.4`;
const RPDU_STATUS = `${APC}.1.1.12.3.5.1.1.4`;
const RPDU_NAME = `${APC}.1.1.12.3.5.1.1.2`;
const RPDU2_NAME = `${APC}.1.1.26.9.2.3.1.3`;
const RPDU2_STATUS = `${APC}.1.1.26.9.2.3.1.5`;
const RPDU2_CONTROL = `${APC}.1.1.26.9.2.4.1.5`;

/** Error-status codes (RFC 1157, RFC 3416). */
const E = { noError: 0, noSuchName: 2, badValue: 3, genErr: 5, noAccess: 6, wrongType: 7, wrongValue: 10, noCreation: 11, notWritable: 17 } as const;

interface MibObject {
  read(): WireValue;
  /** Present for writable objects: checks the value and returns how to apply it. */
  write?: (value: WireValue) => { error: number } | { apply: () => void };
}

const int = (value: number): WireValue => ({ kind: 'int', tag: TAG.INTEGER, value: BigInt(value) });
const str = (value: string): WireValue => ({ kind: 'bytes', tag: TAG.OCTET_STRING, value: Buffer.from(value, 'utf8') });

/**
 * An APC switched PDU's SNMP agent on loopback UDP: real BER, SNMP v1 and v2c,
 * GET, GETNEXT and SET on sPDUOutletCtl, rPDUOutletControlOutletCommand /
 * rPDUOutletStatusOutletState and rPDU2OutletSwitchedControlCommand /
 * rPDU2OutletSwitchedStatusState, plus sysDescr, sysObjectID, sysUpTime, sysName.
 *
 * Like a real agent it answers nothing to an unknown community or an
 * unparseable datagram; a SET with the read community is refused (v1
 * noSuchName, v2c noAccess, as net-snmp does). Faults: lost requests, lost
 * replies, delays, error-status answers, stale and garbage datagrams before the
 * reply. Every request is recorded, and every outlet change lands on a timeline.
 */
export class ApcPduSimulator {
  readonly requests: SnmpSimRequest[] = [];
  readonly timeline: OutletTransition[] = [];
  private readonly states: SimOutletState[];
  private readonly pendingTimers = new Set<NodeJS.Timeout>();
  private readonly unknownOutlets = new Set<number>();
  private readonly mib = new Map<string, MibObject>();
  private sortedOids: string[] = [];
  private socket: Socket | undefined;
  private boundPort = 0;
  private lifetimeTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private readonly startedAt: number;
  private faults = { dropRequests: 0, dropReplies: 0, delayMs: 0, silent: false, staleReplies: 0, garbage: 0, errors: [] as SimErrorFault[] };

  constructor(private readonly options: ApcPduSimulatorOptions = {}) {
    const count = options.outlets ?? 8;
    if (!Number.isInteger(count) || count < 1 || count > 48) throw new RangeError('outlets must be 1..48');
    const initial = options.initialState ?? 'on';
    this.states = Array.from({ length: count }, (_, i) => (typeof initial === 'string' ? initial : (initial[i] ?? 'on')));
    this.now = options.now ?? (() => Date.now());
    this.startedAt = this.now();
    this.buildMib();
  }

  get host(): string {
    return this.options.host ?? '127.0.0.1';
  }

  /** Whether its UDP socket is open (false once stopped, by stop() or at the end of its lifetime). */
  get listening(): boolean {
    return this.socket !== undefined;
  }

  get port(): number {
    return this.boundPort;
  }

  get outletCount(): number {
    return this.states.length;
  }

  async start(): Promise<{ host: string; port: number }> {
    if (this.socket) return { host: this.host, port: this.boundPort };
    const socket = createSocket('udp4');
    this.socket = socket;
    socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
    socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      // After a stop, come back on the same port, like an agent restarting on a PDU whose address is configured.
      socket.bind(this.boundPort || this.options.port || 0, this.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.boundPort = socket.address().port;
    this.lifetimeTimer = setTimeout(() => void this.stop(), this.options.lifetimeMs ?? 60_000);
    this.lifetimeTimer.unref();
    return { host: this.host, port: this.boundPort };
  }

  /** Closes the port; start() again brings the agent back on the same port with the outlets as they were. */
  async stop(): Promise<void> {
    clearTimeout(this.lifetimeTimer);
    for (const timer of this.pendingTimers) clearTimeout(timer);
    this.pendingTimers.clear();
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  // ---------------------------------------------------------------- state and records

  outletState(outlet: number): SimOutletState {
    this.checkOutlet(outlet);
    return this.states[outlet - 1];
  }

  /** Sets an outlet from the test, recorded on the timeline with cause 'test'. */
  setOutletState(outlet: number, state: SimOutletState): void {
    this.checkOutlet(outlet);
    this.transition(outlet, state, 'test');
  }

  /** The timeline of one outlet, as states: ['off', 'on'] after a power-cycle. */
  transitionsOf(outlet: number): SimOutletState[] {
    return this.timeline.filter((t) => t.outlet === outlet).map((t) => t.to);
  }

  /** Requests that were SETs, with their values, in order. */
  sets(): SnmpSimRequest[] {
    return this.requests.filter((r) => r.pdu === 'set');
  }

  clearRecords(): void {
    this.requests.length = 0;
    this.timeline.length = 0;
  }

  // ---------------------------------------------------------------- faults

  /** The next `count` requests are lost on the way: never processed, never answered. */
  dropRequests(count = 1): void {
    this.faults.dropRequests += count;
  }

  /** The next `count` requests are processed (a SET takes effect) but the reply is lost. */
  dropReplies(count = 1): void {
    this.faults.dropReplies += count;
  }

  /** Every reply leaves this long after its request (0 to stop). */
  delayReplies(ms: number): void {
    this.faults.delayMs = ms;
  }

  /** The next matching request(s) are answered with this error-status, without being processed. */
  failWith(fault: SimErrorFault): void {
    this.faults.errors.push({ count: 1, ...fault });
  }

  /** Before each of the next `count` replies, send a response with another request-id. */
  sendStaleReplies(count = 1): void {
    this.faults.staleReplies += count;
  }

  /** Before each of the next `count` replies, send a datagram that is not BER. */
  sendGarbage(count = 1): void {
    this.faults.garbage += count;
  }

  /** The outlet's relay state cannot be determined: reads answer outletUnknown (4) until `clear` is true. */
  reportUnknown(outlet: number, clear = false): void {
    this.checkOutlet(outlet);
    if (clear) this.unknownOutlets.delete(outlet);
    else this.unknownOutlets.add(outlet);
  }

  /** Hears everything, answers nothing (a hung agent). */
  silence(): void {
    this.faults.silent = true;
  }

  resume(): void {
    this.faults.silent = false;
  }

  // ---------------------------------------------------------------- agent

  private onDatagram(datagram: Buffer, rinfo: RemoteInfo): void {
    const from = { address: rinfo.address, port: rinfo.port };
    let message: WireMessage;
    try {
      message = parseMessage(datagram);
    } catch {
      this.record({ from, version: -1, community: '', pdu: 'other', requestId: 0, varbinds: [], outcome: 'dropped: unparseable' });
      return;
    }
    const version = message.version === 0 ? '1' : message.version === 1 ? '2c' : message.version;
    const community = message.community.toString('utf8');
    const entry: Omit<SnmpSimRequest, 'at'> = {
      from,
      version,
      community,
      pdu: pduName(message.pduTag),
      requestId: Number(message.requestId),
      varbinds: message.varbinds.map((vb) => ({ oid: vb.oid, value: plain(vb.value) })),
      outcome: 'answered',
    };
    const versions = this.options.versions ?? ['1', '2c'];
    if (typeof version === 'number' || !versions.includes(version)) return this.record({ ...entry, outcome: 'dropped: unsupported version' });
    const readCommunity = this.options.readCommunity ?? 'public';
    const writeCommunity = this.options.writeCommunity ?? 'private';
    if (community !== readCommunity && community !== writeCommunity) return this.record({ ...entry, outcome: 'dropped: unknown community' });
    if (this.faults.silent) return this.record({ ...entry, outcome: 'dropped: silenced' });
    if (this.faults.dropRequests > 0) {
      this.faults.dropRequests--;
      return this.record({ ...entry, outcome: 'dropped: request lost (fault)' });
    }

    const reply = this.answer(message, version, community === writeCommunity);
    const dropReply = this.faults.dropReplies > 0;
    if (dropReply) this.faults.dropReplies--;
    this.record({ ...entry, outcome: dropReply ? 'dropped: reply lost (fault)' : 'answered', errorStatus: Number(reply.errorStatus), errorIndex: Number(reply.errorIndex) });
    if (dropReply) return;

    const out: Buffer[] = [];
    if (this.faults.garbage > 0) {
      this.faults.garbage--;
      out.push(Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00]));
    }
    if (this.faults.staleReplies > 0) {
      this.faults.staleReplies--;
      out.push(writeMessage({ ...reply, requestId: reply.requestId + 1n, varbinds: reply.varbinds.map((vb) => ({ ...vb, value: int(4) })) }));
    }
    out.push(writeMessage(reply));
    const send = (): void => {
      for (const datagramOut of out) this.socket?.send(datagramOut, rinfo.port, rinfo.address);
    };
    if (this.faults.delayMs > 0) this.later(this.faults.delayMs, send);
    else send();
  }

  private answer(request: WireMessage, version: '1' | '2c', canWrite: boolean): WireMessage {
    const reply = (errorStatus: number, errorIndex: number, varbinds: WireVarbind[]): WireMessage => ({
      ...request,
      pduTag: TAG.RESPONSE,
      errorStatus: BigInt(errorStatus),
      errorIndex: BigInt(errorIndex),
      varbinds,
    });
    const kind = pduName(request.pduTag);
    const faultAt = this.faults.errors.findIndex((f) => !f.pdu || f.pdu === kind);
    if (faultAt >= 0) {
      const fault = this.faults.errors[faultAt];
      fault.count = (fault.count ?? 1) - 1;
      if (fault.count <= 0) this.faults.errors.splice(faultAt, 1);
      return reply(fault.errorStatus, fault.errorIndex ?? 1, request.varbinds);
    }
    const v1 = version === '1';
    switch (kind) {
      case 'get': {
        const out: WireVarbind[] = [];
        for (const [i, vb] of request.varbinds.entries()) {
          const object = this.mib.get(vb.oid);
          if (object) out.push({ oid: vb.oid, value: object.read() });
          else if (v1) return reply(E.noSuchName, i + 1, request.varbinds);
          else out.push({ oid: vb.oid, value: { kind: 'empty', tag: this.isInstanceOfKnownColumn(vb.oid) ? TAG.NO_SUCH_INSTANCE : TAG.NO_SUCH_OBJECT } });
        }
        return reply(E.noError, 0, out);
      }
      case 'getNext': {
        const out: WireVarbind[] = [];
        for (const [i, vb] of request.varbinds.entries()) {
          const next = this.sortedOids.find((oid) => compareOids(oid, vb.oid) > 0);
          if (next) out.push({ oid: next, value: (this.mib.get(next) as MibObject).read() });
          else if (v1) return reply(E.noSuchName, i + 1, request.varbinds);
          else out.push({ oid: vb.oid, value: { kind: 'empty', tag: TAG.END_OF_MIB_VIEW } });
        }
        return reply(E.noError, 0, out);
      }
      case 'set': {
        // RFC 1157 4.1.5 / RFC 3416 4.2.5: every binding is checked before any is applied.
        if (!canWrite) return reply(v1 ? E.noSuchName : E.noAccess, 1, request.varbinds);
        const actions: (() => void)[] = [];
        for (const [i, vb] of request.varbinds.entries()) {
          const object = this.mib.get(vb.oid);
          if (!object) return reply(v1 ? E.noSuchName : E.noCreation, i + 1, request.varbinds);
          if (!object.write) return reply(v1 ? E.noSuchName : E.notWritable, i + 1, request.varbinds);
          if (vb.value.kind !== 'int' || vb.value.tag !== TAG.INTEGER) return reply(v1 ? E.badValue : E.wrongType, i + 1, request.varbinds);
          const checked = object.write(vb.value);
          if ('error' in checked) return reply(v1 ? E.badValue : checked.error, i + 1, request.varbinds);
          actions.push(checked.apply);
        }
        const delay = this.options.applyDelayMs ?? 0;
        for (const apply of actions) {
          if (delay > 0) this.later(delay, apply);
          else apply();
        }
        return reply(E.noError, 0, request.varbinds);
      }
      default:
        return reply(E.genErr, 0, request.varbinds);
    }
  }

  private buildMib(): void {
    const dialects = new Set(this.options.dialects ?? ['spdu', 'rpdu', 'rpdu2']);
    const add = (oid: string, object: MibObject): void => void this.mib.set(oid, object);
    add(SYS_DESCR, { read: () => str('APC Web/SNMP Management Card (MB:v4.1.0 PF:v6.x AN1:apc_hw05_rpdu2g) simulated') });
    add(SYS_OBJECT_ID, { read: () => ({ kind: 'oid', value: `${APC}.1.3.4.5` }) });
    add(SYS_UPTIME, { read: () => ({ kind: 'int', tag: TAG.TIME_TICKS, value: BigInt(Math.floor((this.now() - this.startedAt) / 10)) }) });
    add(SYS_NAME, { read: () => str('rigwarden-sim-pdu') });
    const commandWriter = (outlet: number) => (value: WireValue) => {
      const command = value.kind === 'int' ? Number(value.value) : -1;
      if (command === 1) return { apply: () => this.transition(outlet, 'on', 'set') };
      if (command === 2) return { apply: () => this.transition(outlet, 'off', 'set') };
      if (command === 3) return { apply: () => this.reboot(outlet) };
      return { error: E.wrongValue };
    };
    const name = (outlet: number): string => this.options.outletNames?.[outlet - 1] ?? `Outlet ${outlet}`;
    const onOff = (outlet: number) => () => int(this.unknownOutlets.has(outlet) ? 4 : this.states[outlet - 1] === 'on' ? 1 : 2);
    if (dialects.has('spdu')) add(SPDU_TABLE_SIZE, { read: () => int(this.states.length) });
    for (let outlet = 1; outlet <= this.states.length; outlet++) {
      if (dialects.has('spdu')) {
        add(`${SPDU_PENDING}.${outlet}`, { read: () => int(2) }); // noCommandPending
        add(`${SPDU_CTL}.${outlet}`, { read: onOff(outlet), write: commandWriter(outlet) });
        add(`${SPDU_NAME}.${outlet}`, { read: () => str(name(outlet)) });
      }
      if (dialects.has('rpdu')) {
        add(`${RPDU_CONTROL}.${outlet}`, { read: onOff(outlet), write: commandWriter(outlet) });
        add(`${RPDU_STATUS}.${outlet}`, { read: onOff(outlet) });
        add(`${RPDU_NAME}.${outlet}`, { read: () => str(name(outlet)) });
      }
      if (dialects.has('rpdu2')) {
        add(`${RPDU2_CONTROL}.${outlet}`, { read: onOff(outlet), write: commandWriter(outlet) });
        // rPDU2OutletSwitchedStatusState: off(1), on(2), the other way round from the rest.
        add(`${RPDU2_NAME}.${outlet}`, { read: () => str(name(outlet)) });
        add(`${RPDU2_STATUS}.${outlet}`, { read: () => int(this.unknownOutlets.has(outlet) ? 4 : this.states[outlet - 1] === 'on' ? 2 : 1) });
      }
    }
    this.sortedOids = [...this.mib.keys()].sort(compareOids);
  }

  private isInstanceOfKnownColumn(oid: string): boolean {
    const column = oid.slice(0, oid.lastIndexOf('.'));
    return [SPDU_PENDING, SPDU_CTL, SPDU_NAME, RPDU_CONTROL, RPDU_STATUS, RPDU_NAME, RPDU2_CONTROL, RPDU2_STATUS, RPDU2_NAME].includes(column) &&
      this.sortedOids.some((known) => known.startsWith(`${column}.`));
  }

  private reboot(outlet: number): void {
    this.transition(outlet, 'off', 'reboot');
    this.later(this.options.rebootDurationMs ?? 5_000, () => this.transition(outlet, 'on', 'reboot done'));
  }

  private transition(outlet: number, to: SimOutletState, cause: OutletTransition['cause']): void {
    const from = this.states[outlet - 1];
    if (from === to) return;
    this.states[outlet - 1] = to;
    this.timeline.push({ at: this.now(), outlet, from, to, cause });
  }

  private later(ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      this.pendingTimers.delete(timer);
      run();
    }, ms);
    this.pendingTimers.add(timer);
  }

  private record(entry: Omit<SnmpSimRequest, 'at'>): void {
    this.requests.push({ at: this.now(), ...entry });
  }

  private checkOutlet(outlet: number): void {
    if (!Number.isInteger(outlet) || outlet < 1 || outlet > this.states.length) throw new RangeError(`outlet must be 1..${this.states.length}`);
  }
}

function pduName(tag: number): SimPduType {
  switch (tag) {
    case TAG.GET:
      return 'get';
    case TAG.GET_NEXT:
      return 'getNext';
    case TAG.SET:
      return 'set';
    case TAG.GET_BULK:
      return 'getBulk';
    default:
      return 'other';
  }
}

function plain(value: WireValue): number | string | null {
  switch (value.kind) {
    case 'int':
      return Number(value.value);
    case 'bytes':
      return value.value.toString('utf8');
    case 'oid':
      return value.value;
    case 'empty':
      return null;
  }
}
