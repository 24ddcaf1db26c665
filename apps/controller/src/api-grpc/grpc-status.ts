import { status, type ServiceError, Metadata } from '@grpc/grpc-js';
import { FleetError } from '../fleet/fleet-error';
import { boundedDetails } from './request-bounds';

/** Maps the use cases' errors to gRPC status codes: the only place that knows about both. */
export function toServiceError(err: unknown): Partial<ServiceError> {
  if (err instanceof FleetError) {
    const code = err.kind === 'not_found' ? status.NOT_FOUND : err.kind === 'failed_precondition' ? status.FAILED_PRECONDITION : status.INVALID_ARGUMENT;
    const metadata = new Metadata();
    if (err.field) metadata.set('rigwarden-field', err.field);
    return { code, details: boundedDetails(err.message), metadata };
  }
  return { code: status.INTERNAL, details: 'internal error; see the controller log' };
}
