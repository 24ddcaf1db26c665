import { Inject, Injectable } from '@nestjs/common';
import { observeSnapshot, replayRig } from '@rigwarden/policy';
import { type DryRunPoliciesRequest, type DryRunPoliciesResponse } from '@rigwarden/protocol';
import { systemClock, type Clock } from '@rigwarden/shared';
import { RIG_STATUS_STORE, type RigStatusStore } from '../persistence/ports/rig-status.port';
import { TELEMETRY_QUERY_STORE, type TelemetryQueryStore } from '../persistence/ports/telemetry-query.port';
import { FleetError } from './fleet-error';
import { parseFleetYaml, type FleetSpec } from './fleet-spec';
import { FleetSpecService } from './fleet-spec.service';
import { requireRigId, timeRange } from './request-arguments';

/** Without `from`: this long before `to`. */
export const DEFAULT_REPLAY_MS = 6 * 3_600_000;
/** At most this many snapshots are replayed (the newest). */
export const MAX_REPLAY_SNAPSHOTS = 50_000;

/**
 * Replays a rig's stored raw snapshots through the policies, in time order, with the spec in force or a proposed
 * one, and says what they would have decided and when. Nothing is sent or recorded. The telemetry is what really
 * happened, so later decisions do not see the effect of earlier ones (see replayRig).
 */
@Injectable()
export class DryRunPoliciesUseCase {
  clock: Clock = systemClock;

  constructor(
    @Inject(RIG_STATUS_STORE) private readonly rigs: RigStatusStore,
    @Inject(TELEMETRY_QUERY_STORE) private readonly queries: TelemetryQueryStore,
    @Inject(FleetSpecService) private readonly fleet: FleetSpecService,
  ) {}

  async execute(request: DryRunPoliciesRequest): Promise<DryRunPoliciesResponse> {
    requireRigId(request.rigId);
    const { from, to } = timeRange(request, this.clock.now(), DEFAULT_REPLAY_MS);
    let fleet: FleetSpec = this.fleet.spec;
    if (request.fleetYaml !== '') {
      try {
        fleet = parseFleetYaml(request.fleetYaml, 'fleet_yaml');
      } catch (err) {
        if (err instanceof FleetError) throw new FleetError('invalid_argument', err.message, 'fleet_yaml');
        throw err;
      }
    }
    const record = await this.rigs.getRig(request.rigId);
    if (!record) throw new FleetError('not_found', `no rig "${request.rigId}": the controller has never received telemetry for it`, 'rig_id');
    const spec = this.fleet.specFor(record, fleet);
    if (!spec) {
      throw new FleetError('failed_precondition',
        `no group of the ${request.fleetYaml !== '' ? 'proposed' : 'fleet'} spec matches rig "${request.rigId}" (labels ${JSON.stringify(record.labels)}): no policy acts on it`,
        request.fleetYaml !== '' ? 'fleet_yaml' : 'rig_id');
    }
    // The reconciler acts on the rig's first miner; replay that one's readings.
    const minerId = spec.minerId ?? record.miners[0]?.minerId;
    const rows = (await this.queries.snapshots(request.rigId, from, to, MAX_REPLAY_SNAPSHOTS)).filter((r) => r.minerId === minerId);
    const observations = rows.map((r) => observeSnapshot(r.snapshot, r.collectedAt));
    const steps = replayRig(spec, observations, { defaults: fleet.policy });
    return {
      rigId: request.rigId,
      snapshotsReplayed: observations.length,
      decisions: steps.flatMap((step) => step.act.map((d) => ({
        at: new Date(step.at), policy: d.policy, kind: d.kind, reason: d.reason, message: d.message, severity: d.severity,
      }))),
    };
  }
}
