/**
 * rigctl release on the built bundles: the real controller process (embedded broker, API keys on, short watchdog
 * parameters) quarantines a rig whose miner API never answers after the whole ladder, an agent stand-in answering
 * each remedy; `rigctl release` refuses without a reason (2), for an unknown rig (3) and for a rig not quarantined
 * (2), then releases it (0): the rig is no longer quarantined and the watchdog starts again at restart-miner.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { CommandOutcome, CommandResult, MinerSnapshot, RigState, RigTopics, decodeCommandEnvelope, encodeJson, type CommandEnvelope } from '@rigwarden/protocol';
import { RigKeyFile, RigMessageSigner } from '@rigwarden/security';
import { makeTempDir, runNode, startNode, waitFor, type RunningProcess, type TempDir } from '@rigwarden/testing';

const root = join(__dirname, '..');
const bin = (name: string): string => join(root, 'bin', `${name}.js`);
const DEAD = 'rel-dead';
const HEALTHY = 'rel-ok';

jest.setTimeout(60_000);

describe('rigctl release against the built controller', () => {
  let dir: TempDir;
  let controller: RunningProcess;
  let agent: MqttClient;
  let grpc: string;
  let env: NodeJS.ProcessEnv;
  let ticker: NodeJS.Timeout | undefined;
  const received: CommandEnvelope[] = [];
  const rigctl = (...args: string[]) => runNode(bin('rigctl'), ['--server', grpc, ...args], env, 30_000);
  const kinds = async (rig: string): Promise<string[]> => {
    const r = await rigctl('events', rig, '--limit', '100', '--json');
    if (r.code !== 0) throw new Error(`rigctl events ${rig}: ${r.stderr}`);
    return ((JSON.parse(r.stdout) as { events?: Array<{ kind: string }> }).events ?? []).map((e) => e.kind).reverse();
  };

  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/cli/main.js'))) {
      const build = await runNode(join(root, 'tools/build.mjs'), [], {}, 60_000);
      if (build.code !== 0) throw new Error(`build failed: ${build.stderr}`);
    }
    dir = makeTempDir('rigwarden-e2e-');
    const topicRoot = `e2e-${randomBytes(5).toString('hex')}/v1`;
    const keysFile = join(dir.path, 'keys.json');
    writeFileSync(keysFile, JSON.stringify({ rigs: Object.fromEntries([DEAD, HEALTHY].map((r) => [r, [{ id: 'k1', secret: randomBytes(32).toString('base64url') }]])) }), { mode: 0o600 });
    const fleetFile = join(dir.path, 'fleet.yaml');
    writeFileSync(fleetFile, [
      'groups:',
      '  - name: release-test',
      '    match: { rigIdPrefix: "rel-" }',
      '    pools:',
      '      - { url: "stratum+tcp://pool.example:3333", user: "farm.rel", password: "x" }',
      '    policy:',
      '      watchdog:',
      '        unreachableForMs: 400',
      '        ladder: [{ action: restart-miner, graceMs: 600 }, { action: reboot-host, graceMs: 600 }, { action: power-cycle, graceMs: 600 }]',
      '',
    ].join('\n'));
    const readyFile = join(dir.path, 'ready.json');
    controller = startNode(bin('rigwarden-controller'), [
      '--data-dir', dir.path, '--grpc', '127.0.0.1:0', '--ready-file', readyFile, '--keys-file', keysFile, '--fleet', fleetFile,
      ...(process.env['MQTT_URL'] ? [] : ['--mqtt-port', '0', '--mqtt-allow-anonymous']),
    ], { RIGWARDEN_TOPIC_ROOT: topicRoot, RIGWARDEN_CONTROLLER_ID: `ctl-${topicRoot}` });
    const ready = await waitFor('the controller to be ready', () => {
      if (controller.child.exitCode !== null) throw new Error(`controller exited: ${controller.output()}`);
      return existsSync(readyFile) ? JSON.parse(readFileSync(readyFile, 'utf8')) as { grpc: string; mqtt: string } : undefined;
    }, 30_000);
    grpc = ready.grpc;
    env = { RIGWARDEN_API_KEY_FILE: join(dir.path, 'admin.token'), RIGWARDEN_API_KEY: '' };

    // The agent stand-in: every remedy succeeds, and changes nothing: rel-dead's miner API never answers.
    const topics = new RigTopics(topicRoot);
    const signer = new RigMessageSigner(() => new RigKeyFile(join(dir.path, 'keys.json')).keyRing()); // the controller refuses unsigned results
    agent = await mqtt.connectAsync(ready.mqtt, { clientId: `agent-${topicRoot}` });
    agent.on('message', (_topic, payload) => {
      const envelope = decodeCommandEnvelope(payload);
      received.push(envelope);
      const result = CommandResult.fromPartial({
        commandId: envelope.commandId, rigId: envelope.rigId, durationMs: 4, finishedAt: new Date(),
        outcome: CommandOutcome.COMMAND_OUTCOME_SUCCEEDED, cause: `did ${envelope.payload!.$case}`,
      });
      void agent.publishAsync(topics.rig(envelope.rigId, 'results'), encodeJson(CommandResult, signer.signResult(result, Date.now())), { qos: 1 });
    });
    await agent.subscribeAsync(topics.allRigs('commands'), { qos: 1 });
    for (const rigId of [DEAD, HEALTHY]) {
      await agent.publishAsync(topics.rig(rigId, 'state'), encodeJson(RigState, { rigId, agentId: 'agent-e2e', online: true, agentVersion: '0.1.0', at: new Date(), labels: {} }), { qos: 1, retain: true });
    }
    let seq = 0;
    const publish = (): void => {
      seq++;
      void agent.publishAsync(topics.rig(DEAD, 'telemetry'), encodeJson(MinerSnapshot, MinerSnapshot.fromPartial({
        rigId: DEAD, minerId: 'm1', seq, collectedAt: new Date(), errors: [{ kind: 'unreachable', message: 'connect ECONNREFUSED 10.0.0.7:4028' }],
      })), { qos: 1 });
      void agent.publishAsync(topics.rig(HEALTHY, 'telemetry'), encodeJson(MinerSnapshot, MinerSnapshot.fromPartial({
        rigId: HEALTHY, minerId: 'm1', seq, collectedAt: new Date(), model: 'Antminer S19', hashrate5sHs: 95e12, hashrateAvgHs: 95e12,
      })), { qos: 1 });
    };
    publish();
    ticker = setInterval(publish, 200);
  });

  afterAll(async () => {
    if (ticker) clearInterval(ticker);
    await agent?.endAsync();
    await controller?.stop();
    dir?.remove();
  });

  it('quarantined after the ladder; release refuses bad requests, then releases and the ladder starts again', async () => {
    await waitFor('rel-dead to be quarantined', async () => ((await kinds(DEAD)).includes('policy.quarantine') ? true : undefined), 30_000, 300);
    expect((await kinds(DEAD)).filter((k) => k.startsWith('policy.')).slice(0, 4))
      .toEqual(['policy.restart-miner', 'policy.reboot-host', 'policy.power-cycle', 'policy.quarantine']);
    const rig = await rigctl('rig', DEAD, '--json');
    expect(JSON.parse(rig.stdout)).toMatchObject({ rigId: DEAD, quarantined: true });

    const noReason = await rigctl('release', DEAD);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('--reason');
    expect((await rigctl('release', 'rel-never-seen', '--reason', 'fixed')).code).toBe(3);
    const notQuarantined = await rigctl('release', HEALTHY, '--reason', 'fixed');
    expect(notQuarantined.code).toBe(2);
    expect(notQuarantined.stderr).toContain('not quarantined');

    const remediesBefore = received.filter((c) => c.rigId === DEAD).length;
    const released = await rigctl('release', DEAD, '--reason', 'reseated the network cable', '--json');
    expect(released.code).toBe(0);
    expect(JSON.parse(released.stdout)).toMatchObject({ rigId: DEAD, kind: 'operator.release', source: 'operator', reason: 'reseated the network cable' });
    expect(JSON.parse((await rigctl('rig', DEAD, '--json')).stdout)).not.toMatchObject({ quarantined: true });

    // The miner is still dead: the watchdog acts again, from the first step (the commands in the order received;
    // events of the same millisecond have no order).
    const next = await waitFor('a remedy after the release', () => received.filter((c) => c.rigId === DEAD).slice(remediesBefore)[0], 20_000, 100);
    expect(next.payload?.$case).toBe('restartMiner');
    // The decision's event is stored just after its command is sent.
    const all = await waitFor('the second restart-miner event', async () => {
      const k = await kinds(DEAD);
      return k.filter((x) => x === 'policy.restart-miner').length === 2 ? k : undefined;
    }, 10_000, 200);
    expect(all).toContain('operator.release');
  });
});
