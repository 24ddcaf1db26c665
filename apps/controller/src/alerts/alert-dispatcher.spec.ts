import { createServer } from 'node:net';
import { ManualClock, createLogger, type Logger } from '@rigwarden/shared';
import { AlertDispatcher } from './alert-dispatcher';
import { parseAlertsConfig, type AlertsConfig } from './alerts-config';
import type { AlertNotification } from './alert-types';
import { WebhookReceiver, type ReceivedRequest, type Reply } from './webhook-receiver.testing';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const TOKEN = '123456789:AAHsecretTelegramBotToken_xyz';
const SLACK_PATH = '/services/T000SECRET/B000SECRET/XXXXsecretXXXX';

function notification(over: Partial<AlertNotification> = {}): AlertNotification {
  return {
    type: 'firing', rule: 'overheating', rigId: 'rig-7', severity: 'critical', reason: 'critical-temperature',
    summary: 'rig-7: board 2 at 97 °C <stopped>', since: T0 - 60_000, at: T0, occurrences: 1, ...over,
  };
}

describe('AlertDispatcher (real HTTP on loopback)', () => {
  let receiver: WebhookReceiver | undefined;
  let dispatcher: AlertDispatcher | undefined;
  const lines: string[] = [];
  const logger: Logger = createLogger('test.alerts', { level: 'debug', write: (l) => lines.push(l) });
  const clock = new ManualClock(T0);

  async function start(channels: unknown[], reply?: (n: number, req: ReceivedRequest) => Reply, extra: Record<string, unknown> = {}): Promise<{ config: AlertsConfig; d: AlertDispatcher; r: WebhookReceiver }> {
    receiver = await WebhookReceiver.start(reply);
    const raw = JSON.parse(JSON.stringify({ alerts: { delivery: { timeoutMs: 1000, retries: 2, backoffMs: 10 }, ...extra, channels } }).replaceAll('$RECEIVER', receiver.url));
    const config = parseAlertsConfig(raw, 'alerts.yaml', { TG_TOKEN: TOKEN, SLACK_URL: `${receiver.url}${SLACK_PATH}` });
    dispatcher = new AlertDispatcher({ channels: config.channels, rateLimit: config.rateLimit, delivery: config.delivery, clock, logger, random: () => 0 });
    return { config, d: dispatcher, r: receiver };
  }

  beforeEach(() => { lines.length = 0; clock.set(T0); });
  afterEach(async () => {
    await dispatcher?.close(0);
    await receiver?.close();
    dispatcher = undefined;
    receiver = undefined;
  });

  it('generic: POSTs the exact machine-readable JSON', async () => {
    const { d, r } = await start([{ name: 'hook', type: 'generic', url: '$RECEIVER/hooks/rigwarden' }]);
    d.submit(notification({ occurrences: 3 }));
    await d.idle();
    expect(r.requests).toHaveLength(1);
    expect(r.requests[0]).toMatchObject({ method: 'POST', path: '/hooks/rigwarden', contentType: 'application/json' });
    expect(r.requests[0]!.body).toEqual({
      version: 1, status: 'firing', rule: 'overheating', rig: 'rig-7', severity: 'critical', reason: 'critical-temperature',
      summary: 'rig-7: board 2 at 97 °C <stopped>', since: '2026-12-01T09:59:00.000Z', at: '2026-12-01T10:00:00.000Z', occurrences: 3, suppressed: 0,
    });
    expect(d.deliveryCounts()).toContainEqual({ channel: 'hook', outcome: 'delivered', count: 1 });
  });

  it('slack: POSTs {text, blocks} to the webhook URL, mrkdwn escaped', async () => {
    const { d, r } = await start([{ name: 'ops', type: 'slack', urlEnv: 'SLACK_URL' }]);
    d.submit(notification({ type: 'resolved', occurrences: 0 }));
    await d.idle();
    expect(r.requests.map((q) => q.path)).toEqual([SLACK_PATH]);
    expect(r.requests[0]!.body).toEqual({
      text: '✅ [RESOLVED] overheating on rig-7: rig-7: board 2 at 97 °C <stopped>',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: '*✅ [RESOLVED] overheating on rig-7*\nrig-7: board 2 at 97 °C &lt;stopped&gt;' } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'reason: critical-temperature · since 2026-12-01T09:59:00.000Z' }] },
      ],
    });
  });

  it('telegram: POST /bot<token>/sendMessage with {chat_id, text, parse_mode}', async () => {
    const { d, r } = await start([{ name: 'oncall', type: 'telegram', botTokenEnv: 'TG_TOKEN', chatId: '-1001234567890', apiUrl: '$RECEIVER' }]);
    d.submit(notification({ type: 'reminder', occurrences: 4 }));
    await d.idle();
    expect(r.requests.map((q) => q.path)).toEqual([`/bot${TOKEN}/sendMessage`]);
    expect(r.requests[0]!.body).toEqual({
      chat_id: '-1001234567890',
      text: '⏰ <b>[STILL CRITICAL] overheating on rig-7</b>\nrig-7: board 2 at 97 °C &lt;stopped&gt;\n<i>reason: critical-temperature · since 2026-12-01T09:59:00.000Z</i>\n<i>4 occurrences since the last notification</i>',
      parse_mode: 'HTML',
      disable_web_page_preview: true,
    });
  });

  it('retries a 500 with exponential backoff, then delivers', async () => {
    const { d, r } = await start([{ name: 'hook', type: 'generic', url: '$RECEIVER/h' }], (n) => (n < 2 ? { status: 500, body: 'upstream down' } : { status: 204 }), { delivery: { timeoutMs: 1000, retries: 3, backoffMs: 40 } });
    d.submit(notification());
    await d.idle();
    expect(r.requests).toHaveLength(3);
    expect(r.requests[1]!.at - r.requests[0]!.at).toBeGreaterThanOrEqual(35); // 40 ms
    expect(r.requests[2]!.at - r.requests[1]!.at).toBeGreaterThanOrEqual(75); // 80 ms
    expect(r.requests[2]!.body).toEqual(r.requests[0]!.body);
    expect(d.deliveryCounts()).toEqual(expect.arrayContaining([{ channel: 'hook', outcome: 'delivered', count: 1 }, { channel: 'hook', outcome: 'failed', count: 0 }]));
    expect(lines.filter((l) => l.includes('will retry'))).toHaveLength(2);
  });

  it('gives up after the retries, and does not retry a 400', async () => {
    const { d, r } = await start([
      { name: 'down', type: 'generic', url: '$RECEIVER/down' },
      { name: 'bad', type: 'generic', url: '$RECEIVER/bad' },
    ], (_n, q) => (q.path === '/bad' ? { status: 400, body: '{"error":"invalid_payload"}' } : { status: 503 }), { delivery: { timeoutMs: 1000, retries: 2, backoffMs: 5 } });
    d.submit(notification());
    await d.idle();
    expect(r.requests.filter((q) => q.path === '/down')).toHaveLength(3); // 1 + 2 retries
    expect(r.requests.filter((q) => q.path === '/bad')).toHaveLength(1);
    expect(d.deliveryCounts().filter((c) => c.outcome === 'failed')).toEqual([{ channel: 'down', outcome: 'failed', count: 1 }, { channel: 'bad', outcome: 'failed', count: 1 }]);
    expect(lines.some((l) => l.includes('alert delivery failed') && l.includes('channel=bad') && l.includes('HTTP 400'))).toBe(true);
  });

  it('times out a receiver that never answers, retries, and fails within the bound', async () => {
    const { d, r } = await start([{ name: 'slow', type: 'generic', url: '$RECEIVER/slow' }], () => 'hang', { delivery: { timeoutMs: 150, retries: 1, backoffMs: 10 } });
    const started = Date.now();
    d.submit(notification());
    await d.idle();
    const took = Date.now() - started;
    expect(r.requests).toHaveLength(2);
    expect(took).toBeGreaterThanOrEqual(300);
    expect(took).toBeLessThan(2000);
    expect(d.deliveryCounts()).toContainEqual({ channel: 'slow', outcome: 'failed', count: 1 });
    expect(lines.some((l) => l.includes('no answer within 150 ms'))).toBe(true);
  });

  it('submit() only queues: it returns at once while the receiver hangs', async () => {
    const { d } = await start([{ name: 'slow', type: 'generic', url: '$RECEIVER/slow' }], () => 'hang', { delivery: { timeoutMs: 5000, retries: 0, backoffMs: 10 } });
    const started = process.hrtime.bigint();
    for (let i = 0; i < 5; i++) d.submit(notification({ rigId: `rig-${i}` }));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(ms).toBeLessThan(50);
    expect(d.queueDepth()).toBe(5);
  });

  it('per-channel rate limit: holds back the excess and says how many in the next message', async () => {
    const { d, r } = await start([{ name: 'hook', type: 'generic', url: '$RECEIVER/h', rateLimit: { burst: 2, perMinute: 1 } }]);
    for (let i = 0; i < 5; i++) d.submit(notification({ rigId: `rig-${i}` }));
    await d.idle();
    expect(r.requests.map((q) => (q.body as { rig: string }).rig)).toEqual(['rig-0', 'rig-1']);
    clock.advance(60_000); // one token back
    d.submit(notification({ rigId: 'rig-9' }));
    await d.idle();
    expect(r.requests.map((q) => (q.body as { rig: string; suppressed: number }).suppressed)).toEqual([0, 0, 3]);
    expect(d.deliveryCounts()).toEqual(expect.arrayContaining([{ channel: 'hook', outcome: 'rate_limited', count: 3 }, { channel: 'hook', outcome: 'delivered', count: 3 }]));
  });

  it('global rate limit: caps notifications across all channels', async () => {
    const { d, r } = await start([
      { name: 'a', type: 'generic', url: '$RECEIVER/a' },
      { name: 'b', type: 'generic', url: '$RECEIVER/b' },
    ], undefined, { rateLimit: { burst: 3, perMinute: 1 } });
    for (let i = 0; i < 6; i++) d.submit(notification({ rigId: `rig-${i}` }));
    await d.idle();
    expect(r.requests.filter((q) => q.path === '/a')).toHaveLength(3);
    expect(r.requests.filter((q) => q.path === '/b')).toHaveLength(3);
    expect(d.deliveryCounts().filter((c) => c.outcome === 'rate_limited').map((c) => c.count)).toEqual([3, 3]);
  });

  it('routes by minSeverity and rules', async () => {
    const { d, r } = await start([
      { name: 'pager', type: 'generic', url: '$RECEIVER/pager', minSeverity: 'critical' },
      { name: 'security', type: 'generic', url: '$RECEIVER/security', rules: ['security'] },
    ]);
    d.submit(notification({ severity: 'warning', rule: 'overheating' }));
    d.submit(notification({ severity: 'critical', rule: 'rig-offline' }));
    d.submit(notification({ severity: 'warning', rule: 'security' }));
    await d.idle();
    expect(r.requests.map((q) => `${q.path} ${(q.body as { rule: string }).rule}`).sort()).toEqual(['/pager rig-offline', '/security security']);
  });

  it('a full queue drops its oldest notification and counts it', async () => {
    const { d, r } = await start([{ name: 'slow', type: 'generic', url: '$RECEIVER/slow' }], () => ({ status: 200, delayMs: 50 }), { delivery: { timeoutMs: 1000, retries: 0, backoffMs: 10, maxQueue: 2 } });
    for (let i = 0; i < 5; i++) d.submit(notification({ rigId: `rig-${i}` }));
    await d.idle();
    // rig-0 went out at once; of rig-1..4 the queue (2) kept the newest two.
    expect(r.requests.map((q) => (q.body as { rig: string }).rig)).toEqual(['rig-0', 'rig-3', 'rig-4']);
    expect(d.deliveryCounts()).toContainEqual({ channel: 'slow', outcome: 'dropped', count: 2 });
  });

  it('never logs a bot token, a webhook URL or its path, whatever fails', async () => {
    const closedPort = await new Promise<number>((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); }); });
    const { d } = await start([
      { name: 'tg', type: 'telegram', botTokenEnv: 'TG_TOKEN', chatId: '42', apiUrl: '$RECEIVER' },
      { name: 'slack', type: 'slack', urlEnv: 'SLACK_URL' },
      { name: 'gone', type: 'generic', url: `http://127.0.0.1:${closedPort}${SLACK_PATH}?token=${TOKEN}` },
    ], (n) => (n % 3 === 2 ? 'hang' : { status: n % 3 === 0 ? 500 : 401, body: JSON.stringify({ description: `bad ${TOKEN} at ${SLACK_PATH}` }) }), { delivery: { timeoutMs: 100, retries: 2, backoffMs: 5 } });
    d.submit(notification());
    d.submit(notification({ type: 'resolved' }));
    await d.idle();
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.some((l) => l.includes('ECONNREFUSED'))).toBe(true);
    expect(lines.some((l) => l.includes('[redacted]'))).toBe(true);
    for (const line of lines) {
      expect(line).not.toContain(TOKEN);
      expect(line).not.toContain('AAHsecret');
      expect(line).not.toContain(SLACK_PATH);
      expect(line).not.toContain('T000SECRET');
    }
  });
});
