import { BoardStatus, PoolStatus, type MinerSnapshot } from '@rigwarden/protocol';
import type { RigRecord } from '../persistence/rig-repository';

/** What one scrape reads: every rig with its latest miner status. */
export interface FleetView {
  readonly rigs: readonly RigRecord[];
  /** How long reading it took, in seconds. */
  readonly readSeconds: number;
}

/**
 * Writes one sample. `labels` is a label set already in exposition form (`rig="r1",miner="m1"`): per-miner label
 * sets are escaped once per scrape and shared by every family.
 */
type Emit = (labels: string, value: number | undefined) => void;

/** One metric family of per-rig series, filled from the view at scrape time. */
export interface FleetFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  fill(view: PreparedView, emit: Emit): void;
}

/** The view with every rig's and miner's label set escaped once. */
export interface PreparedView {
  readonly view: FleetView;
  readonly rigs: ReadonlyArray<{ readonly labels: string; readonly rig: RigRecord }>;
  readonly miners: ReadonlyArray<{ readonly labels: string; readonly m: MinerSnapshot }>;
}

export function prepareView(view: FleetView): PreparedView {
  const rigs: Array<{ labels: string; rig: RigRecord }> = [];
  const miners: Array<{ labels: string; m: MinerSnapshot }> = [];
  const seenMiners = new Set<string>();
  for (const rig of view.rigs) {
    const labels = `rig="${escapeLabel(rig.rigId)}"`;
    rigs.push({ labels, rig });
    for (const m of rig.miners) {
      const minerLabels = `${labels},miner="${escapeLabel(m.minerId)}"`;
      if (seenMiners.has(minerLabels)) continue;
      seenMiners.add(minerLabels);
      miners.push({ labels: minerLabels, m });
    }
  }
  return { view, rigs, miners };
}

/** Items of a miner by index, the first of each index only (a duplicated board must not become a duplicate series). */
function byIndex<T extends { index: number }>(items: readonly T[]): readonly T[] {
  if (items.length < 2) return items;
  const seen: number[] = [];
  const out: T[] = [];
  for (const item of items) {
    if (seen.includes(item.index)) continue;
    seen.push(item.index);
    out.push(item);
  }
  return out;
}

const POOL_STATUS: Partial<Record<PoolStatus, string>> = {
  [PoolStatus.POOL_STATUS_ALIVE]: 'alive',
  [PoolStatus.POOL_STATUS_DEAD]: 'dead',
  [PoolStatus.POOL_STATUS_DISABLED]: 'disabled',
  [PoolStatus.POOL_STATUS_REJECTING]: 'rejecting',
};


function maxTemp(m: MinerSnapshot): number | undefined {
  let max: number | undefined;
  for (const b of m.boards) for (const t of [b.boardTempC, b.chipTempC]) if (t !== undefined && (max === undefined || t > max)) max = t;
  return max;
}

const gauge = (name: string, help: string, fill: FleetFamily['fill']): FleetFamily => ({ name, help, type: 'gauge', fill });
// Monotonic counts reported by miners: exported as counters (rate() handles their resets when a miner restarts).
const counter = (name: string, help: string, fill: FleetFamily['fill']): FleetFamily => ({ name, help, type: 'counter', fill });

/**
 * Per-rig, per-miner, per-board, per-fan and per-pool series. Labels are ids and small indexes only: rig, miner,
 * board, fan, pool (the miner's pool index), sensor, result, state, status. No pool URLs (they can carry
 * credentials), no models or messages (free text).
 */
