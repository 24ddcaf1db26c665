import { status, type Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  AdminServiceClient, ApiKeyInfo, CreateApiKeyRequest, CreateApiKeyResponse, ListApiKeysRequest, ListApiKeysResponse,
  RevokeApiKeyRequest, RotateRigKeyProgress, RotateRigKeyRequest,
} from '@rigwarden/protocol';
import { EXIT, exitCodeForStatus } from './exit-codes';
import { renderTable } from './format';
import { authMetadata, channelCredentials, type ConnectionOptions } from './grpc-client';

/** Where an admin command writes, and what time it is (tests pass their own). */
export interface AdminIo {
  out(text: string): void;
  err(text: string): void;
  now(): number;
}

export class AdminUsageError extends Error {
  override readonly name = 'AdminUsageError';
}

export const KEYS_USAGE = `keys create --name NAME --scopes read|operate|admin[,...] [--ttl-days N]
                    a new API key; its token is printed once (store it now: only its hash is kept)
  keys list         every API key: scopes, created, expires, last used, revoked
  keys revoke <key-id>
                    the key stops working on its next call
  keys rotate --rig ID [--agent-timeout SECONDS]
                    deliver a new command key to the rig's agent over the signed channel, switch to it once the
                    agent confirms, then retire the old one; prints each step (the old key stays in use if the agent
                    does not confirm within --agent-timeout, default 60)`;

/** `--flag value` / `--flag=value` for the names in `valued`, `--json` as a switch, the rest positional. */
export function parseAdminArgs(argv: readonly string[], valued: readonly string[]): { positional: string[]; values: Map<string, string>; json: boolean; timeoutMs: number } {
  const values = new Map<string, string>();
  const positional: string[] = [];
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') { json = true; continue; }
    if (!arg.startsWith('--')) { positional.push(arg); continue; }
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (![...valued, 'timeout'].includes(name)) throw new AdminUsageError(`unknown option --${name}`);
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw new AdminUsageError(`--${name} needs a value`);
    values.set(name, value);
  }
  const timeoutText = values.get('timeout');
  const timeoutMs = timeoutText === undefined ? 10_000 : Number(timeoutText);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new AdminUsageError('--timeout needs a positive number of milliseconds');
  values.delete('timeout');
  return { positional, values, json, timeoutMs };
}

type Unary<Req, Res> = (req: Req, md: Metadata, opts: { deadline: Date }, cb: (err: ServiceError | null, res: Res) => void) => unknown;

