import { join } from 'node:path';
import { AgentStatus, BoardStatus, MinerSnapshot, PoolStatus, RigEvent, RigState } from '@rigwarden/protocol';
import { ManualClock, createLogger } from '@rigwarden/shared';
import { AlertService } from '../alerts/alert.service';
import { DEFAULT_ALERTS_CONFIG } from '../alerts/alerts-config';
import { RigPresenceReader } from '../alerts/rig-presence.reader';
import { emptyIngestCounters } from '../ingest/ingest-counters';
import { EventRepository } from '../persistence/event-repository';
import { migrate } from '../persistence/migrations';
import { LivenessRepository } from '../persistence/liveness.repository';
import { RigRepository } from '../persistence/rig-repository';
import { SqliteDatabase } from '../persistence/sqlite-database';
import { MetricsService } from './metrics.service';

const T0 = Date.parse('2026-12-01T10:00:00Z');

/** An ASIC like an Antminer S19: 3 boards, 4 fans, 3 pools. Every optional field set, so every series exists. */
export function asicSnapshot(rigId: string, seq: number, agentId: string): MinerSnapshot {
  return MinerSnapshot.fromPartial({
    rigId, minerId: '10.0.0.1:4028', seq, agentId, driver: 'cgminer', collectedAt: new Date(T0 + seq * 1000),
    hashrate5sHs: 110e12, hashrateAvgHs: 109e12, accepted: 1000 + seq, rejected: 3, stale: 1, hwErrors: 12, powerW: 3250, uptimeS: 86400,
    boards: [0, 1, 2].map((index) => ({ index, hashrateHs: 36.6e12, boardTempC: 60 + index, chipTempC: 75 + index, status: BoardStatus.BOARD_STATUS_OK })),
    fans: [0, 1, 2, 3].map((index) => ({ index, rpm: 5400 + index, percent: 70 })),
    pools: [0, 1, 2].map((index) => ({ index, url: `stratum+tcp://pool-${index}.example:3333`, user: 'farm.worker', status: PoolStatus.POOL_STATUS_ALIVE, active: index === 0 })),
  });
}

/** A GPU rig: per-GPU power and fan. */
export function gpuSnapshot(rigId: string, seq: number, agentId: string): MinerSnapshot {
  return MinerSnapshot.fromPartial({
    rigId, minerId: '127.0.0.1:4067', seq, agentId, driver: 't-rex', collectedAt: new Date(T0 + seq * 1000),
    hashrate5sHs: 360e6, accepted: 500, rejected: 1, powerW: 900,
    boards: [0, 1, 2, 3, 4, 5].map((index) => ({ index, hashrateHs: 60e6, boardTempC: 62, powerW: 150, fanPercent: 65, status: BoardStatus.BOARD_STATUS_OK })),
    pools: [{ index: 0, url: 'stratum+tcp://gpu-pool.example:4444', user: 'w', status: PoolStatus.POOL_STATUS_ALIVE, active: true }],
  });
}

export interface MetricsFixture {
  readonly metrics: MetricsService;
  readonly db: SqliteDatabase;
  close(): Promise<void>;
}

/**
 * A controller's metrics over a real SQLite file holding `rigs` rigs (every 10th a GPU rig, every 50th offline),
 * one agent per 100 rigs with driver counters, an active alert, and non-zero controller counters.
 */