export const FLEET_FAMILIES: readonly FleetFamily[] = [
  gauge('rigwarden_rigs', 'Rigs known to the controller, by agent state.', (p, emit) => {
    const online = p.rigs.filter((r) => r.rig.online).length;
    emit('state="online"', online);
    emit('state="offline"', p.rigs.length - online);
  }),
  gauge('rigwarden_fleet_hashrate_hs', 'Sum of every miner\'s latest hashrate, in H/s (5 s window, else average).', (p, emit) => {
    let sum = 0;
    for (const { m } of p.miners) sum += m.hashrate5sHs ?? m.hashrateAvgHs ?? 0;
    emit('', sum);
  }),
  gauge('rigwarden_rig_online', '1 while the controller judges the rig reporting (liveness online or miner-unreachable), else 0.', (p, emit) => {
    for (const { labels, rig } of p.rigs) emit(labels, rig.online ? 1 : 0);
  }),
  gauge('rigwarden_rigs_liveness', 'Rigs by the controller\'s liveness verdict (online, stale, offline, miner-unreachable).', (p, emit) => {
    const counts: Record<string, number> = { online: 0, stale: 0, offline: 0, 'miner-unreachable': 0 };
    for (const { rig } of p.rigs) if (rig.liveness && rig.liveness in counts) counts[rig.liveness]!++;
    for (const [state, n] of Object.entries(counts)) emit(`state="${state}"`, n);
  }),
  gauge('rigwarden_rig_liveness', '1 for the rig\'s liveness state as the controller judged it (telemetry age, agent last will): one series per rig.', (p, emit) => {
    for (const { labels, rig } of p.rigs) if (rig.liveness) emit(`${labels},state="${escapeLabel(rig.liveness)}"`, 1);
  }),
  gauge('rigwarden_rig_last_seen_timestamp_seconds', 'When the rig\'s newest stored snapshot was collected (Unix seconds).', (p, emit) => {
    for (const { labels, rig } of p.rigs) emit(labels, rig.lastSeen ? rig.lastSeen.getTime() / 1000 : undefined);
  }),
  gauge('rigwarden_miner_hashrate_hs', 'Latest hashrate over the miner\'s shortest window (5 s, else its average), in H/s.', (p, emit) => {
    for (const { labels, m } of p.miners) emit(labels, m.hashrate5sHs ?? m.hashrateAvgHs);
  }),
  gauge('rigwarden_miner_hashrate_avg_hs', 'Hashrate averaged since the miner started, in H/s.', (p, emit) => {
    for (const { labels, m } of p.miners) emit(labels, m.hashrateAvgHs);
  }),
  gauge('rigwarden_miner_power_watts', 'Power drawn, as the miner reports it, in W.', (p, emit) => {
    for (const { labels, m } of p.miners) emit(labels, m.powerW);
  }),
  gauge('rigwarden_miner_uptime_seconds', 'Miner uptime, in seconds.', (p, emit) => {
    for (const { labels, m } of p.miners) emit(labels, m.uptimeS);
  }),
  gauge('rigwarden_miner_max_temperature_celsius', 'Hottest board or chip sensor of the miner, in °C.', (p, emit) => {
    for (const { labels, m } of p.miners) emit(labels, maxTemp(m));
  }),
  gauge('rigwarden_miner_collect_errors', 'Errors in the newest snapshot (0 when the miner answered every command).', (p, emit) => {
    for (const { labels, m } of p.miners) emit(labels, m.errors.length);
  }),
  counter('rigwarden_miner_shares_total', 'Shares the miner reports since it started, by result.', (p, emit) => {
    for (const { labels, m } of p.miners) {
      emit(`${labels},result="accepted"`, m.accepted);
      emit(`${labels},result="rejected"`, m.rejected);
      emit(`${labels},result="stale"`, m.stale);
    }
  }),
  counter('rigwarden_miner_hardware_errors_total', 'Hardware errors the miner reports since it started.', (p, emit) => {
    for (const { labels, m } of p.miners) emit(labels, m.hwErrors);
  }),
  gauge('rigwarden_board_temperature_celsius', 'Hash board or GPU temperature, by sensor (board, chip), in °C.', (p, emit) => {
    for (const { labels, m } of p.miners) {
      for (const b of byIndex(m.boards)) {
        emit(`${labels},board="${b.index}",sensor="board"`, b.boardTempC);
        emit(`${labels},board="${b.index}",sensor="chip"`, b.chipTempC);
      }
    }
  }),
  gauge('rigwarden_board_hashrate_hs', 'Hash board or GPU hashrate, in H/s.', (p, emit) => {
    for (const { labels, m } of p.miners) for (const b of byIndex(m.boards)) emit(`${labels},board="${b.index}"`, b.hashrateHs);
  }),
  gauge('rigwarden_board_ok', '1 while the board or GPU hashes, 0 when it is dead or disabled.', (p, emit) => {
    for (const { labels, m } of p.miners) {
      for (const b of byIndex(m.boards)) {
        if (b.status !== BoardStatus.BOARD_STATUS_OK && b.status !== BoardStatus.BOARD_STATUS_DEAD && b.status !== BoardStatus.BOARD_STATUS_DISABLED) continue;
        emit(`${labels},board="${b.index}"`, b.status === BoardStatus.BOARD_STATUS_OK ? 1 : 0);
      }
    }
  }),
  gauge('rigwarden_board_power_watts', 'GPU power draw, in W.', (p, emit) => {
    for (const { labels, m } of p.miners) for (const b of byIndex(m.boards)) emit(`${labels},board="${b.index}"`, b.powerW);
  }),
  gauge('rigwarden_board_fan_percent', 'GPU fan speed, in percent.', (p, emit) => {
    for (const { labels, m } of p.miners) for (const b of byIndex(m.boards)) emit(`${labels},board="${b.index}"`, b.fanPercent);
  }),
  gauge('rigwarden_fan_rpm', 'Chassis fan speed, in RPM.', (p, emit) => {
    for (const { labels, m } of p.miners) for (const f of byIndex(m.fans)) emit(`${labels},fan="${f.index}"`, f.rpm);
  }),
  gauge('rigwarden_fan_percent', 'Chassis fan speed, in percent.', (p, emit) => {
    for (const { labels, m } of p.miners) for (const f of byIndex(m.fans)) emit(`${labels},fan="${f.index}"`, f.percent);
  }),
  gauge('rigwarden_pool_up', '1 while the miner reports the pool alive, else 0. The pool label is the miner\'s pool index.', (p, emit) => {
    for (const { labels, m } of p.miners) for (const pool of byIndex(m.pools)) emit(`${labels},pool="${pool.index}"`, pool.status === PoolStatus.POOL_STATUS_ALIVE ? 1 : 0);
  }),
  gauge('rigwarden_pool_active', '1 for the pool the miner is hashing on right now, else 0.', (p, emit) => {
    for (const { labels, m } of p.miners) for (const pool of byIndex(m.pools)) emit(`${labels},pool="${pool.index}"`, pool.active ? 1 : 0);
  }),
  gauge('rigwarden_pools', 'Pools configured on every miner of the fleet, by reported status.', (p, emit) => {
    const counts = new Map<string, number>(['alive', 'dead', 'disabled', 'rejecting', 'unknown'].map((s) => [s, 0]));
    for (const { m } of p.miners) for (const pool of m.pools) { const s = POOL_STATUS[pool.status] ?? 'unknown'; counts.set(s, (counts.get(s) ?? 0) + 1); }
    for (const [status, n] of counts) emit(`status="${status}"`, n);
  }),
  gauge('rigwarden_metrics_fleet_read_seconds', 'How long this scrape took to read the fleet\'s latest status from SQLite.', (p, emit) => emit('', p.view.readSeconds)),
];

/** Label values escaped as the text format wants (backslash, double quote, newline). */
function escapeLabel(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
}

function escapeHelp(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/**
 * Writes the fleet families in the Prometheus text format (0.0.4). prom-client's per-series bookkeeping (a label
 * hash map rebuilt on every scrape) costs seconds and hundreds of MB at 10,000 rigs (~380,000 series), so these
 * series are written straight from the view: label sets escaped once per miner, one string per series, absent and
 * non-finite values skipped (never 0), negative counters skipped. Rig ids are unique, a (rig, miner) pair and a
 * board, fan or pool index within a miner are written once, so no series is written twice.
 */
export function writeFleetExposition(view: FleetView, families: readonly FleetFamily[] = FLEET_FAMILIES): string {
  const prepared = prepareView(view);
  let out = '';
  for (const family of families) {
    out += `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`;
    const name = family.name;
    const isCounter = family.type === 'counter';
    family.fill(prepared, (labels, value) => {
      if (value === undefined || !Number.isFinite(value) || (isCounter && value < 0)) return;
      out += labels ? `${name}{${labels}} ${value}\n` : `${name} ${value}\n`;
    });
    out += '\n';
  }
  return out;
}
