/** What every secret-holding object prints instead of its contents. */
export const REDACTED = '[redacted]';

/** Node's hook for util.inspect and console.log. */
export const INSPECT: unique symbol = Symbol.for('nodejs.util.inspect.custom');
