/**
 * Bounded requests on the controller as wired (AppModule, a test broker, SQLite in a temp dir, the gRPC server on
 * 127.0.0.1:0): an oversized identifier or message is refused fast without being echoed, a YAML alias bomb is
 * INVALID_ARGUMENT, and the channel that carried each of them keeps working.
 */
import 'reflect-metadata';
import { Client, Metadata, credentials, status, type MethodDefinition } from '@grpc/grpc-js';
import { Test, type TestingModule } from '@nestjs/testing';
import { ApplyFleetSpecRequest, FleetServiceService, GetFleetSpecRequest, GetRigRequest, ListRigsRequest } from '@rigwarden/protocol';
import { grpcAuth, makeTempDir, readAdminToken, startTestBroker, type TempDir, type TestBroker } from '@rigwarden/testing';
import { AppModule } from '../app.module';
import { AuditRepository } from '../audit/audit.repository';
import { DEFAULT_REFUSALS_PER_WINDOW } from '../audit/refusal-audit';
import { RefusalAuditService } from '../audit/refusal-audit.service';
import { loadControllerConfig } from '../config/controller-config';
import { FleetGrpcServer } from './fleet-grpc.server';
import { MAX_IDENTIFIER_CHARS, MAX_RECEIVE_MESSAGE_BYTES, MAX_STATUS_DETAILS_CHARS } from './request-bounds';

jest.setTimeout(30_000);

const MESSAGES: Record<string, { fromPartial(p: unknown): unknown }> = {
  [FleetServiceService.getRig.path]: GetRigRequest as never,
  [FleetServiceService.listRigs.path]: ListRigsRequest as never,
  [FleetServiceService.applyFleetSpec.path]: ApplyFleetSpecRequest as never,
  [FleetServiceService.getFleetSpec.path]: GetFleetSpecRequest as never,
};
function fromPartial(def: MethodDefinition<unknown, unknown>, partial: unknown): unknown {
  return MESSAGES[def.path]!.fromPartial(partial);
}

interface Outcome { code: status; details: string; ms: number }

/** A nine-level "billion laughs": 9^9 strings if every alias were expanded. */
function billionLaughs(): string {
  let yaml = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  let previous = 'a';
  for (const name of 'bcdefghi') {
    yaml += `${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]\n`;
    previous = name;
  }
  return yaml;
}

