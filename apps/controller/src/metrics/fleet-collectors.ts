import { Counter, Gauge, type Registry } from 'prom-client';
import { BoardStatus, PoolStatus, type AgentStatus, type MinerSnapshot } from '@rigwarden/protocol';
import type { RigRecord } from '../persistence/rig-repository';

/** What one scrape reads: every rig with its latest miner status, and every agent's latest status. */
export interface FleetView {
  rigs: RigRecord[];
  agents: AgentStatus[];
  /** How long reading it took, in seconds. */
  readSeconds: number;
}

const POOL_STATUS: Partial<Record<PoolStatus, string>> = {
  [PoolStatus.POOL_STATUS_UNSPECIFIED]: 'unknown',
  [PoolStatus.POOL_STATUS_ALIVE]: 'alive',
  [PoolStatus.POOL_STATUS_DEAD]: 'dead',
  [PoolStatus.POOL_STATUS_DISABLED]: 'disabled',
  [PoolStatus.POOL_STATUS_REJECTING]: 'rejecting',
  [PoolStatus.POOL_STATUS_UNKNOWN]: 'unknown',
};

type Labels<N extends string> = Record<N, string>;

/**
 * Per-rig, per-miner and per-agent series, filled at scrape time from the latest status (never per message).
 * Labels are ids and small indexes only: rig, miner, board, fan, pool index, agent, driver. No pool URLs (they can
 * carry credentials), no models or messages (free text).
 */
