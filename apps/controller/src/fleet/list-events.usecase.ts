import { Inject, Injectable } from '@nestjs/common';
import { type ListEventsRequest, type ListEventsResponse } from '@rigwarden/protocol';
import { EVENT_STORE, type EventStore } from '../persistence/ports/event.port';
import { RIG_STATUS_STORE, type RigStatusStore } from '../persistence/ports/rig-status.port';
import { FleetError } from './fleet-error';
import { requireRigId } from './request-arguments';

export const DEFAULT_EVENT_LIMIT = 100;
export const MAX_EVENT_LIMIT = 1000;

/** A rig's events, newest first: why the controller and the agent did what they did. */
@Injectable()
export class ListEventsUseCase {
  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(RIG_STATUS_STORE) private readonly rigs: RigStatusStore,
  ) {}

  async execute(request: ListEventsRequest): Promise<ListEventsResponse> {
    requireRigId(request.rigId);
    const limit = request.limit === 0 ? DEFAULT_EVENT_LIMIT : request.limit;
    if (limit > MAX_EVENT_LIMIT) throw new FleetError('invalid_argument', `limit must be at most ${MAX_EVENT_LIMIT}, got ${request.limit}`, 'limit');
    const rows = await this.events.eventsForRig(request.rigId, limit, request.since?.getTime() ?? 0);
    if (rows.length === 0 && !(await this.rigs.getRig(request.rigId)) && !(await this.events.eventsForRig(request.rigId, 1)).length) {
      throw new FleetError('not_found', `no rig "${request.rigId}": the controller has never received telemetry for it`, 'rig_id');
    }
    return {
      events: rows.map((r) => ({
        eventId: r.event_id, rigId: r.rig_id, kind: r.kind, severity: r.severity, reason: r.reason, message: r.message, at: new Date(r.at), source: r.source, commandId: r.command_id ?? '',
      })),
    };
  }
}
