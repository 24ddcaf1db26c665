/**
 * The gRPC authentication interceptor over a real server and real SQLite: every RPC of FleetService and
 * AdminService × every scope (and no key, a bad key, a revoked and an expired key) answers exactly what RPC_SCOPES
 * says; a read-only key is refused on every mutating RPC and each refusal is audited; revocation takes effect on the
 * next call; last-used time is recorded; a client cannot claim another principal.
 */
import {
  Client, Metadata, Server, ServerCredentials, credentials, status, type MethodDefinition, type ServiceDefinition,
} from '@grpc/grpc-js';
import { AdminServiceService, FleetServiceService } from '@rigwarden/protocol';
import { API_SCOPES, ApiKeyHasher, AuditChain, SecretBytes, type ApiScope } from '@rigwarden/security';
import { ManualClock } from '@rigwarden/shared';
import { grpcAuth, makeTempDir, type TempDir } from '@rigwarden/testing';
import { AuditRepository } from '../audit/audit.repository';
import { RefusalAudit } from '../audit/refusal-audit';
import { migrate } from '../persistence/migrations';
import { SqliteDatabase } from '../persistence/sqlite-database';
import { ApiAuthService } from '../security/api-auth.service';
import { ApiKeyRepository } from '../security/api-key.repository';
import { ApiKeyService } from '../security/api-key.service';
import { ADMIN_RPC_SCOPES, FLEET_RPC_SCOPES, REFLECTION_SERVICE, RPC_SCOPES, authInterceptor, isMutatingRpc } from './auth.interceptor';
import { KEY_ID_METADATA, PRINCIPAL_METADATA, principalOf } from './principal';

type AnyDefinition = MethodDefinition<unknown, unknown>;
const SERVICES = [FleetServiceService, AdminServiceService] as unknown as Array<Record<string, AnyDefinition>>;
const ALL_METHODS: AnyDefinition[] = SERVICES.flatMap((s) => Object.values(s));

/**
 * Handlers that answer an empty (default) response and report the principal they were given in the trailing
 * metadata: the interceptor is the unit under test, the handlers only show whether the call got through.
 */
function echoHandlers(service: Record<string, AnyDefinition>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(service).map(([name, def]) => {
    const trailer = (call: { metadata: Metadata }): Metadata => {
      const md = new Metadata();
      const { principal, keyId } = principalOf(call);
      md.set('seen-principal', principal);
      md.set('seen-key-id', keyId);
      return md;
    };
    if (def.responseStream) {
      return [name, (call: { metadata: Metadata; end(md?: Metadata): void }) => call.end(trailer(call))];
    }
    return [name, (call: { metadata: Metadata }, callback: (err: null, res: unknown, trailer: Metadata) => void) =>
      callback(null, def.responseDeserialize(Buffer.alloc(0)), trailer(call))];
  }));
}

interface CallOutcome { code: status; details: string; trailer: Metadata }

