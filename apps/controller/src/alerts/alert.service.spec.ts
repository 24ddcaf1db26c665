import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MinerSnapshot, PoolStatus, RigEvent, RigState } from '@rigwarden/protocol';
import { ManualClock, createLogger, type Logger } from '@rigwarden/shared';
import { makeTempDir, waitFor, type TempDir } from '@rigwarden/testing';
import { EventRepository } from '../persistence/event-repository';
import { migrate } from '../persistence/migrations';
import { RigRepository } from '../persistence/rig-repository';
import { SqliteDatabase } from '../persistence/sqlite-database';
import { AlertService } from './alert.service';
import { parseAlertsConfig } from './alerts-config';
import { RigPresenceReader } from './rig-presence.reader';
import { WebhookReceiver } from './webhook-receiver.testing';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const TOKEN = '5550001:AAFsuperSecretBotToken';

interface GenericBody { status: string; rule: string; rig: string; severity: string; reason: string; occurrences: number }

describe('AlertService (real SQLite, EventRepository hook, loopback webhook)', () => {
  let dir: TempDir;
  let db: SqliteDatabase;
  let rigs: RigRepository;
  let events: EventRepository;
  let receiver: WebhookReceiver;
  let service: AlertService;
  let clock: ManualClock;
  let rigUpdated: (rigId: string) => void;
  const lines: string[] = [];
  const logger: Logger = createLogger('test.alerts', { level: 'debug', write: (l) => lines.push(l) });

  const bodies = (): GenericBody[] => receiver.requests.filter((r) => r.path === '/hook').map((r) => r.body as GenericBody);
  const event = (id: string, rigId: string, kind: string, reason: string, severity = 'warning'): RigEvent =>
    RigEvent.fromPartial({ eventId: id, rigId, kind, reason, severity, message: `${rigId}: ${kind}`, at: new Date(clock.now()) });

  beforeEach(async () => {
    lines.length = 0;
    dir = makeTempDir();
    db = await SqliteDatabase.open(join(dir.path, 'rigwarden.db'));
    await migrate(db);
    rigs = new RigRepository(db);
    events = new EventRepository(db);
    receiver = await WebhookReceiver.start();
    clock = new ManualClock(T0);
    service = new AlertService({}, events, { onRigUpdated: (l) => { rigUpdated = l; } }, new RigPresenceReader(db));
    service.clock = clock;
  });
  afterEach(async () => {
    await service.onModuleDestroy();
    await receiver.close();
    await db.close();
    dir.remove();
  });

  function start(extra: Record<string, unknown> = {}): void {
    service.start(parseAlertsConfig({
      alerts: { checkIntervalS: 3600, delivery: { timeoutMs: 1000, retries: 0, backoffMs: 10 }, rules: { 'rig-offline': { afterS: 120 } }, channels: [{ name: 'hook', type: 'generic', url: `${receiver.url}/hook` }], ...extra },
    }, 'alerts.yaml', {}), { logger });
  }

  it('stored events reach the webhook once per (rule, rig); a replayed event id is not an event', async () => {
    start();
    await events.recordEvent(event('e1', 'rig-1', 'security.command_rejected', 'bad_signature'), 'agent');
    await events.recordEvent(event('e1', 'rig-1', 'security.command_rejected', 'bad_signature'), 'agent'); // replay: not stored, not notified
    await events.recordEvent(event('e2', 'rig-1', 'security.command_rejected', 'bad_signature'), 'agent'); // folded into the alert
    await events.recordEvent(event('e3', 'rig-2', 'policy.quarantine', 'ladder-exhausted', 'critical'), 'watchdog');
    await service.idle();
    expect(bodies().map((b) => [b.status, b.rule, b.rig, b.severity, b.reason])).toEqual([
      ['firing', 'security', 'rig-1', 'warning', 'bad_signature'],
      ['firing', 'quarantined', 'rig-2', 'critical', 'ladder-exhausted'],
    ]);
    expect(service.active().map((a) => [a.key, a.occurrences])).toEqual([['quarantined:rig-2', 1], ['security:rig-1', 2]]);
    expect(service.deliveryCounts()).toContainEqual({ channel: 'hook', outcome: 'delivered', count: 2 });
  });

  it('a pool killed outright (the miner reports it Dead while on it) reaches the webhook once, and its recovery once', async () => {
    let snapshotHook: (s: MinerSnapshot) => void = () => undefined;
    await service.onModuleDestroy();
    service = new AlertService({}, events, { onRigUpdated: () => undefined, onSnapshotAccepted: (l) => { snapshotHook = l; } }, new RigPresenceReader(db));
    service.clock = clock;
    start();
    const snapshot = (dead: boolean): MinerSnapshot => MinerSnapshot.fromPartial({
      rigId: 'rig-1', minerId: 'm', seq: 1, collectedAt: new Date(clock.now()),
      pools: [{ index: 0, url: 'stratum+tcp://pool-a.example:3333', status: dead ? PoolStatus.POOL_STATUS_DEAD : PoolStatus.POOL_STATUS_ALIVE, active: true }],
    });
    snapshotHook(snapshot(false));
    for (let i = 0; i < 5; i++) { clock.advance(5000); snapshotHook(snapshot(true)); }
    clock.advance(5000);
    snapshotHook(snapshot(false));
    await service.idle();
    expect(bodies().map((b) => [b.status, b.rule, b.rig, b.reason])).toEqual([
      ['firing', 'pool-dead', 'rig-1', 'active-pool-dead'],
      ['resolved', 'pool-dead', 'rig-1', 'active-pool-dead'],
    ]);
  });

  it('a rig whose agent dropped fires after afterS, and resolves soon after its telemetry is back', async () => {
    start();
    await rigs.writeSnapshots([MinerSnapshot.fromPartial({ rigId: 'rig-1', minerId: 'm', seq: 1, agentId: 'a', collectedAt: new Date(T0) })]);
    await rigs.writeState(RigState.fromPartial({ rigId: 'rig-1', agentId: 'a', online: false, at: new Date(T0 + 1000) }));
    clock.set(T0 + 60_000);
    await service.check();
    expect(service.active()).toEqual([]);
    clock.set(T0 + 125_000);
    await service.check();
    await service.idle();
    expect(bodies().map((b) => [b.status, b.rule, b.rig, b.reason])).toEqual([['firing', 'rig-offline', 'rig-1', 'agent-offline']]);

    // Back: ingest stores the birth and fresh telemetry, then tells its listeners; the recheck reads only this rig.
    clock.set(T0 + 200_000);
    await rigs.writeState(RigState.fromPartial({ rigId: 'rig-1', agentId: 'a', online: true, at: new Date(T0 + 199_000) }));
    await rigs.writeSnapshots([MinerSnapshot.fromPartial({ rigId: 'rig-1', minerId: 'm', seq: 2, agentId: 'a', collectedAt: new Date(T0 + 199_500) })]);
    rigUpdated('rig-1');
    await waitFor('the resolved notification', () => (bodies().length === 2 ? true : undefined), 5000);
    expect(bodies()[1]).toMatchObject({ status: 'resolved', rule: 'rig-offline', rig: 'rig-1' });
    expect(service.active()).toEqual([]);
  });

  it('with controllers sharing the fleet, connectivity and pool alerts go out from the rig\'s owner only; event alerts from the one that stored the event', async () => {
    // Two controllers on one store: this one owns rig-1, the other rig-2 (as ShardOwnership splits them).
    let snapshotHook: (s: MinerSnapshot) => void = () => undefined;
    let otherSnapshotHook: (s: MinerSnapshot) => void = () => undefined;
    await service.onModuleDestroy();
    service = new AlertService({}, events, { onRigUpdated: () => undefined, onSnapshotAccepted: (l) => { snapshotHook = l; } }, new RigPresenceReader(db), { owns: (rigId) => rigId === 'rig-1' });
    service.clock = clock;
    start();
    const other = new AlertService({}, { onRecorded: () => undefined }, { onRigUpdated: () => undefined, onSnapshotAccepted: (l) => { otherSnapshotHook = l; } }, new RigPresenceReader(db), { owns: (rigId) => rigId === 'rig-2' });
    other.clock = clock;
    other.start(parseAlertsConfig({
      alerts: { checkIntervalS: 3600, delivery: { timeoutMs: 1000, retries: 0, backoffMs: 10 }, rules: { 'rig-offline': { afterS: 120 } }, channels: [{ name: 'hook', type: 'generic', url: `${receiver.url}/hook` }] },
    }, 'alerts.yaml', {}), { logger });
    try {
      for (const rigId of ['rig-1', 'rig-2']) await rigs.writeState(RigState.fromPartial({ rigId, agentId: 'a', online: false, at: new Date(T0) }));
      const deadPool = (rigId: string): MinerSnapshot => MinerSnapshot.fromPartial({
        rigId, minerId: 'm', seq: 1, collectedAt: new Date(clock.now()), pools: [{ index: 0, url: 'stratum+tcp://pool-a.example:3333', status: PoolStatus.POOL_STATUS_DEAD, active: true }],
      });
      for (const hook of [snapshotHook, otherSnapshotHook]) { hook(deadPool('rig-1')); hook(deadPool('rig-2')); }
      await service.check();
      await other.check();
      clock.advance(125_000);
      await service.check();
      await other.check();
      await events.recordEvent(event('q1', 'rig-2', 'policy.quarantine', 'ladder-exhausted', 'critical'), 'watchdog');
      await service.idle();
      await other.idle();
      const sent = bodies().map((b) => `${b.rule} ${b.rig}`).sort();
      expect(sent).toEqual(['pool-dead rig-1', 'pool-dead rig-2', 'quarantined rig-2', 'rig-offline rig-1', 'rig-offline rig-2']);
      // Each judged both rigs (the dashboard of either lists every alert) and left the other's to it.
      expect(service.active().filter((a) => a.rule !== 'quarantined').map((a) => a.key).sort()).toEqual(['pool-dead:rig-1', 'pool-dead:rig-2', 'rig-offline:rig-1', 'rig-offline:rig-2']);
      expect(service.counters.leftToOwner).toBe(2);
      expect(other.counters.leftToOwner).toBe(2);
    } finally {
      await other.onModuleDestroy();
    }
  });

  it('the periodic check runs on its own and reminders follow the renotify interval', async () => {
    start({ checkIntervalS: 0.05, renotifyAfterS: 600 });
    await rigs.writeState(RigState.fromPartial({ rigId: 'rig-9', agentId: 'a', online: false, at: new Date(T0) }));
    await service.check(); // seen down at T0 (or join the periodic check already running)
    clock.advance(121_000);
    await waitFor('firing', () => (bodies().length >= 1 ? true : undefined), 5000);
    clock.advance(600_000);
    await waitFor('a reminder', () => (bodies().length >= 2 ? true : undefined), 5000);
    expect(bodies().slice(0, 2).map((b) => b.status)).toEqual(['firing', 'reminder']);
  });

  it('loads --alerts at start; its logs name channels, never the bot token or its URL', async () => {
    const failing = await WebhookReceiver.start(() => ({ status: 500, body: '{"ok":false,"description":"Internal Server Error"}' }));
    const file = join(dir.path, 'alerts.yaml');
    writeFileSync(file, `alerts:\n  delivery: { timeoutMs: 200, retries: 1, backoffMs: 10 }\n  channels:\n    - name: oncall\n      type: telegram\n      botTokenEnv: RIGWARDEN_TEST_TG_TOKEN\n      chatId: "42"\n      apiUrl: ${failing.url}/down\n`);
    process.env['RIGWARDEN_TEST_TG_TOKEN'] = TOKEN;
    const level = process.env['LOG_LEVEL'];
    process.env['LOG_LEVEL'] = 'debug'; // every line the service can write
    const stderr: string[] = [];
    const write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => { stderr.push(String(chunk)); return true; });
    try {
      const s = new AlertService({ alertsFile: file }, events, { onRigUpdated: () => undefined }, new RigPresenceReader(db));
      s.clock = clock;
      s.onModuleInit();
      await events.recordEvent(event('e9', 'rig-3', 'safety.critical_temperature', 'critical-temperature', 'critical'), 'agent');
      await s.idle();
      await s.onModuleDestroy();
    } finally {
      write.mockRestore();
      delete process.env['RIGWARDEN_TEST_TG_TOKEN'];
      process.env['LOG_LEVEL'] = level;
      await failing.close();
    }
    expect(failing.requests.map((r) => r.path)).toEqual([`/down/bot${TOKEN}/sendMessage`, `/down/bot${TOKEN}/sendMessage`]);
    const log = stderr.join('');
    expect(log).toContain('alert rules loaded');
    expect(log).toContain('oncall(telegram)');
    expect(log).toMatch(/alert delivery failed; will retry channel=oncall .*HTTP 500/);
    expect(log).toMatch(/alert delivery failed channel=oncall .*attempts=2/);
    expect(log).not.toContain(TOKEN);
    expect(log).not.toContain('AAFsuperSecret');
    expect(log).not.toContain('/sendMessage');
  });
});
