import { performance } from 'node:perf_hooks';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import type { AgentStatus } from '@rigwarden/protocol';
import { AlertService } from '../alerts/alert.service';
import type { AlertMetricsSource } from '../alerts/alert-types';
import { EmbeddedBrokerService } from '../broker/embedded-broker.service';
import { CommandDispatcher, type CommandCounters } from '../commands/command-dispatcher.service';
import type { IngestCounters } from '../ingest/ingest-counters';
import { TelemetryIngestService } from '../ingest/telemetry-ingest.service';
import { EVENT_STORE } from '../persistence/ports/event.port';
import { type RigRecord } from '../persistence/rig-repository';
import { RIG_STATUS_STORE } from '../persistence/ports/rig-status.port';
import { RigReconciler, type ReconcileCounters } from '../reconcile/rig-reconciler.service';
import { LivenessService } from '../liveness/liveness.service';
import { ShardOwnership, type OwnershipCounters, type OwnershipView } from '../ownership/shard-ownership.service';
import { registerAgentCollectors } from './agent-collectors';
import { writeFleetExposition, type FleetView } from './fleet-exposition';

/** Where the exporter reads from; the Nest providers satisfy these, tests may pass plain sources. */
export interface RigSource { listRigs(limit: number, afterRigId: string): Promise<RigRecord[]> }
export interface AgentSource { listAgentStatus(): Promise<AgentStatus[]> }
export interface IngestSource { readonly counters: IngestCounters; readonly pendingSnapshots: number; readonly heldAcks?: number; readonly oldestHeldAckMs?: number }
export interface ReconcileSource { readonly counters: ReconcileCounters; queueDepth(): { queued: number; running: number } }
export interface CommandSource { readonly counters: CommandCounters }
/** This controller's shard leases (ShardOwnership): exported only when it shares the fleet (--replica-id). */
/** What the liveness service counts for a controller sharing the fleet. */
export interface LivenessCountSource { readonly counters: { readonly leftToOwner: number; readonly recordedOnTakeover: number } }
export interface OwnershipSource { readonly shared: boolean; readonly counters: OwnershipCounters; view(): OwnershipView }
/** The embedded broker's refusals by reason (EmbeddedBrokerService). */
export interface BrokerRefusalSource { readonly refusals: { snapshot(): Array<[string, number]> } }

const PAGE = 1000;

