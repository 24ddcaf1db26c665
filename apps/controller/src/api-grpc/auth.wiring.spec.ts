/**
 * Authentication as the real controller serves it (AppModule, real broker, SQLite): every RPC of FleetService and
 * AdminService refuses a call without a key; a read-only key gets PERMISSION_DENIED on every mutating RPC, each refusal
 * audited; the read key still reads. Complements auth.interceptor.spec.ts (the interceptor over every RPC × scope).
 */
import 'reflect-metadata';
import { Client, Metadata, credentials, status, type MethodDefinition } from '@grpc/grpc-js';
import { Test, type TestingModule } from '@nestjs/testing';
import { AdminServiceService, FleetServiceService, type VerifyAuditResponse } from '@rigwarden/protocol';
import { grpcAuth, makeTempDir, readAdminToken, startTestBroker, type TempDir, type TestBroker } from '@rigwarden/testing';
import { AppModule } from '../app.module';
import { AuditRepository } from '../audit/audit.repository';
import { RefusalAuditService } from '../audit/refusal-audit.service';
import { loadControllerConfig } from '../config/controller-config';
import { SqliteDatabase } from '../persistence/sqlite-database';
import { ApiKeyService } from '../security/api-key.service';
import { isMutatingRpc } from './auth.interceptor';
import { FleetGrpcServer } from './fleet-grpc.server';

jest.setTimeout(30_000);

type AnyDefinition = MethodDefinition<unknown, unknown>;
const METHODS = [FleetServiceService, AdminServiceService].flatMap((s) => Object.values(s as unknown as Record<string, AnyDefinition>));

describe('authentication on the controller as wired', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let app: TestingModule;
  let client: Client;
  let readToken: string;

  function invoke(def: AnyDefinition, md: Metadata): Promise<{ code: status; details: string }> {
    return new Promise((resolve) => {
      const request = def.requestDeserialize(Buffer.alloc(0));
      const deadline = new Date(Date.now() + 5000);
      const call = def.responseStream
        ? client.makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, request, md, { deadline })
        : client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, request, md, { deadline }, () => undefined);
      if (def.responseStream) {
        call.on('data', () => undefined);
        call.on('error', () => undefined);
      }
      call.on('status', (s) => resolve({ code: s.code, details: s.details }));
    });
  }

  beforeAll(async () => {
    broker = await startTestBroker();
    dir = makeTempDir();
    const config = loadControllerConfig(['--data-dir', dir.path, '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0'], {
      MQTT_URL: broker.url, RIGWARDEN_TOPIC_ROOT: broker.topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${broker.topicRoot}`,
    });
    app = await Test.createTestingModule({ imports: [AppModule.forConfig(config)] }).compile();
    await app.init();
    readToken = (await app.get(ApiKeyService).create({ name: 'viewer', scopes: ['read'] })).token.reveal();
    client = new Client(app.get(FleetGrpcServer).address, credentials.createInsecure());
  });

  afterAll(async () => {
    client?.close();
    await app?.close();
    await broker?.stop();
    dir?.remove();
  });

  it.each(METHODS.map((m) => ({ path: m.path, def: m })))('$path without an API key: UNAUTHENTICATED', async ({ def }) => {
    expect(await invoke(def, new Metadata())).toEqual({ code: status.UNAUTHENTICATED, details: expect.stringContaining('no API key') });
  });

  it('refuses a read-only key on every mutating RPC, audits each refusal, and lets it read', async () => {
    const mutating = METHODS.filter((m) => isMutatingRpc(m.path));
    for (const def of mutating) {
      expect({ path: def.path, code: (await invoke(def, grpcAuth(readToken))).code }).toEqual({ path: def.path, code: status.PERMISSION_DENIED });
    }
    await app.get(RefusalAuditService).flush();
    const audit = await app.get(AuditRepository).query({ principal: `apikey:${readToken.slice(4, 20)}`, limit: 100 });
    // Aggregated: the first refusal of the key's window is a row, the rest one `refusals` row with their count.
    const first = audit.filter((r) => r.outcome === 'denied');
    const summaries = audit.filter((r) => r.outcome === 'refused').map((r) => JSON.parse(r.detail) as { count: number; actions: Record<string, number> });
    expect({ first: first.length, summaries: summaries.length, count: summaries[0]?.count }).toEqual({ first: 1, summaries: 1, count: mutating.length - 1 });
    expect([first[0]!.action, ...Object.keys(summaries[0]!.actions)].map((a) => `/rigwarden.v1.${a}`).sort()).toEqual(mutating.map((m) => m.path).sort());
    expect((await invoke(FleetServiceService.listRigs as unknown as AnyDefinition, grpcAuth(readToken))).code).toBe(status.OK);
  });

  it('VerifyAudit: an intact chain with its anchor, then the first row edited behind the triggers\' back', async () => {
    const verify = (): Promise<VerifyAuditResponse> => new Promise((resolve, reject) => {
      const def = AdminServiceService.verifyAudit;
      client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, {}, grpcAuth(readAdminToken(dir.path)), (err, res) => (err ? reject(err) : resolve(res!)));
    });
    const intact = await verify();
    const newest = (await app.get(AuditRepository).query({ limit: 1 }))[0]!;
    expect(intact).toMatchObject({ ok: true, lastSeq: newest.seq, lastHash: newest.hash, brokenSeq: 0 });
    expect(intact.entries).toBeGreaterThanOrEqual(4); // bootstrap, the first anonymous refusal, the read key's first refusal and its summary
    await app.get(SqliteDatabase).exec("DROP TRIGGER audit_no_update; UPDATE audit SET outcome = 'ok' WHERE seq = 3");
    expect(await verify()).toMatchObject({ ok: false, brokenSeq: 3, entries: 2, reason: 'bad_mac' });
  });
});
