/**
 * MQTT.js and mqtt-packet trace every packet through the `debug` package: about eight calls per telemetry message.
 * A `debug` logger whose namespace is not enabled still gathers each call's arguments into an array before it checks
 * that it is disabled (1.1 kB allocated per message, some 8 % of what ingest allocates, all of it for the garbage
 * collector). Loaded before those modules, this makes `debug(namespace)` return a logger that does nothing when
 * DEBUG does not enable the namespace at start; enabled namespaces get the package's own logger, so
 * `DEBUG=mqttjs*,mqtt-packet:*` traces as before. (A namespace enabled later at run time with `debug.enable()` stays
 * silent for loggers created before that.) An enabled logger's lines are redacted like the controller's own: MQTT.js
 * traces the CONNECT packet with the broker password in it.
 */
import { createRequire } from 'node:module';
import { redactSecrets } from '@rigwarden/shared';

interface DebugFactory {
  (namespace: string): unknown;
  enabled(namespace: string): boolean;
}

function silentLogger(namespace: string): unknown {
  const log = (): void => undefined;
  return Object.assign(log, { enabled: false, namespace, log, extend: (sub: string, delimiter = ':') => silentLogger(`${namespace}${delimiter}${sub}`), destroy: () => true });
}

/** The package's own logger for `namespace`, writing its formatted lines through redactSecrets. */
function redacting(factory: DebugFactory, namespace: string, defaultLog: () => (...args: unknown[]) => void): unknown {
  const logger = factory(namespace) as { log?: (...args: unknown[]) => void };
  const own = logger.log;
  logger.log = function log(this: unknown, ...args: unknown[]): void {
    const write = own ?? defaultLog(); // debug.log may be set later, on the module's export
    write.apply(this, args.map((a) => (typeof a === 'string' ? redactSecrets(a) : a)));
  };
  return logger;
}

/** Replaces the cached `debug` module's export (resolved as `from` resolves it); returns false if there is none. */
export function quietDisabledDebugLoggers(from: string = __filename): boolean {
  const require = createRequire(from);
  let path: string;
  try {
    path = require.resolve('debug');
  } catch {
    return false; // not installed: nothing traces through it
  }
  const factory = require(path) as DebugFactory;
  const cached = require.cache[path];
  if (!cached || typeof factory !== 'function' || typeof factory.enabled !== 'function' || (factory as { quiet?: boolean }).quiet) return false;
  type Log = (...args: unknown[]) => void;
  const quiet: DebugFactory & { log?: Log } = Object.assign(
    (namespace: string) => (factory.enabled(namespace) ? redacting(factory, namespace, () => quiet.log ?? (factory as unknown as { log: Log }).log) : silentLogger(namespace)),
    factory, { quiet: true },
  );
  cached.exports = quiet;
  return true;
}

quietDisabledDebugLoggers();
