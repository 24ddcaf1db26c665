import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { RigEvent, type Event, type ReleaseQuarantineRequest } from '@rigwarden/protocol';
import { EVENT_STORE, type EventStore } from '../persistence/ports/event.port';
import { RIG_STATUS_STORE, type RigStatusStore } from '../persistence/ports/rig-status.port';
import { TELEMETRY_QUERY_STORE, type TelemetryQueryStore } from '../persistence/ports/telemetry-query.port';
import { RigReconciler } from '../reconcile/rig-reconciler.service';
import { FleetError } from './fleet-error';
import { requireRigId } from './request-arguments';

export const MAX_RELEASE_REASON_LENGTH = 500;

/**
 * The operator fixed a quarantined rig: an `operator.release` event (source "operator") records who and why, the
 * quarantined flag clears, the quarantine alert resolves, and the reconciler restarts the watchdog ladder.
 */
@Injectable()
export class ReleaseQuarantineUseCase {
  constructor(
    @Inject(RIG_STATUS_STORE) private readonly rigs: RigStatusStore,
    @Inject(TELEMETRY_QUERY_STORE) private readonly queries: TelemetryQueryStore,
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(RigReconciler) private readonly reconciler: RigReconciler,
  ) {}

  /** `principal`: who asked ("apikey:<id>", "dashboard:<key id>"), recorded in the event message. */
  async execute(request: ReleaseQuarantineRequest, principal: string): Promise<Event> {
    requireRigId(request.rigId);
    const reason = request.reason.trim();
    if (reason === '') throw new FleetError('invalid_argument', 'reason is required: say what was fixed (e.g. "replaced hashboard 2")', 'reason');
    if (reason.length > MAX_RELEASE_REASON_LENGTH) throw new FleetError('invalid_argument', `reason must be at most ${MAX_RELEASE_REASON_LENGTH} characters, got ${reason.length}`, 'reason');
    if (!(await this.rigs.getRig(request.rigId))) {
      throw new FleetError('not_found', `no rig "${request.rigId}": the controller has never received telemetry for it`, 'rig_id');
    }
    if (!(await this.queries.quarantined([request.rigId])).has(request.rigId)) {
      throw new FleetError('failed_precondition', `rig "${request.rigId}" is not quarantined: nothing to release`, 'rig_id');
    }
    const at = this.reconciler.clock.now(); // the reconciler's clock: a release is ordered against its decisions
    const event = RigEvent.fromPartial({
      eventId: randomUUID(), rigId: request.rigId, kind: 'operator.release', severity: 'info', reason,
      message: `quarantine released by ${principal}: ${reason}; the watchdog ladder starts again from its first step`, at: new Date(at),
    });
    await this.events.recordEvent(event, 'operator');
    this.reconciler.release(request.rigId, at, reason);
    return { eventId: event.eventId, rigId: event.rigId, kind: event.kind, severity: event.severity, reason, message: event.message, at: new Date(at), source: 'operator', commandId: '' };
  }
}
