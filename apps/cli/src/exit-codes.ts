import { status } from '@grpc/grpc-js';

/**
 * rigctl's exit codes for the command subcommands, for scripts (docs/api.md lists them):
 *   0 ok (the command succeeded, or was sent with --no-wait), 1 the command failed, was rejected or timed out,
 *   2 usage or an invalid argument, 3 not found (rig, miner, command, or no rig matches), 4 unauthenticated or
 *   permission denied, 5 the controller is unreachable or did not answer in time.
 */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, NOT_FOUND: 3, DENIED: 4, UNREACHABLE: 5 } as const;

/** The exit code for a gRPC error status. */
export function exitCodeForStatus(code: status): number {
  switch (code) {
    case status.INVALID_ARGUMENT:
    case status.FAILED_PRECONDITION:
    case status.OUT_OF_RANGE: return EXIT.USAGE;
    case status.NOT_FOUND: return EXIT.NOT_FOUND;
    case status.UNAUTHENTICATED:
    case status.PERMISSION_DENIED: return EXIT.DENIED;
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED: return EXIT.UNREACHABLE;
    default: return EXIT.FAILED;
  }
}