export function registerFleetCollectors(registry: Registry, view: () => Promise<FleetView>): void {
  const registers = [registry];
  const gauge = <N extends string>(name: string, help: string, labelNames: readonly N[], fill: (g: Gauge<N>, v: FleetView) => void): void => {
    new Gauge<N>({
      name, help, labelNames, registers,
      async collect() {
        const v = await view();
        this.reset();
        fill(this, v);
      },
    });
  };
  // Monotonic counts reported by miners and agents: exported as counters (rate() handles their resets on restart).
  const counter = <N extends string>(name: string, help: string, labelNames: readonly N[], fill: (c: Counter<N>, v: FleetView) => void): void => {
    new Counter<N>({
      name, help, labelNames, registers,
      async collect() {
        const v = await view();
        this.reset();
        fill(this, v);
      },
    });
  };
  const eachMiner = (v: FleetView, f: (rig: string, m: MinerSnapshot) => void): void => {
    for (const r of v.rigs) for (const m of r.miners) f(r.rigId, m);
  };
  const set = <N extends string>(g: Gauge<N>, labels: Labels<N>, value: number | undefined): void => {
    if (value !== undefined && Number.isFinite(value)) g.set(labels, value);
  };
  const add = <N extends string>(c: Counter<N>, labels: Labels<N>, value: number | undefined): void => {
    if (value !== undefined && Number.isFinite(value) && value >= 0) c.inc(labels, value);
  };

  gauge('rigwarden_rigs', 'Rigs known to the controller, by agent state.', ['state'], (g, v) => {
    const online = v.rigs.filter((r) => r.online).length;
    g.set({ state: 'online' }, online);
    g.set({ state: 'offline' }, v.rigs.length - online);
  });
  gauge('rigwarden_fleet_hashrate_hs', 'Sum of every miner\'s latest hashrate, in H/s (5 s window, else average).', [], (g, v) => {
    let sum = 0;
    eachMiner(v, (_rig, m) => { sum += m.hashrate5sHs ?? m.hashrateAvgHs ?? 0; });
    g.set(sum);
  });
  gauge('rigwarden_rig_online', '1 while the rig\'s agent is connected (retained birth/last-will state), else 0.', ['rig'], (g, v) => {
    for (const r of v.rigs) g.set({ rig: r.rigId }, r.online ? 1 : 0);
  });
  gauge('rigwarden_rig_last_seen_timestamp_seconds', 'When the rig\'s newest stored snapshot was collected (Unix seconds).', ['rig'], (g, v) => {
    for (const r of v.rigs) if (r.lastSeen) g.set({ rig: r.rigId }, r.lastSeen.getTime() / 1000);
  });
  gauge('rigwarden_miner_hashrate_hs', 'Latest hashrate over the miner\'s shortest window (5 s, else its average), in H/s.', ['rig', 'miner'], (g, v) => {
    eachMiner(v, (rig, m) => set(g, { rig, miner: m.minerId }, m.hashrate5sHs ?? m.hashrateAvgHs));
  });
  gauge('rigwarden_miner_hashrate_avg_hs', 'Hashrate averaged since the miner started, in H/s.', ['rig', 'miner'], (g, v) => {
    eachMiner(v, (rig, m) => set(g, { rig, miner: m.minerId }, m.hashrateAvgHs));
  });
  gauge('rigwarden_miner_power_watts', 'Power drawn, as the miner reports it, in W.', ['rig', 'miner'], (g, v) => {
    eachMiner(v, (rig, m) => set(g, { rig, miner: m.minerId }, m.powerW));
  });
  gauge('rigwarden_miner_uptime_seconds', 'Miner uptime, in seconds.', ['rig', 'miner'], (g, v) => {
    eachMiner(v, (rig, m) => set(g, { rig, miner: m.minerId }, m.uptimeS));
  });
  gauge('rigwarden_miner_max_temperature_celsius', 'Hottest board or chip sensor of the miner, in °C.', ['rig', 'miner'], (g, v) => {
    eachMiner(v, (rig, m) => {
      let max: number | undefined;
      for (const b of m.boards) for (const t of [b.boardTempC, b.chipTempC]) if (t !== undefined && (max === undefined || t > max)) max = t;
      set(g, { rig, miner: m.minerId }, max);
    });
  });
  gauge('rigwarden_miner_collect_errors', 'Errors in the newest snapshot (0 when the miner answered every command).', ['rig', 'miner'], (g, v) => {
    eachMiner(v, (rig, m) => g.set({ rig, miner: m.minerId }, m.errors.length));
  });
  counter('rigwarden_miner_shares_total', 'Shares the miner reports since it started, by result.', ['rig', 'miner', 'result'], (c, v) => {
    eachMiner(v, (rig, m) => {
      add(c, { rig, miner: m.minerId, result: 'accepted' }, m.accepted);
      add(c, { rig, miner: m.minerId, result: 'rejected' }, m.rejected);
      add(c, { rig, miner: m.minerId, result: 'stale' }, m.stale);
    });
  });
  counter('rigwarden_miner_hardware_errors_total', 'Hardware errors the miner reports since it started.', ['rig', 'miner'], (c, v) => {
    eachMiner(v, (rig, m) => add(c, { rig, miner: m.minerId }, m.hwErrors));
  });
  gauge('rigwarden_board_temperature_celsius', 'Hash board or GPU temperature, by sensor (board, chip), in °C.', ['rig', 'miner', 'board', 'sensor'], (g, v) => {
    eachMiner(v, (rig, m) => {
      for (const b of m.boards) {
        const board = String(b.index);
        set(g, { rig, miner: m.minerId, board, sensor: 'board' }, b.boardTempC);
        set(g, { rig, miner: m.minerId, board, sensor: 'chip' }, b.chipTempC);
      }
    });
  });
  gauge('rigwarden_board_hashrate_hs', 'Hash board or GPU hashrate, in H/s.', ['rig', 'miner', 'board'], (g, v) => {
    eachMiner(v, (rig, m) => { for (const b of m.boards) set(g, { rig, miner: m.minerId, board: String(b.index) }, b.hashrateHs); });
  });
  gauge('rigwarden_board_ok', '1 while the board or GPU hashes, 0 when it is dead or disabled.', ['rig', 'miner', 'board'], (g, v) => {
    eachMiner(v, (rig, m) => {
      for (const b of m.boards) {
        if (b.status !== BoardStatus.BOARD_STATUS_OK && b.status !== BoardStatus.BOARD_STATUS_DEAD && b.status !== BoardStatus.BOARD_STATUS_DISABLED) continue;
        g.set({ rig, miner: m.minerId, board: String(b.index) }, b.status === BoardStatus.BOARD_STATUS_OK ? 1 : 0);
      }
    });
  });
  gauge('rigwarden_board_power_watts', 'GPU power draw, in W.', ['rig', 'miner', 'board'], (g, v) => {
    eachMiner(v, (rig, m) => { for (const b of m.boards) set(g, { rig, miner: m.minerId, board: String(b.index) }, b.powerW); });
  });
  gauge('rigwarden_board_fan_percent', 'GPU fan speed, in percent.', ['rig', 'miner', 'board'], (g, v) => {
    eachMiner(v, (rig, m) => { for (const b of m.boards) set(g, { rig, miner: m.minerId, board: String(b.index) }, b.fanPercent); });
  });
  gauge('rigwarden_fan_rpm', 'Chassis fan speed, in RPM.', ['rig', 'miner', 'fan'], (g, v) => {
    eachMiner(v, (rig, m) => { for (const f of m.fans) set(g, { rig, miner: m.minerId, fan: String(f.index) }, f.rpm); });
  });
  gauge('rigwarden_fan_percent', 'Chassis fan speed, in percent.', ['rig', 'miner', 'fan'], (g, v) => {
    eachMiner(v, (rig, m) => { for (const f of m.fans) set(g, { rig, miner: m.minerId, fan: String(f.index) }, f.percent); });
  });
  gauge('rigwarden_pool_up', '1 while the miner reports the pool alive, else 0. The pool label is the miner\'s pool index.', ['rig', 'miner', 'pool'], (g, v) => {
    eachMiner(v, (rig, m) => { for (const p of m.pools) g.set({ rig, miner: m.minerId, pool: String(p.index) }, p.status === PoolStatus.POOL_STATUS_ALIVE ? 1 : 0); });
  });
  gauge('rigwarden_pool_active', '1 for the pool the miner is hashing on right now, else 0.', ['rig', 'miner', 'pool'], (g, v) => {
    eachMiner(v, (rig, m) => { for (const p of m.pools) g.set({ rig, miner: m.minerId, pool: String(p.index) }, p.active ? 1 : 0); });
  });
  gauge('rigwarden_pools', 'Pools configured on every miner of the fleet, by reported status.', ['status'], (g, v) => {
    const counts = new Map<string, number>(['alive', 'dead', 'disabled', 'rejecting', 'unknown'].map((s) => [s, 0]));
    eachMiner(v, (_rig, m) => { for (const p of m.pools) { const s = POOL_STATUS[p.status] ?? 'unknown'; counts.set(s, (counts.get(s) ?? 0) + 1); } });
    for (const [status, n] of counts) g.set({ status }, n);
  });

  gauge('rigwarden_agent_online', '1 while the agent is connected (its retained status), else 0.', ['agent'], (g, v) => {
    for (const a of v.agents) g.set({ agent: a.agentId }, a.online ? 1 : 0);
  });
  counter('rigwarden_agent_driver_collects_total', 'Collect runs per agent and driver since the agent started, by outcome.', ['agent', 'driver', 'outcome'], (c, v) => {
    for (const a of v.agents) {
      for (const d of a.drivers) {
        add(c, { agent: a.agentId, driver: d.driver, outcome: 'success' }, d.successes);
        add(c, { agent: a.agentId, driver: d.driver, outcome: 'error' }, d.errors);
        add(c, { agent: a.agentId, driver: d.driver, outcome: 'timeout' }, d.timeouts);
        add(c, { agent: a.agentId, driver: d.driver, outcome: 'skipped' }, d.skipped);
      }
    }
  });
  counter('rigwarden_agent_driver_collect_seconds_total', 'Time spent collecting per agent and driver since the agent started.', ['agent', 'driver'], (c, v) => {
    for (const a of v.agents) for (const d of a.drivers) add(c, { agent: a.agentId, driver: d.driver }, d.totalDurationMs / 1000);
  });
  gauge('rigwarden_agent_driver_last_duration_seconds', 'Duration of the driver\'s last collect run.', ['agent', 'driver'], (g, v) => {
    for (const a of v.agents) for (const d of a.drivers) g.set({ agent: a.agentId, driver: d.driver }, d.lastDurationMs / 1000);
  });
  gauge('rigwarden_agent_outbox_depth', 'Telemetry messages held by the agent\'s store-and-forward outbox.', ['agent'], (g, v) => {
    for (const a of v.agents) if (a.outbox) g.set({ agent: a.agentId }, a.outbox.depth);
  });
  gauge('rigwarden_agent_outbox_bytes', 'Bytes held by the agent\'s store-and-forward outbox.', ['agent'], (g, v) => {
    for (const a of v.agents) if (a.outbox) g.set({ agent: a.agentId }, a.outbox.bytes);
  });
  counter('rigwarden_agent_outbox_dropped_total', 'Telemetry messages the agent\'s outbox dropped, by reason.', ['agent', 'reason'], (c, v) => {
    for (const a of v.agents) {
      if (!a.outbox) continue;
      add(c, { agent: a.agentId, reason: 'full' }, a.outbox.droppedFull);
      add(c, { agent: a.agentId, reason: 'expired' }, a.outbox.droppedExpired);
      add(c, { agent: a.agentId, reason: 'corrupt' }, a.outbox.droppedCorrupt);
    }
  });
  gauge('rigwarden_metrics_fleet_read_seconds', 'How long this scrape took to read the fleet\'s latest status from SQLite.', [], (g, v) => {
    g.set(v.readSeconds);
  });
}