describe('gRPC authentication interceptor', () => {
  let dir: TempDir;
  let db: SqliteDatabase;
  let server: Server;
  let client: Client;
  let keys: ApiKeyService;
  let repo: ApiKeyRepository;
  let audit: AuditRepository;
  let refusals: RefusalAudit;
  const clock = new ManualClock(Date.parse('2026-12-01T12:00:00Z'));
  const tokens = {} as Record<ApiScope, string>;

  /** Calls `def` with `md` and reports the final status (a stream is read to its end). */
  function invoke(def: AnyDefinition, md: Metadata): Promise<CallOutcome> {
    return new Promise((resolve) => {
      const deadline = new Date(Date.now() + 5000);
      const request = def.requestDeserialize(Buffer.alloc(0));
      if (def.responseStream) {
        const stream = client.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, request, md, { deadline });
        stream.on('data', () => undefined);
        stream.on('error', () => undefined);
        stream.on('status', (s) => resolve({ code: s.code, details: s.details, trailer: s.metadata }));
        return;
      }
      // The status event carries the trailers and comes after the callback: resolve on it.
      const call = client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, request, md, { deadline }, () => undefined);
      call.on('status', (s) => resolve({ code: s.code, details: s.details, trailer: s.metadata }));
    });
  }

  beforeAll(async () => {
    dir = makeTempDir();
    db = await SqliteDatabase.open(`${dir.path}/auth.db`);
    await migrate(db);
    const hasher = new ApiKeyHasher(SecretBytes.generate());
    repo = new ApiKeyRepository(db);
    audit = new AuditRepository(db, new AuditChain(SecretBytes.generate()), () => clock.now());
    keys = new ApiKeyService(repo, hasher, clock);
    for (const scope of API_SCOPES) tokens[scope] = (await keys.create({ name: `${scope}-key`, scopes: [scope] })).token.reveal();
    refusals = new RefusalAudit(audit);
    server = new Server({ interceptors: [authInterceptor(new ApiAuthService(repo, hasher, refusals, clock, 0), audit)] });
    for (const service of SERVICES) server.addService(service as unknown as ServiceDefinition, echoHandlers(service) as never);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  });

  afterAll(async () => {
    client?.close();
    await new Promise<void>((resolve) => (server ? server.tryShutdown(() => resolve()) : resolve()));
    await db?.close();
    dir?.remove();
  });

  it('has a scope for every method of both services', () => {
    expect(RPC_SCOPES.entries().map((e) => e.path).filter((p) => p.startsWith('/rigwarden.')).sort()).toEqual(ALL_METHODS.map((m) => m.path).sort());
    expect(RPC_SCOPES.required(REFLECTION_SERVICE.v1.path)).toBe('read');
    expect(Object.keys(FLEET_RPC_SCOPES).sort()).toEqual(Object.keys(FleetServiceService).sort());
    expect(Object.values(ADMIN_RPC_SCOPES).every((s) => s === 'admin')).toBe(true);
    expect(RPC_SCOPES.required('/rigwarden.v1.FleetService/NoSuchMethod')).toBe('admin');
  });

  it('follows the rule fleet.proto states: read for List/Get/Watch/Query/DryRun, admin for ApplyFleetSpec and AdminService, operate for commands', () => {
    const byRule = (path: string): ApiScope => {
      const [service, method] = path.split('/').slice(1) as [string, string];
      if (service.endsWith('AdminService') || method === 'ApplyFleetSpec') return 'admin';
      return /^(List|Get|Watch|Query|DryRun)/.test(method) ? 'read' : 'operate';
    };
    expect(RPC_SCOPES.entries().filter((e) => e.path.startsWith('/rigwarden.'))).toEqual(ALL_METHODS.map((m) => ({ path: m.path, scope: byRule(m.path) })).sort((a, b) => a.path.localeCompare(b.path)));
  });

  const matrix = RPC_SCOPES.matrix().filter((m) => m.path.startsWith('/rigwarden.'));
  it.each(matrix)('$path with a $presented key: allowed=$allowed (needs $required)', async ({ path, presented, allowed }) => {
    const def = ALL_METHODS.find((m) => m.path === path)!;
    const outcome = await invoke(def, grpcAuth(tokens[presented]));
    if (allowed) {
      expect({ code: outcome.code, principal: outcome.trailer.get('seen-principal')[0] }).toEqual({ code: status.OK, principal: expect.stringMatching(/^apikey:[0-9a-f]{16}$/) });
    } else {
      expect(outcome.code).toBe(status.PERMISSION_DENIED);
      expect(outcome.details).toContain(`needs an API key with scope`);
    }
  });

  it.each(ALL_METHODS.map((m) => ({ path: m.path, def: m })))('$path without a key, with a malformed or a wrong key: UNAUTHENTICATED', async ({ def }) => {
    const wrong = tokens.admin.slice(0, -4) + (tokens.admin.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const bare = new Metadata();
    const malformed = new Metadata();
    malformed.set('authorization', 'Bearer not-a-key');
    for (const md of [bare, malformed, grpcAuth(wrong)]) {
      const outcome = await invoke(def, md);
      expect(outcome.code).toBe(status.UNAUTHENTICATED);
      expect(outcome.details).not.toContain(wrong.slice(21));
    }
  });

  it('refuses a read-only key on every mutating RPC and audits the refusals: the first as a row, the rest of the window as one row with their count', async () => {
    const mutating = ALL_METHODS.filter((m) => isMutatingRpc(m.path));
    expect(mutating.length).toBe(14); // 11 FleetService commands, spec changes and releases, 3 AdminService changes
    clock.advance(refusals.windowMs); // the matrix above refused this key too: start a new window
    const since = clock.now();
    for (const def of mutating) expect((await invoke(def, grpcAuth(tokens.read))).code).toBe(status.PERMISSION_DENIED);
    await refusals.flush();
    const readId = tokens.read.slice(4, 20);
    const rows = (await audit.query({ principal: `apikey:${readId}`, since, limit: 1000 }))
      .filter((r) => r.outcome === 'denied' || (r.outcome === 'refused' && (JSON.parse(r.detail) as { from: number }).from >= since));
    expect(rows).toHaveLength(2);
    const first = rows.find((r) => r.outcome === 'denied')!;
    const summary = JSON.parse(rows.find((r) => r.outcome === 'refused')!.detail) as { count: number; actions: Record<string, number>; reasons: Record<string, number>; source: string };
    expect(summary).toMatchObject({ count: 13, source: `key:${readId}`, reasons: { 'denied:insufficient_scope': 13 } });
    expect([first.action, ...Object.keys(summary.actions)].map((a) => `/rigwarden.v1.${a}`).sort()).toEqual(mutating.map((m) => m.path).sort());
    expect(first.key_id === readId && JSON.parse(first.detail).reason === 'insufficient_scope').toBe(true);
    expect(await audit.verify()).toMatchObject({ ok: true });
  });

  it('audits an accepted mutating call with its principal, key id, target and outcome', async () => {
    const adminId = tokens.admin.slice(4, 20);
    const before = (await audit.query({ limit: 1 }))[0]?.seq ?? 0;
    const client2 = client;
    await new Promise<void>((resolve, reject) => client2.makeUnaryRequest(
      FleetServiceService.restartMiner.path, FleetServiceService.restartMiner.requestSerialize, FleetServiceService.restartMiner.responseDeserialize,
      { rigId: 'rig-7', minerId: '', reason: 'fan noise', wait: false, timeoutSeconds: 0 }, grpcAuth(tokens.operate), (err) => (err ? reject(err) : resolve()),
    ));
    await invoke(FleetServiceService.listRigs as unknown as AnyDefinition, grpcAuth(tokens.admin)); // a read: not audited
    const rows = (await audit.query({ limit: 10 })).filter((r) => r.seq > before);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: 'FleetService/RestartMiner', target: 'rig-7', outcome: 'ok', principal: `apikey:${tokens.operate.slice(4, 20)}` });
    expect(rows[0]!.principal).not.toBe(`apikey:${adminId}`);
  });

  it('replaces principal metadata the client sent with the verified one', async () => {
    const md = grpcAuth(tokens.read);
    md.set(PRINCIPAL_METADATA, 'apikey:0000000000000000');
    md.set(KEY_ID_METADATA, '0000000000000000');
    const outcome = await invoke(FleetServiceService.getRig as unknown as AnyDefinition, md);
    expect(outcome.code).toBe(status.OK);
    expect(outcome.trailer.get('seen-principal')).toEqual([`apikey:${tokens.read.slice(4, 20)}`]);
    expect(outcome.trailer.get('seen-key-id')).toEqual([tokens.read.slice(4, 20)]);
  });

  it('takes a revocation into account on the very next call, and records last-used time', async () => {
    const { token, info } = await keys.create({ name: 'short-lived', scopes: ['read'] });
    const getRig = FleetServiceService.getRig as unknown as AnyDefinition;
    clock.advance(5000);
    expect((await invoke(getRig, grpcAuth(token.reveal()))).code).toBe(status.OK);
    expect((await repo.info(info.id))?.lastUsed).toBe(clock.now());
    await keys.revoke(info.id);
    const outcome = await invoke(getRig, grpcAuth(token.reveal()));
    expect(outcome).toMatchObject({ code: status.UNAUTHENTICATED, details: `API key ${info.id} was revoked` });
    const [row] = await audit.query({ principal: `apikey:${info.id}`, limit: 1 });
    expect(row).toMatchObject({ outcome: 'unauthenticated', action: 'FleetService/GetRig' });
    expect(JSON.parse(row!.detail)).toMatchObject({ reason: 'revoked' });
  });

  it('refuses a key once it has expired', async () => {
    const { token } = await keys.create({ name: 'one-day', scopes: ['operate'], ttlDays: 1 });
    const listRigs = FleetServiceService.listRigs as unknown as AnyDefinition;
    expect((await invoke(listRigs, grpcAuth(token.reveal()))).code).toBe(status.OK);
    clock.advance(86_400_000);
    expect(await invoke(listRigs, grpcAuth(token.reveal()))).toMatchObject({ code: status.UNAUTHENTICATED, details: expect.stringContaining('has expired') });
    clock.advance(-86_400_000);
  });
});
