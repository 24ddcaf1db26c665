import pino from 'pino';

/**
 * Structured logging behind a small interface: JSON lines through pino (the default off a terminal) or one human line
 * per record (on a terminal, LOG_FORMAT=text). Never pass secrets in fields; secrets in URLs are redacted from every line.
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
  if (value instanceof Error) return JSON.stringify(errorChain(value));
  if (typeof value === 'string') return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

/** An error's message followed by its causes' (`a: caused by b`), for one text line. */
function errorChain(error: Error): string {
  const parts = [error.message];
  let cause: unknown = error.cause;
  for (let depth = 0; cause !== undefined && depth < 5; depth++) {
    parts.push(cause instanceof Error ? cause.message : String(cause));
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return parts.join(': caused by ');
}

/** Fields with every Error replaced by pino's serialization of it: type, message, stack and its cause chain. */
function serializeErrors(fields: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Error) (out ??= { ...fields })[k] = pino.stdSerializers.errWithCause(v);
  }
  return out ?? fields;
}

/**
 * The output format when none is given: LOG_FORMAT (json or text), else text when the lines go to a terminal and
 * JSON lines otherwise (a service manager, a container, a file: what log shippers read).
 */
export function defaultLogFormat(env: NodeJS.ProcessEnv = process.env, terminal = process.stderr.isTTY === true): 'text' | 'json' {
  const wanted = env['LOG_FORMAT'];
  if (wanted === 'json' || wanted === 'text') return wanted;
  return terminal ? 'text' : 'json';
}

/**
 * A Logger. JSON lines are pino's (level names, ISO time, `scope` from the logger's name, errors with type, message,
 * stack and cause); the text format is one human line per record (errors as their message and causes). Every line
 * is written through redactUrlSecrets. Without `write`, lines go to stderr and the format follows defaultLogFormat;
 * with `write` (a test, an embedding program) it is text unless `format` or LOG_FORMAT says otherwise.
 */
export function createLogger(scope: string, options: LoggerOptions = {}): Logger {
  const envLevel = process.env['LOG_LEVEL'] as LogLevel | undefined;
  const level = options.level ?? (envLevel && envLevel in ORDER ? envLevel : 'info');
  const format = options.format ?? (options.write ? defaultLogFormat(process.env, true) : defaultLogFormat());
  const sink = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  return format === 'json' ? jsonLogger(scope, level, sink) : textLogger(scope, level, sink);
}

function textLogger(scope: string, level: LogLevel, sink: (line: string) => void): Logger {
  const log = (lvl: LogLevel, message: string, fields: Record<string, unknown> = {}): void => {
    if (ORDER[lvl] < ORDER[level]) return;
    const extra = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${formatValue(v)}`)
      .join(' ');
    sink(redactUrlSecrets(`${new Date().toISOString()} ${lvl.toUpperCase().padEnd(5)} [${scope}] ${message}${extra ? ' ' + extra : ''}`));
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (sub) => textLogger(`${scope}.${sub}`, level, sink),
  };
}

function jsonLogger(scope: string, level: LogLevel, sink: (line: string) => void): Logger {
  // pino writes synchronously to this stream: a line is out before the call returns (a crash right after loses none).
  const stream = { write: (line: string) => sink(redactUrlSecrets(line.endsWith('\n') ? line.slice(0, -1) : line)) };
  const root = pino({
    level, base: undefined, messageKey: 'msg', timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }, stream);
  // Each scope is a child of the root (not of its parent: the scope binding would be written twice).
  const scoped = (name: string): Logger => {
    const p = root.child({ scope: name });
    return {
      debug: (m, f) => p.debug(f ? serializeErrors(f) : {}, m),
      info: (m, f) => p.info(f ? serializeErrors(f) : {}, m),
      warn: (m, f) => p.warn(f ? serializeErrors(f) : {}, m),
      error: (m, f) => p.error(f ? serializeErrors(f) : {}, m),
      child: (sub) => scoped(`${name}.${sub}`),
    };
  };
  return scoped(scope);
}
