import { Counter, Gauge, type Registry } from 'prom-client';
import type { AgentStatus } from '@rigwarden/protocol';

type Labels<N extends string> = Record<N, string>;

/**
 * Each agent's own health from its retained status (the agents table): connection, per-driver collect outcomes and
 * durations, and its store-and-forward outbox. Read once per scrape through `agents()`, shared by every collector.
 */
export function registerAgentCollectors(registry: Registry, agents: () => Promise<readonly AgentStatus[]>): void {
  const registers = [registry];
  const gauge = <N extends string>(name: string, help: string, labelNames: readonly N[], fill: (g: Gauge<N>, a: readonly AgentStatus[]) => void): void => {
    new Gauge<N>({ name, help, labelNames, registers, async collect() { const a = await agents(); this.reset(); fill(this, a); } });
  };
  // The agent's counts since it started: counters (rate() handles the reset when an agent restarts).
  const counter = <N extends string>(name: string, help: string, labelNames: readonly N[], fill: (c: Counter<N>, a: readonly AgentStatus[]) => void): void => {
    new Counter<N>({ name, help, labelNames, registers, async collect() { const a = await agents(); this.reset(); fill(this, a); } });
  };
  const add = <N extends string>(c: Counter<N>, labels: Labels<N>, value: number): void => {
    if (Number.isFinite(value) && value >= 0) c.inc(labels, value);
  };

  gauge('rigwarden_agent_online', '1 while the agent is connected (its retained status), else 0.', ['agent'], (g, all) => {
    for (const a of all) g.set({ agent: a.agentId }, a.online ? 1 : 0);
  });
  counter('rigwarden_agent_driver_collects_total', 'Collect runs per agent and driver since the agent started, by outcome.', ['agent', 'driver', 'outcome'], (c, all) => {
    for (const a of all) {
      for (const d of a.drivers) {
        add(c, { agent: a.agentId, driver: d.driver, outcome: 'success' }, d.successes);
        add(c, { agent: a.agentId, driver: d.driver, outcome: 'error' }, d.errors);
        add(c, { agent: a.agentId, driver: d.driver, outcome: 'timeout' }, d.timeouts);
        add(c, { agent: a.agentId, driver: d.driver, outcome: 'skipped' }, d.skipped);
      }
    }
  });
  counter('rigwarden_agent_driver_collect_seconds_total', 'Time spent collecting per agent and driver since the agent started.', ['agent', 'driver'], (c, all) => {
    for (const a of all) for (const d of a.drivers) add(c, { agent: a.agentId, driver: d.driver }, d.totalDurationMs / 1000);
  });
  gauge('rigwarden_agent_driver_last_duration_seconds', 'Duration of the driver\'s last collect run.', ['agent', 'driver'], (g, all) => {
    for (const a of all) for (const d of a.drivers) g.set({ agent: a.agentId, driver: d.driver }, d.lastDurationMs / 1000);
  });
  gauge('rigwarden_agent_outbox_depth', 'Telemetry messages held by the agent\'s store-and-forward outbox.', ['agent'], (g, all) => {
    for (const a of all) if (a.outbox) g.set({ agent: a.agentId }, a.outbox.depth);
  });
  gauge('rigwarden_agent_outbox_bytes', 'Bytes held by the agent\'s store-and-forward outbox.', ['agent'], (g, all) => {
    for (const a of all) if (a.outbox) g.set({ agent: a.agentId }, a.outbox.bytes);
  });
  counter('rigwarden_agent_outbox_dropped_total', 'Telemetry messages the agent\'s outbox dropped, by reason.', ['agent', 'reason'], (c, all) => {
    for (const a of all) {
      if (!a.outbox) continue;
      add(c, { agent: a.agentId, reason: 'full' }, a.outbox.droppedFull);
      add(c, { agent: a.agentId, reason: 'expired' }, a.outbox.droppedExpired);
      add(c, { agent: a.agentId, reason: 'corrupt' }, a.outbox.droppedCorrupt);
    }
  });
}