export async function populatedMetrics(dir: string, rigs: number): Promise<MetricsFixture> {
  const db = await SqliteDatabase.open(join(dir, 'rigwarden.db'));
  await migrate(db);
  const rigRepo = new RigRepository(db);
  const events = new EventRepository(db);
  const batch: MinerSnapshot[] = [];
  for (let i = 0; i < rigs; i++) {
    const rigId = `rig-${String(i).padStart(5, '0')}`;
    const agentId = `agent-${Math.floor(i / 100)}`;
    batch.push(i % 10 === 9 ? gpuSnapshot(rigId, 1, agentId) : asicSnapshot(rigId, 1, agentId));
    if (batch.length === 2000) await rigRepo.writeSnapshots(batch.splice(0));
  }
  await rigRepo.writeSnapshots(batch);
  for (let i = 0; i < rigs; i += 50) {
    await rigRepo.writeState(RigState.fromPartial({ rigId: `rig-${String(i).padStart(5, '0')}`, online: false, at: new Date(T0 + 60_000) }));
  }
  // The liveness sweep's verdicts, as LivenessService writes them.
  await new LivenessRepository(db).write(Array.from({ length: rigs }, (_, i) => ({
    rigId: `rig-${String(i).padStart(5, '0')}`,
    verdict: i % 50 === 0
      ? { state: 'offline', reason: 'rig-state-offline', message: 'the rig\'s retained state says offline', since: T0 + 60_000, online: false }
      : { state: 'online', reason: 'telemetry-fresh', message: 'telemetry expected every 5 s', since: T0, online: true },
  })));
  for (let a = 0; a * 100 < rigs; a++) {
    await events.recordAgentStatus(AgentStatus.fromPartial({
      agentId: `agent-${a}`, online: true, at: new Date(T0),
      drivers: [{ driver: 'cgminer', successes: 9000, errors: 12, timeouts: 3, skipped: 1, lastDurationMs: 140, totalDurationMs: 1_200_000 }, { driver: 't-rex', successes: 900, errors: 1, timeouts: 0, skipped: 0, lastDurationMs: 20, totalDurationMs: 18_000 }],
      outbox: { depth: 0, bytes: 0, droppedFull: 0, droppedExpired: 0, droppedCorrupt: 0 },
    }));
  }
  const alerts = new AlertService({}, events, { onRigUpdated: () => undefined }, new RigPresenceReader(db));
  alerts.clock = new ManualClock(T0);
  alerts.start({ ...DEFAULT_ALERTS_CONFIG, channels: [{ name: 'ops', type: 'generic', url: 'http://127.0.0.1:9/unused', minSeverity: 'critical', rules: ['pool-down'], rateLimit: { burst: 1, perMinute: 1 }, secrets: [] }] }, { logger: createLogger('fixture', { write: () => undefined }) });
  await events.recordEvent(RigEvent.fromPartial({ eventId: 'fixture-q', rigId: 'rig-00001', kind: 'policy.quarantine', severity: 'critical', reason: 'ladder-exhausted', message: 'quarantined', at: new Date(T0) }), 'watchdog');
  const ingest = { counters: { ...emptyIngestCounters(), received: rigs * 10, stored: rigs * 9, duplicates: rigs, flushes: 50 }, pendingSnapshots: 0 };
  const reconcile = { counters: { reconciles: rigs, errors: 0, timeouts: 0, decisions: 3, commands: 2, unsigned: 0 }, queueDepth: () => ({ queued: 0, running: 0 }) };
  const commands = { counters: { dispatched: 2, retried: 1, succeeded: 2, failed: 0, rejected: 0, timedOut: 0, unsigned: 0 } };
  const broker = { refusals: { snapshot: (): Array<[string, number]> => [['bad_credentials', 2], ['publish', 5], ['subscribe', 1]] } };
  // A controller sharing the fleet (--replica-id) holding 3 of 64 shards.
  const ownership = {
    shared: true, counters: { takeovers: 5, renewFailures: 1, brokerReleases: 0 },
    view: () => ({ replicaId: 'ctl-1', held: [{ shard: 0, epoch: 4 }, { shard: 7, epoch: 2 }, { shard: 63, epoch: 9 }], live: ['ctl-1', 'ctl-2'], shards: 64 }),
  };
  const metrics = new MetricsService(rigRepo, events, ingest, reconcile, alerts, commands, broker, ownership);
  return {
    metrics,
    db,
    async close() {
      await alerts.onModuleDestroy();
      await db.close();
    },
  };
}
