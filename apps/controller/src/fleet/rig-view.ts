import { Inject, Injectable } from '@nestjs/common';
import type { FieldWarningCount, Rig } from '@rigwarden/protocol';
import { LivenessService } from '../liveness/liveness.service';
import { EVENT_STORE, type EventStore } from '../persistence/ports/event.port';
import type { RigRecord } from '../persistence/rig-repository';
import { TELEMETRY_QUERY_STORE, type TelemetryQueryStore } from '../persistence/ports/telemetry-query.port';
import { FleetSpecService } from './fleet-spec.service';

/** Stored rigs as the API shows them: with labels, the group governing them under the spec in force, quarantine, liveness. */
@Injectable()
export class RigView {
  constructor(
    @Inject(FleetSpecService) private readonly fleet: FleetSpecService,
    @Inject(TELEMETRY_QUERY_STORE) private readonly queries: TelemetryQueryStore,
    @Inject(LivenessService) private readonly liveness: Pick<LivenessService, 'get'>,
    @Inject(EVENT_STORE) private readonly events?: Pick<EventStore, 'agentStatus'>,
  ) {}

  /** The refused-value counts of each rig's agent status (one read per agent on the page). */
  private async warningCounts(records: readonly RigRecord[]): Promise<Map<string, FieldWarningCount[]>> {
    const out = new Map<string, FieldWarningCount[]>();
    if (!this.events) return out;
    const agents = new Set(records.map((r) => this.liveness.get(r.rigId)?.agentId ?? r.miners[0]?.agentId).filter((a): a is string => !!a));
    for (const agentId of agents) {
      const status = await this.events.agentStatus(agentId);
      for (const w of status?.fieldWarnings ?? []) out.set(w.rigId, [...(out.get(w.rigId) ?? []), w]);
    }
    return out;
  }

  async toRigs(records: readonly RigRecord[]): Promise<Rig[]> {
    const quarantined = await this.queries.quarantined(records.map((r) => r.rigId));
    const warnings = await this.warningCounts(records);
    return records.map((record) => {
      // Judged now by the controller; a rig it has not judged yet (none in a running controller) shows the stored row.
      const live = this.liveness.get(record.rigId);
      return {
      rigId: record.rigId,
      online: live?.online ?? record.online,
      lastSeen: record.lastSeen,
      lastSeq: record.lastSeq,
      miners: record.miners,
      labels: { ...record.labels },
      group: this.fleet.groupOf(record) ?? '',
      quarantined: quarantined.has(record.rigId),
      liveness: live?.state ?? '',
      livenessReason: live?.reason ?? '',
      livenessMessage: live?.message ?? '',
      livenessSince: live ? new Date(live.since) : undefined,
      expectedIntervalMs: live?.expectedIntervalMs ?? 0,
      agentId: live?.agentId ?? record.miners[0]?.agentId ?? '',
      fieldWarningCounts: warnings.get(record.rigId) ?? [],
      };
    });
  }
}