export function adminUnary<Req, Res>(client: AdminServiceClient, method: Unary<Req, Res>, req: Req, md: Metadata, timeoutMs: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(client, req, md, { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

const day = (d: Date | undefined): string => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '-');

export function keysTable(keys: readonly ApiKeyInfo[], now: number): string {
  if (keys.length === 0) return 'no API keys';
  return renderTable(['KEY ID', 'NAME', 'SCOPES', 'STATE', 'CREATED', 'EXPIRES', 'LAST USED'], keys.map((k) => [
    k.keyId, k.name, k.scopes.join(','),
    k.revokedAt ? `revoked ${day(k.revokedAt)}` : k.expiresAt && k.expiresAt.getTime() <= now ? 'expired' : 'active',
    day(k.createdAt), k.expiresAt ? day(k.expiresAt) : 'never', day(k.lastUsedAt),
  ]));
}

/** rigctl keys ...: returns the exit code (exit-codes.ts: 0 done, 1 the rotation failed, 2 usage, 3 not found, 4 denied, 5 unreachable). */
export async function runKeysCommand(argv: readonly string[], connection: ConnectionOptions, io: AdminIo): Promise<number> {
  const [sub, ...rest] = argv;
  const client = new AdminServiceClient(connection.server, channelCredentials(connection));
  const md = authMetadata(connection);
  try {
    switch (sub) {
      case 'create': {
        const args = parseAdminArgs(rest, ['name', 'scopes', 'ttl-days']);
        const name = args.values.get('name') ?? '';
        const scopes = (args.values.get('scopes') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        if (!name || scopes.length === 0) throw new AdminUsageError('keys create needs --name and --scopes (e.g. --scopes read)');
        const ttlText = args.values.get('ttl-days') ?? '0';
        const ttlDays = Number(ttlText);
        if (!Number.isInteger(ttlDays) || ttlDays < 0) throw new AdminUsageError(`--ttl-days needs a whole number of days (0: never expires), got "${ttlText}"`);
        const created = await adminUnary(client, client.createApiKey, CreateApiKeyRequest.fromPartial({ name, scopes, ttlDays }), md, args.timeoutMs);
        if (args.json) io.out(JSON.stringify(CreateApiKeyResponse.toJSON(created), null, 2));
        else {
          io.out(created.token);
          io.err(`API key ${created.key?.keyId} (${created.key?.scopes.join(',')}) created. The token above is shown once: store it now (e.g. in a file with mode 0600 for --api-key-file).`);
        }
        return EXIT.OK;
      }
      case 'list': {
        const args = parseAdminArgs(rest, []);
        const listed = await adminUnary(client, client.listApiKeys, ListApiKeysRequest.fromPartial({}), md, args.timeoutMs);
        io.out(args.json ? JSON.stringify(ListApiKeysResponse.toJSON(listed), null, 2) : keysTable(listed.keys, io.now()));
        return EXIT.OK;
      }
      case 'revoke': {
        const args = parseAdminArgs(rest, []);
        const keyId = args.positional[0];
        if (!keyId) throw new AdminUsageError('keys revoke needs a key id (rigctl keys list shows them)');
        const revoked = await adminUnary(client, client.revokeApiKey, RevokeApiKeyRequest.fromPartial({ keyId }), md, args.timeoutMs);
        io.out(args.json ? JSON.stringify(ApiKeyInfo.toJSON(revoked), null, 2) : `revoked API key ${revoked.keyId} (${revoked.name}); it is refused from its next call on`);
        return EXIT.OK;
      }
      case 'rotate': {
        const args = parseAdminArgs(rest, ['rig', 'agent-timeout']);
        const rigId = args.values.get('rig');
        if (!rigId) throw new AdminUsageError('keys rotate needs --rig ID');
        const timeoutText = args.values.get('agent-timeout') ?? '60';
        const timeoutSeconds = Number(timeoutText);
        if (!Number.isInteger(timeoutSeconds) || timeoutSeconds <= 0) throw new AdminUsageError(`--agent-timeout needs a whole number of seconds, got "${timeoutText}"`);
        const last = await new Promise<RotateRigKeyProgress | undefined>((resolve, reject) => {
          let latest: RotateRigKeyProgress | undefined;
          // The whole rotation may take two agent round trips plus the grace between them: allow for both.
          const stream = client.rotateRigKey(RotateRigKeyRequest.fromPartial({ rigId, timeoutSeconds }), md, { deadline: new Date(Date.now() + (2 * timeoutSeconds + 30) * 1000) });
          stream.on('data', (p: RotateRigKeyProgress) => {
            latest = p;
            io.out(args.json ? JSON.stringify(RotateRigKeyProgress.toJSON(p)) : `${p.step.padEnd(10)}  ${p.message}`);
          });
          stream.on('error', reject);
          stream.on('end', () => resolve(latest));
        });
        return last?.step === 'retired' ? EXIT.OK : EXIT.FAILED;
      }
      default:
        throw new AdminUsageError(sub ? `unknown keys command "${sub}"` : 'keys needs a command: create, list, revoke or rotate');
    }
  } catch (err) {
    return reportAdminError(err, connection, io, KEYS_USAGE);
  } finally {
    client.close();
  }
}

/** Usage errors exit 2 with the usage; gRPC errors exit with rigctl's code for their status (exit-codes.ts) and one line that says what to do. */
export function reportAdminError(err: unknown, connection: ConnectionOptions, io: AdminIo, usage: string): number {
  if (err instanceof AdminUsageError) {
    io.err(`rigctl: ${err.message}\n\nusage: rigctl ${usage}`);
    return EXIT.USAGE;
  }
  if (err !== null && typeof err === 'object' && typeof (err as ServiceError).code === 'number') {
    const e = err as ServiceError;
    const text = e.code === status.UNAVAILABLE ? `cannot reach the controller at ${connection.server} (${e.details}); is it running? Set --server or RIGWARDEN_SERVER`
      : e.code === status.UNAUTHENTICATED ? `the controller refused the API key from ${connection.apiKeySource} (${e.details})`
      : e.code === status.PERMISSION_DENIED ? `permission denied: ${e.details}`
      : e.code === status.INVALID_ARGUMENT || e.code === status.NOT_FOUND || e.code === status.FAILED_PRECONDITION ? e.details
      : `${status[e.code] ?? e.code}: ${e.details}`;
    io.err(`rigctl: ${text}`);
    return exitCodeForStatus(e.code);
  }
  throw err;
}