describe('gRPC request bounds', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let app: TestingModule;
  let client: Client;
  let token: string;

  function unary(def: MethodDefinition<unknown, unknown>, partial: unknown): Promise<Outcome> {
    const started = Date.now();
    // Every field filled in from the partial, as a generated client would send it.
    const request = def.requestDeserialize(def.requestSerialize(fromPartial(def, partial)));
    return new Promise((resolve) => {
      client.makeUnaryRequest(def.path, def.requestSerialize, def.responseDeserialize, request, grpcAuth(token), { deadline: new Date(Date.now() + 10_000) },
        (err) => resolve({ code: err?.code ?? status.OK, details: err?.details ?? '', ms: Date.now() - started }));
    });
  }
  const getRig = FleetServiceService.getRig as unknown as MethodDefinition<unknown, unknown>;
  const listRigs = FleetServiceService.listRigs as unknown as MethodDefinition<unknown, unknown>;
  const applySpec = FleetServiceService.applyFleetSpec as unknown as MethodDefinition<unknown, unknown>;
  const channelStillWorks = async (): Promise<void> => {
    expect((await unary(listRigs, {})).code).toBe(status.OK);
  };

  beforeAll(async () => {
    broker = await startTestBroker();
    dir = makeTempDir();
    const config = loadControllerConfig(['--data-dir', dir.path, '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0'], {
      MQTT_URL: broker.url, RIGWARDEN_TOPIC_ROOT: broker.topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${broker.topicRoot}`,
    });
    app = await Test.createTestingModule({ imports: [AppModule.forConfig(config)] }).compile();
    await app.init();
    token = readAdminToken(dir.path);
    client = new Client(app.get(FleetGrpcServer).address, credentials.createInsecure());
  });

  afterAll(async () => {
    client?.close();
    await app?.close();
    await broker?.stop();
    dir?.remove();
  });

  it('GetRig with a 1 MB rig id: INVALID_ARGUMENT at once, naming the field and its size, not echoing it; the channel stays usable', async () => {
    const outcome = await unary(getRig, { rigId: 'x'.repeat(1_000_000) });
    expect(outcome.code).toBe(status.INVALID_ARGUMENT);
    expect(outcome.details).toBe(`FleetService/GetRig: rig_id: 1000000 characters; at most ${MAX_IDENTIFIER_CHARS}`);
    expect(outcome.ms).toBeLessThan(2000);
    await channelStillWorks();
  });

  it('GetRig with an invalid rig id just past the bound is refused the same way; one within it reaches the use case', async () => {
    expect((await unary(getRig, { rigId: 'y'.repeat(MAX_IDENTIFIER_CHARS + 1) })).details).toMatch(/^FleetService\/GetRig: rig_id: 257 characters/);
    expect(await unary(getRig, { rigId: 'bad id' })).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'rig_id "bad id" is not a valid rig id' });
    expect((await unary(getRig, { rigId: 'no-such-rig' })).code).toBe(status.NOT_FOUND);
  });

  it('a bulk selector with an oversized rig id among its list is refused by its index', async () => {
    const bulk = FleetServiceService.listRigs as unknown as MethodDefinition<unknown, unknown>;
    const outcome = await unary(bulk, { selector: { rigIds: ['ok-1', 'z'.repeat(5000)] } });
    expect(outcome).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'FleetService/ListRigs: selector.rig_ids[1]: 5000 characters; at most 256' });
  });

  it(`a request larger than ${MAX_RECEIVE_MESSAGE_BYTES} bytes: RESOURCE_EXHAUSTED from the server's receive limit; the channel stays usable`, async () => {
    const outcome = await unary(applySpec, { yaml: `# ${'p'.repeat(MAX_RECEIVE_MESSAGE_BYTES + 16)}\n` });
    expect(outcome.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(outcome.details.length).toBeLessThan(MAX_STATUS_DETAILS_CHARS);
    await channelStillWorks();
  });

  it.each<[string, string]>([
    ['a billion-laughs document', billionLaughs()],
    ['an alias bomb of one wide anchor', `x: &x [${Array(50).fill('"aaaaaaaaaa"').join(',')}]\ny: [${Array(200).fill('*x').join(',')}]\n`],
  ])('ApplyFleetSpec with %s: INVALID_ARGUMENT (not INTERNAL), and the spec in force is unchanged', async (_name, yaml) => {
    const outcome = await unary(applySpec, { yaml, dryRun: false });
    expect(outcome.code).toBe(status.INVALID_ARGUMENT);
    expect(outcome.details).toMatch(/^yaml: \(top level\): refused: Excessive alias count .* \(at most 100 alias expansions\)$/);
    const getSpec = FleetServiceService.getFleetSpec as unknown as MethodDefinition<unknown, unknown>;
    expect((await unary(getSpec, {})).code).toBe(status.OK);
  });

  it(`a flood of 200 calls without a key: ${DEFAULT_REFUSALS_PER_WINDOW} UNAUTHENTICATED, then RESOURCE_EXHAUSTED saying when to retry; a valid key on the same address still works`, async () => {
    const codes = new Map<status, number>();
    let exhausted = '';
    for (let i = 0; i < 200; i++) {
      const outcome = await new Promise<{ code: status; details: string }>((resolve) => {
        client.makeUnaryRequest(listRigs.path, listRigs.requestSerialize, listRigs.responseDeserialize, ListRigsRequest.fromPartial({}), new Metadata(),
          (err) => resolve({ code: err?.code ?? status.OK, details: err?.details ?? '' }));
      });
      codes.set(outcome.code, (codes.get(outcome.code) ?? 0) + 1);
      if (outcome.code === status.RESOURCE_EXHAUSTED) exhausted = outcome.details;
    }
    expect(Object.fromEntries(codes)).toEqual({ [status.UNAUTHENTICATED]: DEFAULT_REFUSALS_PER_WINDOW, [status.RESOURCE_EXHAUSTED]: 200 - DEFAULT_REFUSALS_PER_WINDOW });
    expect(exhausted).toMatch(/^too many refused calls from this key or address: retry in \d+ s with a valid API key$/);
    await channelStillWorks();
    await app.get(RefusalAuditService).flush();
    const rows = (await app.get(AuditRepository).query({ principal: 'anonymous', limit: 1000 }));
    expect(rows.map((r) => [r.outcome, (JSON.parse(r.detail) as { count?: number }).count])).toEqual([['refused', 199], ['unauthenticated', undefined]]);
  });
});
