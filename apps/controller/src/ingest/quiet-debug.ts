/**
 * MQTT.js and mqtt-packet trace every packet through the `debug` package: about eight calls per telemetry message.
 * A `debug` logger whose namespace is not enabled still gathers each call's arguments into an array before it checks
 * that it is disabled (1.1 kB allocated per message, some 8 % of what ingest allocates, all of it for the garbage
 * collector). Loaded before those modules, this makes `debug(namespace)` return a logger that does nothing when
 * DEBUG does not enable the namespace at start; enabled namespaces get the package's own logger, so
 * `DEBUG=mqttjs*,mqtt-packet:*` traces as before. (A namespace enabled later at run time with `debug.enable()` stays
 * silent for loggers created before that.)
 */
import { createRequire } from 'node:module';

interface DebugFactory {
  (namespace: string): unknown;
  enabled(namespace: string): boolean;
}

function silentLogger(namespace: string): unknown {
  const log = (): void => undefined;
  return Object.assign(log, { enabled: false, namespace, log, extend: (sub: string, delimiter = ':') => silentLogger(`${namespace}${delimiter}${sub}`), destroy: () => true });
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
  const quiet = Object.assign((namespace: string) => (factory.enabled(namespace) ? factory(namespace) : silentLogger(namespace)), factory, { quiet: true });
  cached.exports = quiet;
  return true;
}

quietDisabledDebugLoggers();
