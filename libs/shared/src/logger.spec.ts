import { createLogger, redactUrlSecrets } from './logger';

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
});
