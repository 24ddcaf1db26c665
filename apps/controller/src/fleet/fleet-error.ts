/** The fleet use cases' error family; mapped to gRPC status codes only in api-grpc. */
export type FleetErrorKind = 'invalid_argument' | 'not_found' | 'failed_precondition';

export class FleetError extends Error {
  override readonly name = 'FleetError';
  constructor(readonly kind: FleetErrorKind, message: string, readonly field?: string) {
    super(message);
  }
}
