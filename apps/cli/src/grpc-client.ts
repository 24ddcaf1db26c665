import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Metadata, credentials, type ChannelCredentials } from '@grpc/grpc-js';

/** How rigctl reaches the controller: address, API key and TLS. */
export interface ConnectionOptions {
  server: string;
  /** The API token ("rwk_..."), or '' to send none (the controller then answers UNAUTHENTICATED). */
  apiKey: string;
  /** Where the key came from, for error messages (never the key itself). */
  apiKeySource: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

export class ConnectionOptionError extends Error {
  override readonly name = 'ConnectionOptionError';
}

/** The connection flags every gRPC command accepts, with their environment variables. */
export const CONNECTION_USAGE = `connection:
  --server host:port     controller gRPC address (default $RIGWARDEN_SERVER or 127.0.0.1:50051)
  --api-key TOKEN        API key (default $RIGWARDEN_API_KEY); prefer a file: the key is visible in ps
  --api-key-file FILE    file holding the API key (default $RIGWARDEN_API_KEY_FILE or ./data/admin.token)
  --tls-ca FILE          connect over TLS, trusting this CA (default $RIGWARDEN_TLS_CA)
  --tls-cert FILE        client certificate for mutual TLS (default $RIGWARDEN_TLS_CERT)
  --tls-key FILE         its private key (default $RIGWARDEN_TLS_KEY)`;

const FLAGS = ['server', 'api-key', 'api-key-file', 'tls-ca', 'tls-cert', 'tls-key'] as const;

/**
 * Takes the connection flags out of `argv` (both `--flag value` and `--flag=value`) and returns them with the rest of
 * the arguments. Order of precedence: flag, then environment, then the default.
 */
export function parseConnectionOptions(argv: readonly string[], env: NodeJS.ProcessEnv, cwd = process.cwd()): { options: ConnectionOptions; rest: string[] } {
  const flags = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') ? (eq > 0 ? arg.slice(2, eq) : arg.slice(2)) : '';
    if (!(FLAGS as readonly string[]).includes(name)) { rest.push(arg); continue; }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw new ConnectionOptionError(`--${name} needs a value`);
    flags.set(name, value);
  }
  const server = flags.get('server') ?? (env['RIGWARDEN_SERVER'] || '127.0.0.1:50051');
  let apiKey = '';
  let apiKeySource = 'none';
  const inline = flags.get('api-key') ?? (flags.has('api-key-file') ? undefined : env['RIGWARDEN_API_KEY'] || undefined);
  if (inline !== undefined) {
    apiKey = inline.trim();
    apiKeySource = flags.has('api-key') ? '--api-key' : 'RIGWARDEN_API_KEY';
  } else {
    const explicit = flags.get('api-key-file') ?? (env['RIGWARDEN_API_KEY_FILE'] || undefined);
    const file = resolve(cwd, explicit ?? 'data/admin.token');
    if (existsSync(file)) {
      apiKey = readFileSync(file, 'utf8').trim();
      apiKeySource = file;
    } else if (explicit !== undefined) {
      throw new ConnectionOptionError(`API key file ${file} does not exist (from ${flags.has('api-key-file') ? '--api-key-file' : 'RIGWARDEN_API_KEY_FILE'})`);
    }
  }
  const caFile = flags.get('tls-ca') ?? (env['RIGWARDEN_TLS_CA'] || undefined);
  const certFile = flags.get('tls-cert') ?? (env['RIGWARDEN_TLS_CERT'] || undefined);
  const keyFile = flags.get('tls-key') ?? (env['RIGWARDEN_TLS_KEY'] || undefined);
  if ((certFile === undefined) !== (keyFile === undefined)) throw new ConnectionOptionError('--tls-cert and --tls-key go together (mutual TLS)');
  if (certFile !== undefined && caFile === undefined) throw new ConnectionOptionError('--tls-cert needs --tls-ca (the CA that signed the controller certificate)');
  const tls = caFile !== undefined ? { caFile, certFile, keyFile } : undefined;
  return { options: { server, apiKey, apiKeySource, ...(tls ? { tls } : {}) }, rest };
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
