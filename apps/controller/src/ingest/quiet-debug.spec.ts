import { createRequire } from 'node:module';
import { quietDisabledDebugLoggers } from './quiet-debug';

interface Logger { (...args: unknown[]): void; enabled: boolean; log: (...args: unknown[]) => void; extend(sub: string): Logger }
interface Factory { (namespace: string): Logger; enable(namespaces: string): void; disable(): string; quiet?: boolean }

describe('quietDisabledDebugLoggers', () => {
  const load = (): Factory => createRequire(__filename)('debug') as Factory;
  let previous = '';
  beforeAll(() => { previous = load().disable(); });
  afterAll(() => load().enable(previous));

  it('gives namespaces DEBUG does not enable a logger that does nothing, and enabled ones the package\'s own', () => {
    const debug = load();
    expect(debug.quiet).toBe(true); // importing the module applied it (MQTT.js loads after it in the controller)
    expect(quietDisabledDebugLoggers(__filename)).toBe(false); // once is enough
    debug.enable('rigwarden-test:on*');
    const on = debug('rigwarden-test:on');
    const off = debug('rigwarden-test:off');
    const lines: unknown[][] = [];
    on.log = (...args) => lines.push(args);
    off.log = (...args) => lines.push(args);
    on('packet %d', 7);
    off('packet %d', 8);
    expect(on.enabled).toBe(true);
    expect(off.enabled).toBe(false);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.join(' ')).toMatch(/rigwarden-test:on packet %d 7/);
    expect(off.extend('sub').enabled).toBe(false);
  });

  it('redacts the broker password from an enabled trace (MQTT.js logs its CONNECT packet)', () => {
    const debug = load() as Factory & { log: (...args: unknown[]) => void };
    const saved = debug.log;
    const lines: string[] = [];
    debug.log = (...args: unknown[]) => { lines.push(args.join(' ')); };
    try {
      debug.enable('rigwarden-test:trace');
      const trace = debug('rigwarden-test:trace');
      trace('connect %o', { cmd: 'connect', username: 'rigwarden-controller', password: 's3cret-broker-pw' });
      trace('url %s', 'mqtt://agent:hunter2@127.0.0.1:1883');
    } finally {
      debug.log = saved;
    }
    expect(lines.join('\n')).not.toMatch(/s3cret-broker-pw|hunter2/);
    expect(lines.join('\n')).toMatch(/password: \[redacted\]/);
  });
});
