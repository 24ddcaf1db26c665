import type { Writable } from 'node:stream';

/**
 * Sends the acknowledgements of a burst in one write. MQTT.js handles each received packet in its own process tick
 * and writes each PUBACK in the next one: one `writev` system call per message for the controller, and one more read
 * per message for the broker. hold() corks the socket from the first message of a burst until the event loop's next
 * turn, so the PUBACKs of the burst leave together (about a tenth of the controller's CPU under load,
 * docs/benchmarks.md). An acknowledgement waits at most that one turn; cork counts nest with MQTT.js's own.
 */
export class AckBatcher {
  private held: Writable | undefined;

  hold(stream: Writable): void {
    if (this.held === stream || stream.writableEnded || stream.destroyed) return;
    this.held = stream;
    stream.cork();
    setImmediate(() => {
      if (this.held === stream) this.held = undefined;
      stream.uncork();
    });
  }
}
