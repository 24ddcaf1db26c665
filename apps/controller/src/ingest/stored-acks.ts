import type { Writable } from 'node:stream';
import type { MqttClient } from 'mqtt';
import type { Packet } from 'mqtt';
import { AckBatcher } from './ack-batcher';

/** Settled once what a message carries is stored (or will never be: it was refused). */
export class StoredGate {
  done = false;
  private readonly waiters: Array<() => void> = [];

  /** What it waits for, for the stall diagnosis ("snapshot batch", "rig state", ...). */
  constructor(readonly label = 'snapshot batch') {}

  static readonly open: StoredGate = (() => { const g = new StoredGate('none'); g.done = true; return g; })();

  static after(promise: Promise<unknown>, label = 'write'): StoredGate {
    const gate = new StoredGate(label);
    void promise.then(() => gate.settle(), () => gate.settle());
    return gate;
  }

  settle(): void {
    if (this.done) return;
    this.done = true;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Settles this gate when `other` settles (a failed batch's messages go with the batch that retries them). */
  follow(other: StoredGate): void {
    other.whenDone(() => this.settle());
  }

  whenDone(waiter: () => void): void {
    if (this.done) waiter();
    else this.waiters.push(waiter);
  }
}

type SendPacket = (packet: Packet, cb?: (err?: Error) => void, cbStorePut?: () => void, noStore?: boolean) => void;

/**
 * Acknowledges a QoS 1 message to the broker only once it is stored: a controller killed before its commit leaves
 * the message with the broker (kept for our persistent session) instead of losing it.
 *
 * MQTT.js handles received packets one at a time and sends each PUBACK from the handleMessage callback; holding that
 * callback until a commit would take one message per commit. So handleMessage returns at once (the next packet is
 * read) and this class holds the PUBACK packet itself: MQTT.js's `_sendPacket` is wrapped, and a PUBACK whose message
 * is not stored yet is queued and written when it is, in the order the messages arrived (MQTT 3.1.1 §4.6), in one
 * write per burst. A PUBACK held when the connection drops is discarded: the broker sends the message again on the
 * next connection, and ingest drops the duplicate.
 *
 * `_sendPacket` is MQTT.js's internal API (5.x): e2e/controller-kill.spec.ts fails if an upgrade changes it.
 */
export class StoredAcks {
  private readonly queue: Array<{ packet: Packet; stream: Writable | undefined; gate: StoredGate; since: number }> = [];
  private readonly gates = new Map<number, StoredGate>();
  private readonly corker = new AckBatcher();
  private send: SendPacket | undefined;
  private client: MqttClient | undefined;
  /** PUBACKs waiting for a commit (metrics: how far acknowledgements lag). */
  get held(): number {
    return this.queue.length;
  }

  /** The oldest held PUBACK: how long it has waited and for what (undefined when none is held). */
  oldestHeld(now: number): { waitedMs: number; waitsFor: string; messageId: number | undefined } | undefined {
    const head = this.queue[0];
    if (!head) return undefined;
    return { waitedMs: now - head.since, waitsFor: head.gate.done ? 'released, not yet written' : head.gate.label, messageId: (head.packet as { messageId?: number }).messageId };
  }

  install(client: MqttClient): void {
    const internal = client as unknown as { _sendPacket: SendPacket };
    if (typeof internal._sendPacket !== 'function') throw new Error('MQTT.js has no _sendPacket: PUBACK after commit cannot be installed (check the mqtt version)');
    const send = internal._sendPacket.bind(client);
    this.send = send;
    this.client = client;
    internal._sendPacket = (packet, cb, cbStorePut, noStore) => {
      if (packet.cmd !== 'puback') return send(packet, cb, cbStorePut, noStore);
      const messageId = packet.messageId ?? -1;
      const gate = this.gates.get(messageId) ?? StoredGate.open;
      this.gates.delete(messageId);
      if (this.queue.length === 0 && gate.done) return send(packet, cb, cbStorePut, noStore);
      this.queue.push({ packet, stream: client.stream, gate, since: Date.now() });
      cb?.();
      gate.whenDone(() => this.release());
    };
  }

  /** Called from handleMessage, before MQTT.js sends the PUBACK of `messageId`: that PUBACK waits for `gate`. */
  expect(messageId: number | undefined, gate: StoredGate | undefined): void {
    if (messageId === undefined || gate === undefined || gate.done) return;
    this.gates.set(messageId, gate);
  }

  private release(): void {
    const send = this.send;
    const client = this.client;
    if (!send || !client) return;
    while (this.queue.length > 0 && this.queue[0]!.gate.done) {
      const { packet, stream } = this.queue.shift()!;
      // Only on the connection that received the message, and only while it is up (MQTT.js would store it offline).
      if (stream === undefined || stream !== client.stream || !client.connected || stream.destroyed) continue;
      this.corker.hold(stream);
      send(packet);
    }
  }

  /** Drops every held PUBACK (the connection is gone; the broker resends those messages). */
  reset(): void {
    this.queue.length = 0;
    this.gates.clear();
  }
}
