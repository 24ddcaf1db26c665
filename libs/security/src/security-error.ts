/** Machine-readable codes for the security lib's errors (misuse and broken state, not verification outcomes). */
export type SecurityErrorCode =
  | 'invalid_argument'
  | 'invalid_secret'
  | 'duplicate_key'
  | 'unknown_key'
  | 'no_active_key'
  | 'unsignable_envelope'
  | 'journal_corrupt'
  | 'journal_io'
  | 'store_closed'
  | 'key_unwrap_failed'
  | 'secret_unseal_failed'
  | 'pool_password_unseal_failed';

/**
 * The security lib's error family. Verification outcomes (a forged or replayed command, a wrong API key) are
 * returned as typed rejections, never thrown: an error here means the caller misused the lib or state is broken.
 * Messages and context never carry secret material.
 */
export class SecurityError extends Error {
  override readonly name = 'SecurityError';
  constructor(
    /** What went wrong, for code to branch on. */
    readonly code: SecurityErrorCode,
    message: string,
    /** Non-secret context: principal, key id, file path, field name. */
    readonly context: Readonly<Record<string, string | number>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
