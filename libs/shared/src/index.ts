export { Backoff, backoffBaseMs, backoffDelayMs, reconnectWithBackoff, type BackoffOptions, type ReconnectingClient } from './backoff';
export { type Clock, ManualClock, systemClock } from './clock';
export {
  createLogger,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  redactSecrets,
  redactUrlSecrets,
} from './logger';
export {
  appendPrivateFileSync,
  ensurePrivateDir,
  ensurePrivateFile,
  touchPrivateFile,
  writePrivateFileSync,
} from './private-files';