/**
 * The Prometheus exporter. Everything is computed at scrape time, never per message: controller counters and the
 * agents' driver counters through collect callbacks on this service's own prom-client registry (the agents table is
 * read once per scrape), and the per-rig series from one paged read of the latest stored status, written by
 * writeFleetExposition (prom-client's per-series bookkeeping is too slow for 10,000 rigs: see docs/observability.md).
 * The HTTP edge serves `render()` with `contentType` on GET /metrics.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly contentType: string = this.registry.contentType;
  private agentRead: Promise<AgentStatus[]> | undefined;

  constructor(
    @Inject(RIG_STATUS_STORE) private readonly rigs: RigSource,
    @Inject(EVENT_STORE) private readonly agents: AgentSource,
    @Inject(TelemetryIngestService) private readonly ingest: IngestSource,
    @Inject(RigReconciler) private readonly reconciler: ReconcileSource,
    @Optional() @Inject(AlertService) private readonly alerts?: AlertMetricsSource,
    @Optional() @Inject(CommandDispatcher) private readonly commands?: CommandSource,
    @Optional() @Inject(EmbeddedBrokerService) private readonly broker?: BrokerRefusalSource,
    @Optional() @Inject(ShardOwnership) private readonly ownership?: OwnershipSource,
    @Optional() @Inject(LivenessService) private readonly liveness?: LivenessCountSource,
  ) {
    registerAgentCollectors(this.registry, () => this.agentRead ?? this.agents.listAgentStatus());
    this.registerController();
  }

  /** The exposition text (Prometheus 0.0.4 format). One read of the rigs and one of the agents per call. */
  async render(): Promise<string> {
    const own = this.agentRead === undefined;
    if (own) this.agentRead = this.agents.listAgentStatus();
    try {
      const [registered, fleet] = await Promise.all([this.registry.metrics(), this.readFleet()]);
      return registered + writeFleetExposition(fleet);
    } finally {
      if (own) this.agentRead = undefined;
    }
  }

  private async readFleet(): Promise<FleetView> {
    const started = performance.now();
    const rigs: RigRecord[] = [];
    for (let after = ''; ;) {
      const page = await this.rigs.listRigs(PAGE, after);
      rigs.push(...page);
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.rigId;
    }
    return { rigs, readSeconds: (performance.now() - started) / 1000 };
  }

  private registerController(): void {
    const registers = [this.registry];
    const counts = <N extends string>(name: string, help: string, labelNames: readonly N[], read: () => Array<[Record<N, string>, number]>): void => {
      new Counter<N>({
        name, help, labelNames, registers,
        collect() {
          this.reset();
          for (const [labels, value] of read()) this.inc(labels, value);
        },
      });
    };
    const level = <N extends string>(name: string, help: string, labelNames: readonly N[], read: () => Array<[Record<N, string>, number]>): void => {
      new Gauge<N>({
        name, help, labelNames, registers,
        collect() {
          this.reset();
          for (const [labels, value] of read()) this.set(labels, value);
        },
      });
    };
    const ingest = (): IngestCounters => this.ingest.counters;
    counts('rigwarden_ingest_received_total', 'MQTT messages the controller received (every kind, valid or not).', [], () => [[{}, ingest().received]]);
    counts('rigwarden_ingest_snapshots_total', 'Telemetry snapshots written to SQLite, or dropped as duplicates of a stored (rig, seq).', ['outcome'], () => [
      [{ outcome: 'stored' }, ingest().stored], [{ outcome: 'duplicate' }, ingest().duplicates],
    ]);
    counts('rigwarden_ingest_invalid_total', 'Messages dropped because their topic or payload was invalid.', [], () => [[{}, ingest().invalid]]);
    counts('rigwarden_ingest_oversize_total', 'Messages dropped because their payload was larger than the topic allows (also in rigwarden_ingest_invalid_total).', [], () => [[{}, ingest().oversize]]);
    counts('rigwarden_ingest_signature_rejected_total', 'Command results and rig events refused: a bad or missing signature from a rig that has a key (not stored, not acted on).', [], () => [[{}, ingest().signatureRejected]]);
    counts('rigwarden_ingest_unverified_total', 'Command results and rig events accepted unverified: from a rig that has no key.', [], () => [[{}, ingest().unverified]]);
    counts('rigwarden_ingest_receipts_total', 'Ingest receipts published to agents (what is stored, so they may drop it from their outbox).', [], () => [[{}, ingest().receipts]]);
    counts('rigwarden_ingest_feed_total', 'With --mqtt-shared-group on PostgreSQL: snapshots other controllers stored and announced to this one (heard), and batches this one stored but could not announce (announce_error).', ['outcome'], () => [
      [{ outcome: 'heard' }, ingest().heardElsewhere], [{ outcome: 'announce_error' }, ingest().announceErrors],
    ]);
    counts('rigwarden_ingest_messages_total', 'Non-telemetry messages accepted, by kind.', ['kind'], () => [
      [{ kind: 'state' }, ingest().states], [{ kind: 'event' }, ingest().events], [{ kind: 'result' }, ingest().results], [{ kind: 'agent_status' }, ingest().agentStatus],
    ]);
    counts('rigwarden_ingest_flushes_total', 'Snapshot batches written to SQLite, by outcome (an error keeps the batch for a retry).', ['outcome'], () => [
      [{ outcome: 'ok' }, ingest().flushes], [{ outcome: 'error' }, ingest().flushErrors],
    ]);
    level('rigwarden_ingest_pending_snapshots', 'Snapshots received and waiting for the next batch write.', [], () => [[{}, this.ingest.pendingSnapshots]]);
    level('rigwarden_ingest_held_acks', 'MQTT acknowledgements held until what their message carries is stored.', [], () => [[{}, this.ingest.heldAcks ?? 0]]);
    level('rigwarden_ingest_oldest_held_ack_seconds', 'How long the oldest held acknowledgement has waited for its write (alert above 30: ingest is stalled).', [], () => [[{}, (this.ingest.oldestHeldAckMs ?? 0) / 1000]]);

    const rc = (): ReconcileCounters => this.reconciler.counters;
    level('rigwarden_reconcile_queue_depth', 'Rigs waiting for a reconcile (queued) and being reconciled (running).', ['state'], () => {
      const d = this.reconciler.queueDepth();
      return [[{ state: 'queued' }, d.queued], [{ state: 'running' }, d.running]];
    });
    counts('rigwarden_reconcile_total', 'Reconcile passes, by outcome.', ['outcome'], () => [
      [{ outcome: 'ok' }, rc().reconciles], [{ outcome: 'error' }, rc().errors], [{ outcome: 'timeout' }, rc().timeouts],
    ]);
    counts('rigwarden_reconcile_decisions_total', 'Policy decisions taken (each one is also an event with its reason).', [], () => [[{}, rc().decisions]]);
    counts('rigwarden_reconcile_commands_total', 'Commands the reconciler sent, or could not sign (no active key for the rig).', ['outcome'], () => [
      [{ outcome: 'sent' }, rc().commands], [{ outcome: 'unsigned' }, rc().unsigned],
    ]);

    const commands = this.commands;
    if (commands) {
      const cc = (): CommandCounters => commands.counters;
      counts('rigwarden_commands_dispatched_total', 'Commands stored and sent for the first time (policy or operator).', [], () => [[{}, cc().dispatched]]);
      counts('rigwarden_command_retries_total', 'Publishes after the first one, under the same command id.', [], () => [[{}, cc().retried]]);
      counts('rigwarden_commands_finished_total', 'Commands finished, by final state.', ['outcome'], () => [
        [{ outcome: 'succeeded' }, cc().succeeded], [{ outcome: 'failed' }, cc().failed], [{ outcome: 'rejected' }, cc().rejected], [{ outcome: 'timed_out' }, cc().timedOut],
      ]);
      counts('rigwarden_commands_unsigned_total', 'Commands that could not be signed (no active key for the rig): finished failed, never sent.', [], () => [[{}, cc().unsigned]]);
    }

    const broker = this.broker;
    if (broker) {
      counts('rigwarden_broker_refusals_total', 'What the embedded broker refused, by reason: bad_credentials, anonymous, client_id_taken, will, publish, subscribe.', ['reason'], () =>
        broker.refusals.snapshot().map(([reason, n]): [Record<'reason', string>, number] => [{ reason }, n]));
    }

    const ownership = this.ownership;
    if (ownership?.shared) {
      level('rigwarden_ownership_shards_owned', 'Shards whose lease this controller holds and may act on now (0 once its leases lapsed on its own clock).', [], () => [[{}, ownership.view().held.length]]);
      level('rigwarden_ownership_lease_epoch', 'The lease epoch of each shard this controller holds (the fencing token its commands carry).', ['shard'], () =>
        ownership.view().held.map((l): [Record<'shard', string>, number] => [{ shard: String(l.shard) }, l.epoch]));
      level('rigwarden_ownership_live_replicas', 'Controllers seen in the last lease time, this one included (the shards are split over them).', [], () => [[{}, ownership.view().live.length]]);
      counts('rigwarden_ownership_takeovers_total', 'Shards this controller took under a new epoch: free at start, lapsed after another controller died or paused, or handed back.', [], () => [[{}, ownership.counters.takeovers]]);
      counts('rigwarden_ownership_lease_renew_failures_total', 'Lease rounds that failed (PostgreSQL unreachable or refusing): nothing was renewed; the leases lapse unless the next round succeeds.', [], () => [[{}, ownership.counters.renewFailures]]);
      counts('rigwarden_ownership_broker_releases_total', 'Times this controller gave its shard leases back because it had been without the MQTT broker for the lease time (the others took its rigs).', [], () => [[{}, ownership.counters.brokerReleases]]);
      const liveness = this.liveness;
      const alertCounters = this.alerts?.counters;
      counts('rigwarden_ownership_left_to_owner_total', 'Liveness transitions (liveness_event) and connectivity or pool alerts (alert) of rigs another controller owns: judged here, recorded or sent by the owner.', ['what'], () => [
        [{ what: 'liveness_event' }, liveness?.counters.leftToOwner ?? 0], [{ what: 'alert' }, alertCounters?.leftToOwner ?? 0],
      ]);
      counts('rigwarden_ownership_recorded_on_takeover_total', 'Liveness transitions of rigs taken over that their previous owner had not recorded (it was dead or handing them over), recorded by this controller.', [], () => [[{}, liveness?.counters.recordedOnTakeover ?? 0]]);
    }

    const alerts = this.alerts;
    if (!alerts) return;
    level('rigwarden_alerts_active', 'Alerts firing right now, by rule and severity.', ['rule', 'severity'], () => {
      const byKey = new Map<string, [Record<'rule' | 'severity', string>, number]>();
      for (const a of alerts.active()) {
        const entry = byKey.get(`${a.rule}/${a.severity}`) ?? [{ rule: a.rule, severity: a.severity }, 0];
        entry[1]++;
        byKey.set(`${a.rule}/${a.severity}`, entry);
      }
      return [...byKey.values()];
    });
    level('rigwarden_alert_since_timestamp_seconds', 'One series per firing alert: when its condition started (Unix seconds).', ['rule', 'rig', 'severity'], () =>
      alerts.active().map((a): [Record<'rule' | 'rig' | 'severity', string>, number] => [{ rule: a.rule, rig: a.rigId, severity: a.severity }, a.since / 1000]));
    counts('rigwarden_alert_notifications_total', 'Alert notifications per channel, by outcome (delivered, failed, rate_limited, dropped).', ['channel', 'outcome'], () =>
      alerts.deliveryCounts().map((c): [Record<'channel' | 'outcome', string>, number] => [{ channel: c.channel, outcome: c.outcome }, c.count]));
    level('rigwarden_alert_delivery_queue_depth', 'Notifications waiting for delivery (all channels).', [], () => [[{}, alerts.queueDepth()]]);
  }
}
