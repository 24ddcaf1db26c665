import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Metadata, credentials, type ChannelCredentials } from '@grpc/grpc-js';
import type { FlagSpec } from './fleet-command';

/** How rigctl reaches the controller: address, API key and TLS. */
export interface ConnectionOptions {
  server: string;
  /** The API token ("rwk_..."), or '' to send none (the controller then answers UNAUTHENTICATED). */
  apiKey: string;
  /** Where the key came from, for error messages (never the key itself); with no key, where rigctl looked for one. */
  apiKeySource: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

export class ConnectionOptionError extends Error {
  override readonly name = 'ConnectionOptionError';
}

/** The connection options every gRPC command accepts (rigctl's global options), with their environment variables. */
export const CONNECTION_FLAGS = {
  server: { kind: 'value', placeholder: 'host:port', description: 'controller gRPC address (default $RIGWARDEN_SERVER or 127.0.0.1:50051)' },
  'api-key': { kind: 'value', placeholder: 'TOKEN', description: 'API key (default $RIGWARDEN_API_KEY); prefer a file: the key is visible in ps' },
  'api-key-file': { kind: 'value', placeholder: 'FILE', completes: 'file', description: 'file holding the API key (default $RIGWARDEN_API_KEY_FILE or ./data/admin.token)' },
  'tls-ca': { kind: 'value', placeholder: 'FILE', completes: 'file', description: 'connect over TLS, trusting this CA (default $RIGWARDEN_TLS_CA)' },
  'tls-cert': { kind: 'value', placeholder: 'FILE', completes: 'file', description: 'client certificate for mutual TLS (default $RIGWARDEN_TLS_CERT)' },
  'tls-key': { kind: 'value', placeholder: 'FILE', completes: 'file', description: 'its private key (default $RIGWARDEN_TLS_KEY)' },
} as const satisfies Readonly<Record<string, FlagSpec>>;

export type ConnectionFlag = keyof typeof CONNECTION_FLAGS;

/**
 * The connection from the options given (by their flag names, `api-key-file`), the environment and the defaults, in
 * that order of precedence.
 */
export function connectionOptions(flags: Readonly<Partial<Record<ConnectionFlag, string>>>, env: NodeJS.ProcessEnv, cwd = process.cwd()): ConnectionOptions {
  for (const [name, value] of Object.entries(flags)) {
    if (value === '') throw new ConnectionOptionError(`--${name} needs a value`);
  }
  const server = flags.server ?? (env['RIGWARDEN_SERVER'] || '127.0.0.1:50051');
  let apiKey = '';
  let apiKeySource: string;
  const inline = flags['api-key'] ?? (flags['api-key-file'] !== undefined ? undefined : env['RIGWARDEN_API_KEY'] || undefined);
  if (inline !== undefined) {
    apiKey = inline.trim();
    apiKeySource = flags['api-key'] !== undefined ? '--api-key' : 'RIGWARDEN_API_KEY';
  } else {
    const explicit = flags['api-key-file'] ?? (env['RIGWARDEN_API_KEY_FILE'] || undefined);
    const file = resolve(cwd, explicit ?? 'data/admin.token');
    if (existsSync(file)) {
      apiKey = readFileSync(file, 'utf8').trim();
      apiKeySource = file;
    } else if (explicit !== undefined) {
      throw new ConnectionOptionError(`API key file ${file} does not exist (from ${flags['api-key-file'] !== undefined ? '--api-key-file' : 'RIGWARDEN_API_KEY_FILE'})`);
    } else {
      apiKeySource = `none: looked for --api-key, $RIGWARDEN_API_KEY, --api-key-file, $RIGWARDEN_API_KEY_FILE and ${file} (no such file)`;
    }
  }
  const caFile = flags['tls-ca'] ?? (env['RIGWARDEN_TLS_CA'] || undefined);
  const certFile = flags['tls-cert'] ?? (env['RIGWARDEN_TLS_CERT'] || undefined);
  const keyFile = flags['tls-key'] ?? (env['RIGWARDEN_TLS_KEY'] || undefined);
  if ((certFile === undefined) !== (keyFile === undefined)) throw new ConnectionOptionError('--tls-cert and --tls-key go together (mutual TLS)');
  if (certFile !== undefined && caFile === undefined) throw new ConnectionOptionError('--tls-cert needs --tls-ca (the CA that signed the controller certificate)');
  const tls = caFile !== undefined ? { caFile, certFile, keyFile } : undefined;
  return { server, apiKey, apiKeySource, ...(tls ? { tls } : {}) };
}

/** Insecure for plain connections, TLS (optionally mutual) when a CA is given. */
export function channelCredentials(options: ConnectionOptions): ChannelCredentials {
  if (!options.tls?.caFile) return credentials.createInsecure();
  const read = (file: string, what: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConnectionOptionError(`${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const { caFile, certFile, keyFile } = options.tls;
  return credentials.createSsl(read(caFile, '--tls-ca'), keyFile ? read(keyFile, '--tls-key') : null, certFile ? read(certFile, '--tls-cert') : null);
}

/** The metadata carrying the API key (empty when there is none). */
export function authMetadata(options: ConnectionOptions): Metadata {
  const metadata = new Metadata();
  if (options.apiKey !== '') metadata.set('authorization', `Bearer ${options.apiKey}`);
  return metadata;
}
