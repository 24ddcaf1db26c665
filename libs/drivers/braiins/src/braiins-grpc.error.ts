import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { DriverError, type DriverErrorKind } from '@rigwarden/drivers-core';

/** What an operator of an older Braiins OS (no gRPC API) should do instead. */
export const OLD_BOS_HINT = 'Braiins OS before 23.03 has no gRPC API: drive it with driver "braiins" (cgminer API on TCP 4028)';

/**
 * The Braiins driver's errors: the drivers' DriverError with the gRPC method in `command`, the gRPC status code
 * in `statusCode` and its details in `statusMsg`.
 */
export class BraiinsGrpcError extends DriverError {
  constructor(
    kind: DriverErrorKind,
    message: string,
    context: { host: string; port: number; command: string; statusCode?: number; statusMsg?: string },
    options?: { cause?: unknown },
  ) {
    super(kind, message, context, options);
  }

  /** The gRPC status code, when the error came from a call. */
  get grpcCode(): number | undefined {
    return this.context.statusCode;
  }
}

export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number' && 'metadata' in err;
}

/** Maps a failed call to the error family, naming the method and keeping the miner's status and details. */
export function grpcFailure(err: unknown, where: { host: string; port: number }, method: string): BraiinsGrpcError {
  if (err instanceof BraiinsGrpcError) return err;
  const ctx = { host: where.host, port: where.port, command: method };
  if (!isServiceError(err)) {
    return new BraiinsGrpcError('parse', `could not complete: ${err instanceof Error ? err.message : String(err)}`, ctx, { cause: err });
  }
  const details = err.details || err.message;
  const withStatus = { ...ctx, statusCode: err.code, statusMsg: details };
  const [kind, text] = describe(err.code, details);
  return new BraiinsGrpcError(kind, text, withStatus, { cause: err });
}

function describe(code: number, details: string): [DriverErrorKind, string] {
  switch (code) {
    case GrpcStatus.UNAVAILABLE:
      return ['unreachable', `no answer from the gRPC API (${details}); if the miner is up, ${OLD_BOS_HINT}`];
    case GrpcStatus.DEADLINE_EXCEEDED:
      return ['timeout', `deadline passed (${details})`];
    case GrpcStatus.CANCELLED:
      return ['aborted', `cancelled (${details})`];
    case GrpcStatus.UNAUTHENTICATED:
      return ['access_denied', `not authenticated (${details})`];
    case GrpcStatus.PERMISSION_DENIED:
      return ['access_denied', `permission denied (${details})`];
    case GrpcStatus.UNIMPLEMENTED:
      return ['unsupported', `this Braiins OS does not implement the method (${details}); ${OLD_BOS_HINT}`];
    case GrpcStatus.INVALID_ARGUMENT:
    case GrpcStatus.OUT_OF_RANGE:
      return ['bad_request', `the miner refused the value (${details})`];
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return [/larger than max/i.test(details) ? 'reply_too_large' : 'miner_error', `resource exhausted (${details})`];
    case GrpcStatus.INTERNAL:
      return [/pars|deserializ/i.test(details) ? 'parse' : 'miner_error', `internal error (${details})`];
    default:
      return ['miner_error', `${GrpcStatus[code] ?? `status ${code}`} (${details})`];
  }
}
