#!/usr/bin/env node
// The raw QoS 1 delivery rate's consumer: a stock MQTT.js subscriber in a process of its own (as the controller and
// the floor consumer are), doing nothing per message. It prints one JSON line when it has received `count` messages.
//   node bench/ingest-raw.subscriber.mjs <mqtt-url> <topic-root> <count> <ready-file>
import { writeFileSync } from 'node:fs';
import mqtt from 'mqtt';

const [url, topicRoot, count, readyFile] = process.argv.slice(2);
if (!readyFile) {
  console.error('usage: ingest-raw.subscriber.mjs <mqtt-url> <topic-root> <count> <ready-file>');
  process.exit(2);
}
const expected = Number(count);
const sub = await mqtt.connectAsync(url, { clientId: `bench-raw-sub-${topicRoot}`, reconnectPeriod: 0 });
await sub.subscribeAsync(`${topicRoot}/rigs/+/telemetry`, { qos: 1 });
let received = 0;
sub.on('message', () => {
  if (++received === expected) {
    process.stdout.write(`${JSON.stringify({ received })}\n`);
    void sub.endAsync().then(() => process.exit(0));
  }
});
writeFileSync(readyFile, JSON.stringify({ subscribed: true }));
const stop = () => process.stdout.write(`${JSON.stringify({ received })}\n`, () => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
