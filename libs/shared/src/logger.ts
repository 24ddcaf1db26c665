/**
 * A small structured logger: one line per record, human-readable by default,
 * JSON lines with LOG_FORMAT=json. Never pass secrets in fields; secrets in URLs are redacted from every line.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(scope: string): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: 'text' | 'json';
  write?: (line: string) => void;
}

/** `scheme://user:password@` in any text: the password part. */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:@/?#"]*):([^\s@/?#"]*)@/gi;
/** `?password=...` / `&token=...` in a URL's query. */
const SECRET_QUERY = /([?&](?:password|passwd|pass|pwd|secret|token|access_token|api_?key|apikey)=)[^&\s#"]*/gi;

/**
 * Text with every secret a URL can carry replaced by [redacted]: the password of `mqtt://user:pass@host` and
 * password/secret/token/key query parameters. The logger applies it to every line it writes, so a broker URL with
 * credentials (MQTT_URL, a pool URL) can be logged as it is.
 */
export function redactUrlSecrets(text: string): string {
  if (!text.includes('://') && !text.includes('=')) return text;
  return text.replace(URL_PASSWORD, (_m, scheme: string, user: string) => `${scheme}${user}:[redacted]@`).replace(SECRET_QUERY, '$1[redacted]');
}

/** A `password: '...'` / `"password":"..."` field in a traced object (MQTT.js's CONNECT packet under DEBUG). */
const PASSWORD_FIELD = /(["']?password["']?\s*[:=]\s*)("[^"]*"|'[^']*'|<Buffer[^>]*>|[^\s,}]+)/gi;

/**
 * redactUrlSecrets, and password fields of traced objects: for text this process did not write itself (a library's
 * debug trace, Nest's own messages).
 */
export function redactSecrets(text: string): string {
  return redactUrlSecrets(/password/i.test(text) ? text.replace(PASSWORD_FIELD, '$1[redacted]') : text);
}

function formatValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message);
  if (typeof value === 'string') return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

export function createLogger(scope: string, options: LoggerOptions = {}): Logger {
  const envLevel = process.env['LOG_LEVEL'] as LogLevel | undefined;
  const level = options.level ?? (envLevel && envLevel in ORDER ? envLevel : 'info');
  const format = options.format ?? (process.env['LOG_FORMAT'] === 'json' ? 'json' : 'text');
  const sink = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const write = (line: string): void => sink(redactUrlSecrets(line));

  const log = (lvl: LogLevel, message: string, fields: Record<string, unknown> = {}): void => {
    if (ORDER[lvl] < ORDER[level]) return;
    const time = new Date().toISOString();
    if (format === 'json') {
      const record: Record<string, unknown> = { time, level: lvl, scope, msg: message };
      for (const [k, v] of Object.entries(fields)) record[k] = v instanceof Error ? v.message : v;
      write(JSON.stringify(record));
      return;
    }
    const extra = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${formatValue(v)}`)
      .join(' ');
    write(`${time} ${lvl.toUpperCase().padEnd(5)} [${scope}] ${message}${extra ? ' ' + extra : ''}`);
  };

  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (sub) => createLogger(`${scope}.${sub}`, { level, format, write: sink }),
  };
}
