export { Backoff, backoffBaseMs, backoffDelayMs, reconnectWithBackoff, type BackoffOptions, type ReconnectingClient } from './backoff';
export * from './clock';
export * from './logger';
export * from './private-files';
