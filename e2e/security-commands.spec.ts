/**
 * Issue 7's command tests against the built agent process and a simulated miner (side effects counted on the miner's
 * API): one authentic switch-pool runs once; the same envelope replayed 1,000 times, and again after an agent restart,
 * runs never again; forged (bad signature, unknown key, retired key), expired, not-yet-valid and wrong-rig envelopes
 * run nothing. Rejections of authentic envelopes are answered with a result naming the reason; forgeries get no
 * result; security events are rate-limited.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import {
  CommandEnvelope, CommandOutcome, RigTopics, decodeCommandResult, decodeRigEvent, encodeJson, type CommandResult, type RigEvent,
} from '@rigwarden/protocol';
import { CommandSigner, KeyRing, SecretBytes } from '@rigwarden/security';
import { CgminerSimulator } from '@rigwarden/simulators';
import { makeTempDir, runNode, startNode, startTestBroker, waitFor, type RunningProcess, type TempDir, type TestBroker } from '@rigwarden/testing';

const root = join(__dirname, '..');
jest.setTimeout(90_000);

const RIG = 'sec-cmd-rig';
const OTHER = 'sec-other-rig';
const FOREVER = Number.MAX_SAFE_INTEGER;

describe('agent process: replayed, forged, expired and misaddressed commands run nothing', () => {
  let broker: TestBroker;
  let dir: TempDir;
  let sim: CgminerSimulator;
  let client: MqttClient;
  let agent: RunningProcess | undefined;
  let config: string;
  let topics: RigTopics;
  const results: CommandResult[] = [];
  const events: RigEvent[] = [];
  const k1 = SecretBytes.generate();
  const k0 = SecretBytes.generate(); // retired in the agent's key file
  const otherRigKey = SecretBytes.generate();
  const ring = new KeyRing();
  ring.add(RIG, { id: 'k1', secret: k1, created: 0, notBefore: 0, expires: FOREVER });
  ring.add(OTHER, { id: 'k1', secret: otherRigKey, created: 0, notBefore: 0, expires: FOREVER });
  const signer = new CommandSigner(ring, { ttlMs: 25_000 });
  const retiredRing = new KeyRing();
  retiredRing.add(RIG, { id: 'k0', secret: k0, created: 0, notBefore: 0, expires: FOREVER });
  const attackerRing = new KeyRing();
  attackerRing.add(RIG, { id: 'k1', secret: SecretBytes.generate(), created: 0, notBefore: 0, expires: FOREVER });
  attackerRing.add(RIG + '-x', { id: 'k9', secret: SecretBytes.generate(), created: 0, notBefore: 0, expires: FOREVER });

  const startAgent = (): RunningProcess => startNode(join(root, 'bin/rigwarden-agent.js'), ['run', '--config', config], { MQTT_URL: broker.url, LOG_LEVEL: 'info' });
  const send = (e: CommandEnvelope, rig = RIG): Promise<unknown> => client.publishAsync(topics.rig(rig, 'commands'), encodeJson(CommandEnvelope, e), { qos: 1 });
  const switches = (): number => sim.requests.filter((r) => r.toString().includes('switchpool')).length;
  const draft = (commandId: string, rigId = RIG) => ({ commandId, rigId, minerId: 'm1', payload: { $case: 'switchPool' as const, value: { poolIndex: 1 } }, reason: 'e2e' });

  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/agent/main.js'))) await runNode(join(root, 'tools/build.mjs'), [], {}, 60_000);
    broker = await startTestBroker();
    topics = new RigTopics(broker.topicRoot);
    dir = makeTempDir('rigwarden-e2e-');
    sim = new CgminerSimulator();
    const { port } = await sim.start();
    const keysFile = join(dir.path, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ rigs: { [RIG]: [
      { id: 'k0', secret: k0.exposeBase64url(), retired: true },
      { id: 'k1', secret: k1.exposeBase64url() },
    ] } }), { mode: 0o600 });
    config = join(dir.path, 'agent.yaml');
    writeFileSync(config, [
      'agent:', '  id: sec-cmd-agent', `  dataDir: ${JSON.stringify(join(dir.path, 'agent'))}`,
      // The test plays the controller and sends no ingest receipts: the broker's acknowledgement is enough here.
      'mqtt:', `  clientId: sec-cmd-agent-${broker.topicRoot}`, `  topicRoot: ${broker.topicRoot}`, '  confirm: broker',
      'poll:', '  intervalMs: 60000',
      'security:', `  keysFile: ${JSON.stringify(keysFile)}`,
      'miners:', `  - rig: ${RIG}`, '    id: m1', '    host: 127.0.0.1', `    port: ${port}`, '',
    ].join('\n'));
    client = await mqtt.connectAsync(broker.url, { clientId: `sec-cmd-ctl-${broker.topicRoot}` });
    await client.subscribeAsync([topics.rig(RIG, 'results'), topics.rig(RIG, 'events')], { qos: 1 });
    client.on('message', (topic, payload) => {
      if (topic.endsWith('/results')) results.push(decodeCommandResult(payload));
      else events.push(decodeRigEvent(payload));
    });
    agent = startAgent();
    await waitFor('the agent to connect', () => (agent!.output().includes('agent running') ? true : undefined), 15_000);
  });

  afterAll(async () => {
    await agent?.stop();
    await client?.endAsync();
    await sim?.stop();
    await broker?.stop();
    dir?.remove();
  });

  const resultsFor = (id: string): CommandResult[] => results.filter((r) => r.commandId === id);

  it('runs an authentic command once, and 1,000 replays of it (and more after a restart) never', async () => {
    const envelope = signer.sign(draft('once-1'), Date.now());
    await send(envelope);
    await waitFor('once-1 to succeed', () => resultsFor('once-1').find((r) => r.outcome === CommandOutcome.COMMAND_OUTCOME_SUCCEEDED));
    expect(switches()).toBe(1);
    sim.state.activePool = 0;

    const started = Date.now();
    for (let i = 0; i < 1000; i++) await send(envelope);
    await waitFor('1,000 answers to the replays', () => (resultsFor('once-1').length >= 1001 ? true : undefined), 60_000, 100);
    const replayMs = Date.now() - started;
    const answers = resultsFor('once-1').slice(1);
    expect(answers).toHaveLength(1000);
    expect(answers.every((r) => r.outcome === CommandOutcome.COMMAND_OUTCOME_REJECTED && /^replayed_nonce/.test(r.cause))).toBe(true);
    expect(switches()).toBe(1);
    expect(sim.state.activePool).toBe(0);
    // Rate-limited: a burst of 10 events per rig and reason (and 10 a minute after it), not one per replay.
    const replayEvents = events.filter((e) => e.kind === 'security.command_rejected' && e.reason === 'replayed_nonce');
    expect(replayEvents.length).toBeGreaterThan(0);
    expect(replayEvents.length).toBeLessThanOrEqual(10 + Math.ceil(replayMs / 6000) + 1);

    // The nonce cache survives a restart: the same envelope is still refused as a replay.
    expect(await agent!.stop('SIGTERM')).toBe(0);
    agent = startAgent();
    await waitFor('the agent to reconnect', () => (agent!.output().includes('agent running') ? true : undefined), 15_000);
    for (let i = 0; i < 100; i++) await send(envelope);
    await waitFor('100 more answers', () => (resultsFor('once-1').length >= 1101 ? true : undefined), 30_000, 100);
    expect(resultsFor('once-1').slice(1001).every((r) => /^replayed_nonce/.test(r.cause))).toBe(true);
    expect(switches()).toBe(1);
  });

  it('runs no forged, retired-key, expired, not-yet-valid or wrong-rig command', async () => {
    const now = Date.now();
    const before = switches();
    const genuine = signer.sign(draft('forged-sig'), now);
    const flipped = Buffer.from(genuine.signature);
    flipped[0] = flipped[0]! ^ 0xff;
    const cases: Array<{ id: string; envelope: CommandEnvelope; rig?: string; answered: RegExp | undefined }> = [
      { id: 'forged-sig', envelope: { ...genuine, signature: flipped }, answered: undefined },
      { id: 'forged-secret', envelope: new CommandSigner(attackerRing).sign(draft('forged-secret'), now), answered: undefined },
      { id: 'unknown-key', envelope: { ...new CommandSigner(attackerRing).sign(draft('unknown-key', RIG + '-x'), now), rigId: RIG }, answered: undefined },
      { id: 'retired-key', envelope: new CommandSigner(retiredRing).sign(draft('retired-key'), now), answered: undefined },
      { id: 'expired', envelope: signer.sign({ ...draft('expired'), issuedAt: new Date(now - 120_000), expiresAt: new Date(now - 60_000) }, now - 120_000), answered: /^(expired|too_old)/ },
      { id: 'future', envelope: signer.sign({ ...draft('future'), issuedAt: new Date(now + 120_000), expiresAt: new Date(now + 140_000) }, now + 120_000), answered: /^issued_in_future/ },
      { id: 'wrong-rig', envelope: signer.sign(draft('wrong-rig', OTHER), now), answered: undefined },
    ];
    for (const c of cases) await send(c.envelope, c.rig);
    // A genuine command sent last: once it is answered, everything before it has been handled (one queue per rig).
    await send(signer.sign({ ...draft('marker'), payload: { $case: 'restartMiner', value: {} } }, Date.now()));
    await waitFor('the marker command', () => resultsFor('marker')[0], 20_000);

    expect(switches()).toBe(before);
    for (const c of cases) {
      const answered = resultsFor(c.id);
      if (c.answered) {
        expect({ id: c.id, outcome: answered[0]?.outcome, cause: answered[0]?.cause }).toEqual({ id: c.id, outcome: CommandOutcome.COMMAND_OUTCOME_REJECTED, cause: expect.stringMatching(c.answered) });
      } else {
        expect({ id: c.id, answered: answered.length }).toEqual({ id: c.id, answered: 0 }); // forgeries get no result
      }
    }
    const reasons = new Set(events.filter((e) => e.kind === 'security.command_rejected').map((e) => e.reason));
    for (const reason of ['bad_signature', 'retired_key', 'wrong_rig']) expect({ reason, reported: reasons.has(reason) }).toEqual({ reason, reported: true });
  });
});
