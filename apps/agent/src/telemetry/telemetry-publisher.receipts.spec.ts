/**
 * The agent's side of ingest receipts, against a real broker (in-process aedes) with the test as the controller:
 * messages leave the outbox only when a receipt names them, a message never confirmed at the head is sent again
 * and does not stop the flow behind it.
 */
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { IngestReceipt, RigTopics, encodeJson } from '@rigwarden/protocol';
import { createLogger, systemClock } from '@rigwarden/shared';
import { makeTempDir, startInProcessBroker, waitFor, type TempDir } from '@rigwarden/testing';
import { DiskQueue } from './disk-queue';
import { SeqStore } from './seq-store';
import { TelemetryPublisher, type PublisherOptions } from './telemetry-publisher';

const ROOT = 'receipts-unit/v1';
const topics = new RigTopics(ROOT);

/** An outbox on disk under `dir`. */
const outboxAt = (dir: string, name: string, maxBytes = 8 << 20): DiskQueue => new DiskQueue(join(dir, name), { maxBytes, maxAgeMs: 3600_000, clock: systemClock });

/** The agent's real publisher for rig r1 (or `rigIds`) as agent "unit-agent", with its seq store under `dir`. */
function publisherFor(url: string, dir: string, clientId: string, options: Partial<PublisherOptions> & Pick<PublisherOptions, 'outbox'>): TelemetryPublisher {
  return new TelemetryPublisher({
    url, clientId, agentId: 'unit-agent', agentVersion: 'test', rigIds: ['r1'], clock: systemClock,
    logger: createLogger('agent', { level: 'error' }), seq: new SeqStore(join(dir, `data-${clientId}`)), topics, ...options,
  });
}

describe('TelemetryPublisher with ingest receipts', () => {
  let dir: TempDir;
  let broker: Awaited<ReturnType<typeof startInProcessBroker>>;
  let controller: MqttClient;
  let publisher: TelemetryPublisher;
  let outbox: DiskQueue;
  const seen: number[] = [];

  beforeEach(async () => {
    seen.length = 0;
    dir = makeTempDir();
    broker = await startInProcessBroker();
    controller = await mqtt.connectAsync(broker.url, { clientId: 'unit-controller' });
    await controller.subscribeAsync(topics.allRigs('telemetry'), { qos: 1 });
    controller.on('message', (_t, payload) => seen.push((JSON.parse(payload.toString()) as { seq: number }).seq));
    outbox = outboxAt(dir.path, 'outbox');
    publisher = publisherFor(broker.url, dir.path, 'unit-agent', { outbox, maxUnconfirmed: 10, drainWindow: 5, resendAfterMs: 300 });
    await publisher.connect();
  });

  afterEach(async () => {
    await publisher.close();
    await controller.endAsync(true);
    await broker.stop();
    dir.remove();
  });

  const publish = (n: number): void => {
    for (let i = 0; i < n; i++) {
      publisher.publishOutcome({ rigId: 'r1', minerId: 'm1', driver: 'cgminer', host: '127.0.0.1', port: 4028, collectedAt: Date.now(), errors: [] });
    }
  };
  const confirm = (seqs: number[]): void => {
    const receipt = { agentId: 'unit-agent', snapshots: seqs.map((s) => ({ rigId: 'r1', first: s, last: s })), eventIds: [], resultKeys: [], at: new Date() };
    controller.publish(topics.agentStored('unit-agent'), encodeJson(IngestReceipt, receipt), { qos: 0 });
  };

  it('keeps every message until it is confirmed, whatever the broker acknowledged, with at most maxUnconfirmed in flight', async () => {
    publish(30);
    for (const upTo of [10, 20, 30]) {
      await waitFor(`the broker to deliver ${upTo}`, () => (new Set(seen).size >= upTo ? true : undefined), 10_000, 10);
      expect(new Set(seen).size).toBe(upTo); // 10 unconfirmed at most: the next ones wait for a receipt
      expect(outbox.depth).toBe(30 - (upTo - 10)); // delivered and acknowledged by the broker, still kept until confirmed
      confirm([...new Set(seen)]);
    }
    await waitFor('the confirmed messages to leave the outbox', () => (outbox.depth === 0 ? true : undefined), 10_000, 10);
    expect(publisher.counters.confirmed).toBe(30);
  });

  it('sends again a head that is never confirmed, and sends everything behind it past maxUnconfirmed', async () => {
    publish(40);
    // The "controller" confirms everything but the first message, as it arrives.
    let first = 0;
    controller.on('message', (_t, payload) => {
      const { seq } = JSON.parse(payload.toString()) as { seq: number };
      if (first === 0) first = seq;
      if (seq !== first) confirm([seq]);
    });
    await waitFor('all 40 to reach the controller though only 10 may be unconfirmed', () => (new Set(seen).size === 40 ? true : undefined), 10_000, 10);
    expect(outbox.depth).toBe(40); // the head holds the outbox: nothing behind it is dropped before it
    await waitFor('the unconfirmed head to be sent again', () => (seen.filter((s) => s === first).length >= 2 ? true : undefined), 10_000, 20);
    confirm([first]);
    await waitFor('the whole run to leave the outbox once the head is confirmed', () => (outbox.depth === 0 ? true : undefined), 10_000, 10);
  });
});

