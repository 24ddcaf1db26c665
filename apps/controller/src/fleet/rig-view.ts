import { Inject, Injectable } from '@nestjs/common';
import type { Rig } from '@rigwarden/protocol';
import type { RigRecord } from '../persistence/rig-repository';
import { TelemetryQueryRepository } from '../persistence/telemetry-query.repository';
import { FleetSpecService } from './fleet-spec.service';

/** Stored rigs as the API shows them: with labels, the group governing them under the spec in force, quarantine. */
@Injectable()
export class RigView {
  constructor(
    @Inject(FleetSpecService) private readonly fleet: FleetSpecService,
    @Inject(TelemetryQueryRepository) private readonly queries: TelemetryQueryRepository,
  ) {}

  async toRigs(records: readonly RigRecord[]): Promise<Rig[]> {
    const quarantined = await this.queries.quarantined(records.map((r) => r.rigId));
    return records.map((record) => ({
      rigId: record.rigId,
      online: record.online,
      lastSeen: record.lastSeen,
      lastSeq: record.lastSeq,
      miners: record.miners,
      labels: { ...record.labels },
      group: this.fleet.groupOf(record) ?? '',
      quarantined: quarantined.has(record.rigId),
    }));
  }
}
