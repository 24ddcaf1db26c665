import type { Metadata, ServiceError } from '@grpc/grpc-js';
import {
  AdminServiceClient, ApiKeyInfo, CreateApiKeyRequest, CreateApiKeyResponse, ListApiKeysRequest, ListApiKeysResponse,
  RevokeApiKeyRequest, RotateRigKeyProgress, RotateRigKeyRequest,
} from '@rigwarden/protocol';
import { EXIT, exitCodeForStatus } from './exit-codes';
import { UsageError, explainGrpcError, isServiceError, value, type CommandGroup, type CommandSpec, type ParsedArgs } from './fleet-command';
import { renderTable } from './format';
import { authMetadata, channelCredentials, type ConnectionOptions } from './grpc-client';

/** Where an admin command writes, and what time it is (tests pass their own). */
export interface AdminIo {
  out(text: string): void;
  err(text: string): void;
  now(): number;
}

/** What an AdminService subcommand gets: a connected client, the API key metadata and the common options. */
export interface AdminContext {
  client: AdminServiceClient;
  metadata: Metadata;
  timeoutMs: number;
  json: boolean;
  io: AdminIo;
}

export interface AdminCommand extends CommandSpec {
  run(ctx: AdminContext, args: ParsedArgs): Promise<number>;
}

type Unary<Req, Res> = (req: Req, md: Metadata, opts: { deadline: Date }, cb: (err: ServiceError | null, res: Res) => void) => unknown;

