import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AgentStatus, BoardStatus, MinerSnapshot, PoolStatus, RigEvent, RigState } from '@rigwarden/protocol';
import { ManualClock } from '@rigwarden/shared';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { AlertService } from '../alerts/alert.service';
import { DEFAULT_ALERTS_CONFIG } from '../alerts/alerts-config';
import { RigPresenceReader } from '../alerts/rig-presence.reader';
import { emptyIngestCounters } from '../ingest/ingest-counters';
import { EventRepository } from '../persistence/event-repository';
import { migrate } from '../persistence/migrations';
import { RigRepository } from '../persistence/rig-repository';
import { SqliteDatabase } from '../persistence/sqlite-database';
import { MetricsService } from './metrics.service';
import { parsePrometheusText, samplesOf, valueOf } from './prometheus-text.parser';

const T0 = Date.parse('2026-12-01T10:00:00Z');

function asic(rigId: string, seq: number, over: Partial<MinerSnapshot> = {}): MinerSnapshot {
  return MinerSnapshot.fromPartial({
    rigId, minerId: `${rigId}-m`, seq, agentId: 'agent-1', collectedAt: new Date(T0 + seq * 1000), driver: 'cgminer',
    vendor: 'antminer', model: 'Antminer S19 Pro "free text"', hashrate5sHs: 110e12, hashrateAvgHs: 109e12, accepted: 1000, rejected: 7, stale: 2,
    hwErrors: 12, powerW: 3250, uptimeS: 86400,
    boards: [
      { index: 0, hashrateHs: 36e12, boardTempC: 61, chipTempC: 76, status: BoardStatus.BOARD_STATUS_OK },
      { index: 1, hashrateHs: 0, boardTempC: 58, chipTempC: 70, status: BoardStatus.BOARD_STATUS_DEAD },
    ],
    fans: [{ index: 0, rpm: 5400 }, { index: 1, rpm: 5520, percent: 80 }],
    pools: [
      { index: 0, url: 'stratum+tcp://farm.worker:s3cretpass@pool-a.example:3333', user: 'farm.worker', status: PoolStatus.POOL_STATUS_DEAD, active: false },
      { index: 1, url: 'stratum+tcp://pool-b.example:3333', user: 'farm.worker', status: PoolStatus.POOL_STATUS_ALIVE, active: true },
    ],
    errors: [{ kind: 'timeout', message: 'stats timed out after 5 s', command: 'stats' }],
    ...over,
  });
}