describe('TelemetryPublisher: resending under a steady flow', () => {
  let dir: TempDir;
  let broker: Awaited<ReturnType<typeof startInProcessBroker>>;
  let controller: MqttClient;
  let publisher: TelemetryPublisher;
  let timer: NodeJS.Timeout | undefined;

  afterEach(async () => {
    clearInterval(timer);
    await publisher.close();
    await controller.endAsync(true);
    await broker.stop();
    dir.remove();
  });

  it('sends an unconfirmed head again though new messages keep the sending loop busy', async () => {
    dir = makeTempDir();
    broker = await startInProcessBroker();
    controller = await mqtt.connectAsync(broker.url, { clientId: 'unit-controller-t' });
    await controller.subscribeAsync(topics.allRigs('telemetry'), { qos: 1 });
    const seen: number[] = [];
    let first = 0;
    controller.on('message', (_t, payload) => {
      const { seq } = JSON.parse(payload.toString()) as { seq: number };
      seen.push(seq);
      if (first === 0) first = seq;
      // Everything but the head is confirmed as it arrives (the head's receipt was lost, say).
      if (seq !== first) {
        const receipt = { agentId: 'unit-agent', snapshots: [{ rigId: 'r1', first: seq, last: seq }], eventIds: [], resultKeys: [], at: new Date() };
        controller.publish(topics.agentStored('unit-agent'), encodeJson(IngestReceipt, receipt), { qos: 0 });
      }
    });
    publisher = publisherFor(broker.url, dir.path, 'unit-agent-t', { outbox: outboxAt(dir.path, 'outbox'), maxUnconfirmed: 1000, drainWindow: 1, resendAfterMs: 1000 });
    await publisher.connect();
    timer = setInterval(() => {
      publisher.publishOutcome({ rigId: 'r1', minerId: 'm1', driver: 'cgminer', host: '127.0.0.1', port: 4028, collectedAt: Date.now(), errors: [] });
    }, 2);
    await waitFor('the head to be sent again while the flow goes on', () => (first !== 0 && seen.filter((s) => s === first).length >= 2 ? true : undefined), 15_000, 20);
    expect(publisher.counters.resent).toBeGreaterThan(0);
  });
});

describe('TelemetryPublisher: results and events in the priority outbox', () => {
  let dir: TempDir;
  let broker: Awaited<ReturnType<typeof startInProcessBroker>>;
  let controller: MqttClient;
  let publisher: TelemetryPublisher;
  let outbox: DiskQueue;
  let priority: DiskQueue;
  const arrivals: string[] = [];

  beforeEach(async () => {
    arrivals.length = 0;
    dir = makeTempDir();
    broker = await startInProcessBroker();
    controller = await mqtt.connectAsync(broker.url, { clientId: 'unit-controller-p' });
    await controller.subscribeAsync([topics.allRigs('telemetry'), topics.allRigs('results')], { qos: 1 });
    controller.on('message', (topic) => arrivals.push(topic.endsWith('/results') ? 'result' : 'snapshot'));
    outbox = outboxAt(dir.path, 'outbox');
    priority = outboxAt(dir.path, 'outbox-priority', 1 << 20);
    publisher = publisherFor(broker.url, dir.path, 'unit-agent-p', { outbox, priorityOutbox: priority, maxUnconfirmed: 10, drainWindow: 5, resendAfterMs: 60_000 });
    await publisher.connect();
  });

  afterEach(async () => {
    await publisher.close();
    await controller.endAsync(true);
    await broker.stop();
    dir.remove();
  });

  const result = (commandId: string): string => JSON.stringify({ commandId, rigId: 'r1', outcome: 'COMMAND_OUTCOME_SUCCEEDED', message: 'ok' });

  it('sends a result at once past a telemetry backlog held back by flow control, and keeps it until its receipt', async () => {
    for (let i = 0; i < 200; i++) {
      publisher.publishOutcome({ rigId: 'r1', minerId: 'm1', driver: 'cgminer', host: '127.0.0.1', port: 4028, collectedAt: Date.now(), errors: [] });
    }
    await waitFor('the first 10 snapshots (maxUnconfirmed) to arrive', () => (arrivals.length >= 10 ? true : undefined), 10_000, 10);
    publisher.send(topics.rig('r1', 'results'), result('cmd-1'));
    await waitFor('the result to arrive though 190 snapshots wait', () => (arrivals.includes('result') ? true : undefined), 10_000, 10);
    expect(arrivals.filter((a) => a === 'snapshot')).toHaveLength(10);
    expect([outbox.depth, priority.depth]).toEqual([200, 1]);
    controller.publish(topics.agentStored('unit-agent'), encodeJson(IngestReceipt, {
      agentId: 'unit-agent', snapshots: [], eventIds: [], resultKeys: ['cmd-1/COMMAND_OUTCOME_SUCCEEDED'], at: new Date(),
    }), { qos: 0 });
    await waitFor('the confirmed result to leave its outbox', () => (priority.depth === 0 ? true : undefined), 10_000, 10);
    expect(outbox.depth).toBe(200); // the snapshots' receipts are not in: they stay
    expect(publisher.queued).toBe(200);
  });

  it('on connecting, sends the results queued while away before the snapshots queued before them', async () => {
    const away = publisherFor(broker.url, dir.path, 'unit-agent-away', {
      rigIds: ['r2'], outbox: outboxAt(dir.path, 'outbox-away'), priorityOutbox: outboxAt(dir.path, 'outbox-away-priority', 1 << 20),
      maxUnconfirmed: 100, drainWindow: 5, resendAfterMs: 60_000,
    });
    for (let i = 0; i < 50; i++) {
      away.publishOutcome({ rigId: 'r2', minerId: 'm2', driver: 'cgminer', host: '127.0.0.1', port: 4028, collectedAt: Date.now(), errors: [] });
    }
    away.send(topics.rig('r2', 'results'), result('cmd-2'));
    expect(away.queued).toBe(51);
    arrivals.length = 0;
    try {
      await away.connect();
      await waitFor('the replay', () => (arrivals.length >= 51 ? true : undefined), 20_000, 20);
      expect(arrivals[0]).toBe('result');
    } finally {
      await away.close();
    }
  });
});