export function adminUnary<Req, Res>(ctx: AdminContext, method: Unary<Req, Res>, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(ctx.client, req, ctx.metadata, { deadline: new Date(Date.now() + ctx.timeoutMs) }, (err, res) => (err ? reject(err) : resolve(res)));
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

const keysCreate: AdminCommand = {
  name: 'create',
  summary: 'a new API key; its token is printed once (store it now: only its hash is kept)',
  flags: {
    name: { kind: 'value', placeholder: 'NAME', description: "who or what the key is for (required)" },
    scopes: { kind: 'value', placeholder: 'SCOPES', choices: ['read', 'operate', 'admin'], description: 'read, operate and/or admin, comma-separated (required)' },
    'ttl-days': { kind: 'value', placeholder: 'N', description: 'expires after N days (default 0: never)' },
  },
  examples: ['rigctl keys create --name alice --scopes operate --ttl-days 90'],
  async run(ctx, args) {
    const name = value(args, 'name') ?? '';
    const scopes = (value(args, 'scopes') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (!name || scopes.length === 0) throw new UsageError('keys create needs --name and --scopes (e.g. --scopes read)');
    const ttlText = value(args, 'ttl-days') ?? '0';
    const ttlDays = Number(ttlText);
    if (!Number.isInteger(ttlDays) || ttlDays < 0) throw new UsageError(`--ttl-days needs a whole number of days (0: never expires), got "${ttlText}"`);
    const created = await adminUnary(ctx, ctx.client.createApiKey, CreateApiKeyRequest.fromPartial({ name, scopes, ttlDays }));
    if (ctx.json) ctx.io.out(JSON.stringify(CreateApiKeyResponse.toJSON(created), null, 2));
    else {
      ctx.io.out(created.token);
      ctx.io.err(`API key ${created.key?.keyId} (${created.key?.scopes.join(',')}) created. The token above is shown once: store it now (e.g. in a file with mode 0600 for --api-key-file).`);
    }
    return EXIT.OK;
  },
};

const keysList: AdminCommand = {
  name: 'list',
  summary: 'every API key: scopes, created, expires, last used, revoked',
  flags: {},
  async run(ctx) {
    const listed = await adminUnary(ctx, ctx.client.listApiKeys, ListApiKeysRequest.fromPartial({}));
    ctx.io.out(ctx.json ? JSON.stringify(ListApiKeysResponse.toJSON(listed), null, 2) : keysTable(listed.keys, ctx.io.now()));
    return EXIT.OK;
  },
};

const keysRevoke: AdminCommand = {
  name: 'revoke',
  summary: 'the key stops working on its next call',
  arguments: [{ name: '<key-id>', description: 'the key (rigctl keys list shows them)' }],
  flags: {},
  async run(ctx, args) {
    const keyId = args.positional[0];
    if (!keyId) throw new UsageError('keys revoke needs a key id (rigctl keys list shows them)');
    const revoked = await adminUnary(ctx, ctx.client.revokeApiKey, RevokeApiKeyRequest.fromPartial({ keyId }));
    ctx.io.out(ctx.json ? JSON.stringify(ApiKeyInfo.toJSON(revoked), null, 2) : `revoked API key ${revoked.keyId} (${revoked.name}); it is refused from its next call on`);
    return EXIT.OK;
  },
};

const keysRotate: AdminCommand = {
  name: 'rotate',
  summary: "give a rig's agent a new command key over the signed channel, then retire the old one",
  description: `Deliver a new command key to the rig's agent over the signed channel, switch to it once the agent confirms, then
retire the old one; prints each step. The old key stays in use if the agent does not confirm within --agent-timeout
(exit 1).`,
  flags: {
    rig: { kind: 'value', placeholder: 'ID', description: 'the rig (required)' },
    'agent-timeout': { kind: 'value', placeholder: 'SECONDS', description: 'how long to wait for the agent to confirm (default 60)' },
  },
  examples: ['rigctl keys rotate --rig sim-001'],
  async run(ctx, args) {
    const rigId = value(args, 'rig');
    if (!rigId) throw new UsageError('keys rotate needs --rig ID');
    const timeoutText = value(args, 'agent-timeout') ?? '60';
    const timeoutSeconds = Number(timeoutText);
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds <= 0) throw new UsageError(`--agent-timeout needs a whole number of seconds, got "${timeoutText}"`);
    const last = await new Promise<RotateRigKeyProgress | undefined>((resolve, reject) => {
      let latest: RotateRigKeyProgress | undefined;
      // The whole rotation may take two agent round trips plus the grace between them: allow for both.
      const stream = ctx.client.rotateRigKey(RotateRigKeyRequest.fromPartial({ rigId, timeoutSeconds }), ctx.metadata, { deadline: new Date(Date.now() + (2 * timeoutSeconds + 30) * 1000) });
      stream.on('data', (p: RotateRigKeyProgress) => {
        latest = p;
        ctx.io.out(ctx.json ? JSON.stringify(RotateRigKeyProgress.toJSON(p)) : `${p.step.padEnd(10)}  ${p.message}`);
      });
      stream.on('error', reject);
      stream.on('end', () => resolve(latest));
    });
    return last?.step === 'retired' ? EXIT.OK : EXIT.FAILED;
  },
};

/** rigctl keys create|list|revoke|rotate. */
export const keysCommands: CommandGroup<AdminCommand> = {
  name: 'keys',
  summary: 'API keys (create, list, revoke) and rigs\' command keys (rotate)',
  commands: [keysCreate, keysList, keysRevoke, keysRotate],
};

/**
 * Runs one AdminService subcommand with its parsed arguments; answers its exit code (exit-codes.ts: 0 done, 1 failed,
 * 2 usage, 3 not found, 4 denied, 5 unreachable). A usage error is printed with `io.usage`.
 */
export async function runAdminCommand(command: AdminCommand, args: ParsedArgs, connection: ConnectionOptions, io: AdminIo & { usage?: string }): Promise<number> {
  let client: AdminServiceClient | undefined;
  try {
    const timeoutText = value(args, 'timeout');
    const timeoutMs = timeoutText === undefined ? 10_000 : Number(timeoutText);
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError('--timeout needs a positive number of milliseconds');
    client = new AdminServiceClient(connection.server, channelCredentials(connection));
    return await command.run({ client, metadata: authMetadata(connection), timeoutMs, json: args.switches.has('json'), io }, args);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`rigctl: ${err.message}${io.usage ? `\n\nusage: ${io.usage}` : ''}`);
      return EXIT.USAGE;
    }
    if (isServiceError(err)) {
      io.err(`rigctl: ${explainGrpcError(err, connection)}`);
      return exitCodeForStatus(err.code);
    }
    io.err(`rigctl: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.FAILED;
  } finally {
    client?.close();
  }
}
