import { Writable } from 'node:stream';
import { AckBatcher } from './ack-batcher';

/** A real Writable that records each system-call-sized write it is given. */
function recordingStream(): { stream: Writable; writes: string[][] } {
  const writes: string[][] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) { writes.push([chunk.toString()]); done(); },
    writev(chunks, done) { writes.push(chunks.map((c) => (c.chunk as Buffer).toString())); done(); },
  });
  return { stream, writes };
}
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What MQTT.js does per received packet: handled in a tick of its own, its PUBACK written corked until the next. */
function ackInItsOwnTick(stream: Writable, id: number): Promise<void> {
  return new Promise((resolve) => process.nextTick(() => {
    stream.cork();
    stream.write(Buffer.from(`ack${id}`));
    process.nextTick(() => { stream.uncork(); resolve(); });
  }));
}

describe('AckBatcher', () => {
  it('without it, each acknowledgement of a burst is a write of its own', async () => {
    const { stream, writes } = recordingStream();
    for (let id = 1; id <= 5; id++) await ackInItsOwnTick(stream, id);
    expect(writes).toEqual([['ack1'], ['ack2'], ['ack3'], ['ack4'], ['ack5']]);
  });

  it('sends the acknowledgements of a burst in one write at the next turn of the event loop', async () => {
    const { stream, writes } = recordingStream();
    const acks = new AckBatcher();
    for (let id = 1; id <= 5; id++) {
      acks.hold(stream);
      await ackInItsOwnTick(stream, id);
    }
    expect(writes).toEqual([]);
    await nextTurn();
    expect(writes).toEqual([['ack1', 'ack2', 'ack3', 'ack4', 'ack5']]);
    expect(stream.writableCorked).toBe(0);

    // The next burst is held again, and flushed again.
    acks.hold(stream);
    await ackInItsOwnTick(stream, 6);
    await nextTurn();
    expect(writes).toEqual([['ack1', 'ack2', 'ack3', 'ack4', 'ack5'], ['ack6']]);
    expect(stream.writableCorked).toBe(0);
  });

  it('leaves a new socket (after a reconnect) corked only until the next turn, and ignores an ended one', async () => {
    const old = recordingStream();
    const fresh = recordingStream();
    const acks = new AckBatcher();
    acks.hold(old.stream);
    acks.hold(fresh.stream);
    fresh.stream.write('connect');
    old.stream.end();
    acks.hold(old.stream);
    await nextTurn();
    expect(fresh.writes).toEqual([['connect']]);
    expect(fresh.stream.writableCorked).toBe(0);
  });
});
