import { isValidRigId } from '@rigwarden/protocol';
import { FleetError } from './fleet-error';

/** The rig id of a request, or INVALID_ARGUMENT naming the field (`rig_id` unless told). */
export function requireRigId(rigId: string, field = 'rig_id'): string {
  if (!isValidRigId(rigId)) throw new FleetError('invalid_argument', `${field} ${JSON.stringify(rigId)} is not a valid rig id`, field);
  return rigId;
}

/**
 * A request's time range in epoch ms: `to` defaults to now, `from` to `defaultSpanMs` before `to`; INVALID_ARGUMENT
 * naming `from` when it is not before `to`.
 */
export function timeRange(request: { from?: Date; to?: Date }, now: number, defaultSpanMs: number): { from: number; to: number } {
  const to = request.to?.getTime() ?? now;
  const from = request.from?.getTime() ?? to - defaultSpanMs;
  if (from >= to) throw new FleetError('invalid_argument', `from (${new Date(from).toISOString()}) must be before to (${new Date(to).toISOString()})`, 'from');
  return { from, to };
}