describe('MetricsService (real SQLite, own registry)', () => {
  let dir: TempDir;
  let db: SqliteDatabase;
  let rigs: RigRepository;
  let events: EventRepository;
  let metrics: MetricsService;
  let alerts: AlertService;
  const ingest = { counters: emptyIngestCounters(), pendingSnapshots: 0 };
  const reconcile = { counters: { reconciles: 40, errors: 2, timeouts: 1, decisions: 5, commands: 3, unsigned: 1 }, queueDepth: () => ({ queued: 4, running: 2 }) };
  const commands = { counters: { dispatched: 9, retried: 3, succeeded: 6, failed: 1, rejected: 1, timedOut: 1, unsigned: 1 } };
  let listCalls = 0;

  beforeEach(async () => {
    dir = makeTempDir();
    db = await SqliteDatabase.open(join(dir.path, 'rigwarden.db'));
    await migrate(db);
    rigs = new RigRepository(db);
    events = new EventRepository(db);
    alerts = new AlertService({}, events, { onRigUpdated: () => undefined }, new RigPresenceReader(db));
    alerts.clock = new ManualClock(T0);
    alerts.start(DEFAULT_ALERTS_CONFIG);
    listCalls = 0;
    const countingRigs = { listRigs: (limit: number, after: string) => { listCalls++; return rigs.listRigs(limit, after); } };
    Object.assign(ingest.counters, { received: 120, stored: 100, duplicates: 3, invalid: 2, states: 5, events: 4, results: 3, agentStatus: 6, flushes: 10, flushErrors: 1 });
    ingest.pendingSnapshots = 17;
    metrics = new MetricsService(countingRigs, events, ingest, reconcile, alerts, commands);
  });
  afterEach(async () => {
    await alerts.onModuleDestroy();
    await db.close();
    dir.remove();
  });

  it('exports rig, miner, board, fan and pool series from the latest stored status', async () => {
    await rigs.writeSnapshots([asic('rig-1', 1), asic('rig-1', 2, { hashrate5sHs: 111e12 }), asic('rig-2', 1, { hashrate5sHs: 50e12, boards: [], pools: [], fans: [], errors: [] })]);
    await rigs.writeState(RigState.fromPartial({ rigId: 'rig-2', agentId: 'agent-1', online: false, at: new Date(T0 + 5000) }));
    const parsed = parsePrometheusText(await metrics.render());

    expect(valueOf(parsed, 'rigwarden_miner_hashrate_hs', { rig: 'rig-1', miner: 'rig-1-m' })).toBe(111e12); // the newest snapshot
    expect(valueOf(parsed, 'rigwarden_fleet_hashrate_hs')).toBe(161e12);
    expect(valueOf(parsed, 'rigwarden_rigs', { state: 'online' })).toBe(1);
    expect(valueOf(parsed, 'rigwarden_rigs', { state: 'offline' })).toBe(1);
    expect(valueOf(parsed, 'rigwarden_rig_online', { rig: 'rig-2' })).toBe(0);
    expect(valueOf(parsed, 'rigwarden_rig_last_seen_timestamp_seconds', { rig: 'rig-1' })).toBe((T0 + 2000) / 1000);
    expect(valueOf(parsed, 'rigwarden_miner_power_watts', { rig: 'rig-1' })).toBe(3250);
    expect(valueOf(parsed, 'rigwarden_miner_uptime_seconds', { rig: 'rig-1' })).toBe(86400);
    expect(valueOf(parsed, 'rigwarden_miner_max_temperature_celsius', { rig: 'rig-1' })).toBe(76);
    expect(valueOf(parsed, 'rigwarden_miner_collect_errors', { rig: 'rig-1' })).toBe(1);
    expect(valueOf(parsed, 'rigwarden_miner_collect_errors', { rig: 'rig-2' })).toBe(0);
    expect(valueOf(parsed, 'rigwarden_miner_shares_total', { rig: 'rig-1', result: 'rejected' })).toBe(7);
    expect(parsed.types.get('rigwarden_miner_shares_total')).toBe('counter');
    expect(valueOf(parsed, 'rigwarden_miner_hardware_errors_total', { rig: 'rig-1' })).toBe(12);
    expect(valueOf(parsed, 'rigwarden_board_temperature_celsius', { rig: 'rig-1', board: '0', sensor: 'chip' })).toBe(76);
    expect(valueOf(parsed, 'rigwarden_board_temperature_celsius', { rig: 'rig-1', board: '1', sensor: 'board' })).toBe(58);
    expect(valueOf(parsed, 'rigwarden_board_hashrate_hs', { rig: 'rig-1', board: '0' })).toBe(36e12);
    expect(valueOf(parsed, 'rigwarden_board_ok', { rig: 'rig-1', board: '1' })).toBe(0);
    expect(valueOf(parsed, 'rigwarden_fan_rpm', { rig: 'rig-1', fan: '1' })).toBe(5520);
    expect(valueOf(parsed, 'rigwarden_fan_percent', { rig: 'rig-1', fan: '1' })).toBe(80);
    expect(samplesOf(parsed, 'rigwarden_fan_percent', { rig: 'rig-1', fan: '0' })).toEqual([]); // not reported: absent, never 0
    expect(valueOf(parsed, 'rigwarden_pool_up', { rig: 'rig-1', pool: '0' })).toBe(0);
    expect(valueOf(parsed, 'rigwarden_pool_active', { rig: 'rig-1', pool: '1' })).toBe(1);
    expect(valueOf(parsed, 'rigwarden_pools', { status: 'dead' })).toBe(1);
    expect(valueOf(parsed, 'rigwarden_pools', { status: 'alive' })).toBe(1);
    expect(samplesOf(parsed, 'rigwarden_board_temperature_celsius', { rig: 'rig-2' })).toEqual([]);
  });

  it('keeps labels to ids and indexes: no pool URL, credential, model or message reaches the exposition', async () => {
    await rigs.writeSnapshots([asic('rig-1', 1)]);
    const text = await metrics.render();
    for (const secret of ['s3cretpass', 'pool-a.example', 'stratum', 'farm.worker', 'Antminer', 'timed out']) expect(text).not.toContain(secret);
    const labelNames = new Set(parsePrometheusText(text).samples.flatMap((s) => Object.keys(s.labels)));
    for (const l of labelNames) expect(['agent', 'board', 'channel', 'driver', 'fan', 'kind', 'miner', 'outcome', 'pool', 'reason', 'result', 'rig', 'rule', 'sensor', 'severity', 'state', 'status']).toContain(l);
  });

  it('exports each agent\'s driver counters and outbox from the agents table', async () => {
    await events.recordAgentStatus(AgentStatus.fromPartial({
      agentId: 'agent-1', online: true, at: new Date(T0),
      drivers: [{ driver: 'cgminer', successes: 500, errors: 4, timeouts: 2, skipped: 1, lastDurationMs: 120, totalDurationMs: 60_000 }],
      outbox: { depth: 3, bytes: 4096, droppedFull: 1, droppedExpired: 2, droppedCorrupt: 0 },
    }));
    const parsed = parsePrometheusText(await metrics.render());
    expect(valueOf(parsed, 'rigwarden_agent_online', { agent: 'agent-1' })).toBe(1);
    expect(valueOf(parsed, 'rigwarden_agent_driver_collects_total', { agent: 'agent-1', driver: 'cgminer', outcome: 'success' })).toBe(500);
    expect(valueOf(parsed, 'rigwarden_agent_driver_collects_total', { agent: 'agent-1', driver: 'cgminer', outcome: 'timeout' })).toBe(2);
    expect(valueOf(parsed, 'rigwarden_agent_driver_collect_seconds_total', { agent: 'agent-1', driver: 'cgminer' })).toBe(60);
    expect(valueOf(parsed, 'rigwarden_agent_driver_last_duration_seconds', { agent: 'agent-1', driver: 'cgminer' })).toBe(0.12);
    expect(valueOf(parsed, 'rigwarden_agent_outbox_depth', { agent: 'agent-1' })).toBe(3);
    expect(valueOf(parsed, 'rigwarden_agent_outbox_dropped_total', { agent: 'agent-1', reason: 'expired' })).toBe(2);
  });

  it('exports ingest, reconcile, command and alert counters as they are at scrape time', async () => {
    await events.recordEvent(RigEvent.fromPartial({ eventId: 'e1', rigId: 'rig-9', kind: 'policy.quarantine', severity: 'critical', reason: 'ladder-exhausted', message: 'quarantined', at: new Date(T0) }), 'watchdog');
    let parsed = parsePrometheusText(await metrics.render());
    expect(valueOf(parsed, 'rigwarden_ingest_received_total')).toBe(120);
    expect(valueOf(parsed, 'rigwarden_ingest_snapshots_total', { outcome: 'duplicate' })).toBe(3);
    expect(valueOf(parsed, 'rigwarden_ingest_invalid_total')).toBe(2);
    expect(valueOf(parsed, 'rigwarden_ingest_messages_total', { kind: 'agent_status' })).toBe(6);
    expect(valueOf(parsed, 'rigwarden_ingest_flushes_total', { outcome: 'error' })).toBe(1);
    expect(valueOf(parsed, 'rigwarden_ingest_pending_snapshots')).toBe(17);
    expect(valueOf(parsed, 'rigwarden_reconcile_queue_depth', { state: 'queued' })).toBe(4);
    expect(valueOf(parsed, 'rigwarden_reconcile_total', { outcome: 'timeout' })).toBe(1);
    expect(valueOf(parsed, 'rigwarden_reconcile_commands_total', { outcome: 'unsigned' })).toBe(1);
    expect(valueOf(parsed, 'rigwarden_commands_dispatched_total')).toBe(9);
    expect(valueOf(parsed, 'rigwarden_commands_finished_total', { outcome: 'timed_out' })).toBe(1);
    expect(valueOf(parsed, 'rigwarden_alerts_active', { rule: 'quarantined', severity: 'critical' })).toBe(1);
    expect(valueOf(parsed, 'rigwarden_alert_since_timestamp_seconds', { rule: 'quarantined', rig: 'rig-9', severity: 'critical' })).toBe(T0 / 1000);
    expect(valueOf(parsed, 'rigwarden_alert_delivery_queue_depth')).toBe(0);

    ingest.counters.received = 130;
    parsed = parsePrometheusText(await metrics.render());
    expect(valueOf(parsed, 'rigwarden_ingest_received_total')).toBe(130);
  });

  it('exports the shard leases of a controller sharing the fleet, and none without --replica-id', async () => {
    const held = [{ shard: 3, epoch: 7 }, { shard: 40, epoch: 2 }];
    const ownership = { shared: true, counters: { takeovers: 12, renewFailures: 2, brokerReleases: 1 }, view: () => ({ replicaId: 'ctl-2', held, live: ['ctl-1', 'ctl-2', 'ctl-3'], shards: 64 }) };
    const liveness = { counters: { leftToOwner: 5, recordedOnTakeover: 1 } };
    const alerting = { counters: { leftToOwner: 3 }, active: () => [], deliveryCounts: () => [], queueDepth: () => 0 };
    const shared = new MetricsService({ listRigs: async () => [] }, events, ingest, reconcile, alerting, commands, undefined, ownership, liveness);
    let parsed = parsePrometheusText(await shared.render());
    expect(valueOf(parsed, 'rigwarden_ownership_shards_owned')).toBe(2);
    expect(valueOf(parsed, 'rigwarden_ownership_lease_epoch', { shard: '3' })).toBe(7);
    expect(valueOf(parsed, 'rigwarden_ownership_lease_epoch', { shard: '40' })).toBe(2);
    expect(valueOf(parsed, 'rigwarden_ownership_live_replicas')).toBe(3);
    expect(valueOf(parsed, 'rigwarden_ownership_takeovers_total')).toBe(12);
    expect(valueOf(parsed, 'rigwarden_ownership_lease_renew_failures_total')).toBe(2);
    expect(valueOf(parsed, 'rigwarden_ownership_broker_releases_total')).toBe(1);
    expect(valueOf(parsed, 'rigwarden_ownership_left_to_owner_total', { what: 'liveness_event' })).toBe(5);
    expect(valueOf(parsed, 'rigwarden_ownership_left_to_owner_total', { what: 'alert' })).toBe(3);
    expect(valueOf(parsed, 'rigwarden_ownership_recorded_on_takeover_total')).toBe(1);
    // Its leases lapse (a pause): no shard owned, no epoch series left over.
    held.splice(0);
    parsed = parsePrometheusText(await shared.render());
    expect(valueOf(parsed, 'rigwarden_ownership_shards_owned')).toBe(0);
    expect(samplesOf(parsed, 'rigwarden_ownership_lease_epoch')).toEqual([]);

    const alone = parsePrometheusText(await new MetricsService({ listRigs: async () => [] }, events, ingest, reconcile, undefined, commands, undefined, { ...ownership, shared: false }).render());
    expect([...alone.types.keys()].filter((n) => n.startsWith('rigwarden_ownership_'))).toEqual([]);
  });

  it('reads the fleet once per scrape, however many collectors use it, and again on the next scrape', async () => {
    await rigs.writeSnapshots([asic('rig-1', 1)]);
    await metrics.render();
    expect(listCalls).toBe(1);
    await rigs.writeSnapshots([asic('rig-1', 2, { hashrate5sHs: 99e12 })]);
    const parsed = parsePrometheusText(await metrics.render());
    expect(listCalls).toBe(2);
    expect(valueOf(parsed, 'rigwarden_miner_hashrate_hs', { rig: 'rig-1' })).toBe(99e12);
  });

  it('pages through more rigs than one read returns', async () => {
    const batch = Array.from({ length: 2500 }, (_, i) => asic(`rig-${String(i).padStart(5, '0')}`, 1, { boards: [], fans: [], pools: [], errors: [] }));
    await rigs.writeSnapshots(batch);
    const parsed = parsePrometheusText(await metrics.render());
    expect(samplesOf(parsed, 'rigwarden_rig_online')).toHaveLength(2500);
    expect(listCalls).toBe(3);
  });

  it('serves the exposition over real HTTP with the Prometheus content type', async () => {
    await rigs.writeSnapshots([asic('rig-1', 1)]);
    const server: Server = createServer((req, res) => {
      if (req.url !== '/metrics') { res.writeHead(404).end(); return; }
      metrics.render().then((body) => res.writeHead(200, { 'content-type': metrics.contentType }).end(body), (err: Error) => res.writeHead(500).end(err.message));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const parsed = parsePrometheusText(await res.text());
      expect(valueOf(parsed, 'rigwarden_miner_hashrate_hs', { rig: 'rig-1' })).toBe(110e12);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
