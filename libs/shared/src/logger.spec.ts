import { createLogger, defaultLogFormat, redactUrlSecrets } from './logger';

describe('logger', () => {
  it.each<[string, string, string]>([
    ['an MQTT URL with a password', 'mqtt://agent-7:s3cr%40t@10.0.0.5:1883', 'mqtt://agent-7:[redacted]@10.0.0.5:1883'],
    ['TLS and websockets', 'connect mqtts://u:p@h:8883 then wss://u2:p2@h/mqtt', 'connect mqtts://u:[redacted]@h:8883 then wss://u2:[redacted]@h/mqtt'],
    ['a stratum pool URL', 'stratum+tcp://worker.1:x@pool:3333', 'stratum+tcp://worker.1:[redacted]@pool:3333'],
    ['an empty password', 'mqtt://user:@h', 'mqtt://user:[redacted]@h'],
    ['a secret query parameter', 'https://hook.example/x?token=abc123&channel=ops', 'https://hook.example/x?token=[redacted]&channel=ops'],
    ['a password parameter after others', 'http://h/p?a=1&password=hunter2', 'http://h/p?a=1&password=[redacted]'],
    ['a URL without credentials', 'mqtt://127.0.0.1:1883', 'mqtt://127.0.0.1:1883'],
    ['a user without a password', 'mqtt://agent-7@h:1883', 'mqtt://agent-7@h:1883'],
    ['text that only looks like one', 'ratio=0.5 at 12:00', 'ratio=0.5 at 12:00'],
  ])('redacts %s', (_name, text, expected) => {
    expect(redactUrlSecrets(text)).toBe(expected);
  });

  it.each<['text' | 'json']>([['text'], ['json']])('logger: no %s line carries a URL password: message, fields, errors and nested objects', (format) => {
    const lines: string[] = [];
    const logger = createLogger('t', { format, level: 'debug', write: (l) => lines.push(l) });
    logger.info('connecting to mqtt://ctl:pw-in-message@h:1883', { url: 'mqtt://ctl:pw-in-field@h:1883' });
    logger.warn('broker error', { error: new Error('connect ECONNREFUSED mqtt://ctl:pw-in-error@h:1883') });
    logger.child('sub').error('config', { broker: { url: 'mqtts://ctl:pw-nested@h:8883', ca: 'ca.pem' } });
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).not.toMatch(/pw-in-|pw-nested/);
      expect(line).toContain(':[redacted]@h');
    }
  });

  it('logger: JSON lines (pino) carry level names, ISO time, the scope, fields, and errors with type, stack and cause', () => {
    const lines: string[] = [];
    const logger = createLogger('controller', { format: 'json', level: 'debug', write: (l) => lines.push(l) });
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    logger.child('persistence').error('cannot open the store', { rig: 'r1', error: new Error('PostgreSQL unreachable', { cause }) });
    logger.debug('plain');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line.endsWith('\n')).toBe(false);
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(record).toMatchObject({ level: 'error', scope: 'controller.persistence', msg: 'cannot open the store', rig: 'r1' });
    expect(new Date(record['time'] as string).toISOString()).toBe(record['time']);
    expect(lines[0]!.match(/"scope"/g)).toHaveLength(1);
    const error = record['error'] as { type: string; message: string; stack: string; cause: { message: string } };
    expect(error.type).toBe('Error');
    expect(error.message).toBe('PostgreSQL unreachable');
    expect(error.stack).toMatch(/^Error: PostgreSQL unreachable\n\s+at /);
    expect(error.cause.message).toBe('connect ECONNREFUSED 127.0.0.1:5432');
    expect(JSON.parse(lines[1]!)).toMatchObject({ level: 'debug', scope: 'controller', msg: 'plain' });
  });

  it('logger: a text line names an error with its causes', () => {
    const lines: string[] = [];
    const logger = createLogger('agent', { format: 'text', write: (l) => lines.push(l) });
    logger.warn('broker error', { error: new Error('cannot connect', { cause: new Error('getaddrinfo ENOTFOUND broker.lan') }) });
    expect(lines[0]).toMatch(/WARN  \[agent\] broker error error="cannot connect: caused by getaddrinfo ENOTFOUND broker.lan"$/);
  });

  it('logger: levels below the one set are not written, in both formats', () => {
    for (const format of ['text', 'json'] as const) {
      const lines: string[] = [];
      const logger = createLogger('t', { format, level: 'warn', write: (l) => lines.push(l) });
      logger.debug('d');
      logger.info('i');
      logger.warn('w');
      logger.error('e');
      expect(lines).toHaveLength(2);
    }
  });

  it.each<[string, NodeJS.ProcessEnv, boolean, 'text' | 'json']>([
    ['JSON off a terminal', {}, false, 'json'],
    ['text on a terminal', {}, true, 'text'],
    ['LOG_FORMAT=json on a terminal', { LOG_FORMAT: 'json' }, true, 'json'],
    ['LOG_FORMAT=text off a terminal', { LOG_FORMAT: 'text' }, false, 'text'],
    ['an unknown LOG_FORMAT: by the destination', { LOG_FORMAT: 'yaml' }, false, 'json'],
  ])('logger: the default format is %s', (_name, env, terminal, expected) => {
    expect(defaultLogFormat(env, terminal)).toBe(expected);
  });
});
