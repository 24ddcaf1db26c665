import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { labelsForRig, loadAgentConfig, parseAgentConfig } from './agent-config';
import { ConfigError } from './config-error';

const minimal = { miners: [{ rig: 'r1', host: '10.0.0.2' }] };

function problem(raw: unknown, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    parseAgentConfig(raw, '/etc/rigwarden/agent.yaml', env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('agent config', () => {
  let dir: TempDir;
  beforeEach(() => { dir = makeTempDir(); });
  afterEach(() => dir.remove());

  it('fills defaults: cgminer driver on port 4028, miner id host:port, 5 s polls', () => {
    const config = parseAgentConfig(minimal, '/etc/rigwarden/agent.yaml', {});
    expect(config.miners).toEqual([{ rig: 'r1', driver: 'cgminer', host: '10.0.0.2', port: 4028, id: '10.0.0.2:4028', expectedHashrateHs: undefined, options: {} }]);
    expect(config.poll).toEqual({ intervalMs: 5000, timeoutMs: 5000, jitterMs: 500 });
    expect(config.mqtt.url).toBe('mqtt://127.0.0.1:1883');
    expect(config.mqtt.topicRoot).toBe('rigwarden/v1');
    expect(config.agent.dataDir).toBe('/etc/rigwarden/data/agent');
  });

  it('lets the environment override the broker URL and the secrets', () => {
    const config = parseAgentConfig({ ...minimal, mqtt: { url: 'mqtt://a:1883', password: 'from-file' } }, '/x/agent.yaml',
      { MQTT_URL: 'mqtts://broker:8883', RIGWARDEN_MQTT_PASSWORD: 'from-env', RIGWARDEN_MQTT_USERNAME: 'rig' });
    expect(config.mqtt).toMatchObject({ url: 'mqtts://broker:8883', username: 'rig', password: 'from-env' });
  });

  it('reads the broker password from mqtt.passwordFile (relative to the config file), and names the file when it cannot', () => {
    writeFileSync(join(dir.path, 'mqtt-password'), 'from-its-own-file\n', { mode: 0o600 });
    const config = parseAgentConfig({ ...minimal, mqtt: { username: 'farm-a', passwordFile: 'mqtt-password' } }, join(dir.path, 'agent.yaml'), {});
    expect(config.mqtt).toMatchObject({ username: 'farm-a', password: 'from-its-own-file' });
    expect(() => parseAgentConfig({ ...minimal, mqtt: { passwordFile: 'missing' } }, join(dir.path, 'agent.yaml'), {}))
      .toThrow(/mqtt\.passwordFile.*cannot read .*missing \(ENOENT\)/);
  });

  it('takes mqtt.confirm controller (default) or broker, and nothing else', () => {
    expect(parseAgentConfig(minimal, '/x/agent.yaml', {}).mqtt.confirm).toBe('controller');
    expect(parseAgentConfig({ ...minimal, mqtt: { confirm: 'broker' } }, '/x/agent.yaml', {}).mqtt.confirm).toBe('broker');
    expect(() => parseAgentConfig({ ...minimal, mqtt: { confirm: 'never' } }, '/x/agent.yaml', {})).toThrow(/mqtt\.confirm.*"controller" or "broker"/);
  });

  it.each([
    ['an unknown top-level key', { ...minimal, pol: {} }, 'pol', /unknown key; allowed here: agent, mqtt, poll, outbox, status, security, safety, profiles, rigs, miners, scan, gpu/],
    ['no miners and no scan', {}, 'miners', /may be empty only when scan: finds them/],
    ['a scan range that is not an address', { scan: [{ ranges: ['10.0.1.0/33'] }] }, 'scan[0].ranges', /./],
    ['a scan without ranges', { scan: [{ port: 4028 }] }, 'scan[0].ranges', /non-empty list of CIDRs/],
    ['a miner without a host', { miners: [{ rig: 'r1' }] }, 'miners[0].host', /is required/],
    ['a port out of range', { miners: [{ rig: 'r1', host: 'h', port: 70000 }] }, 'miners[0].port', /integer from 1 to 65535, got number 70000/],
    ['a port as text', { miners: [{ rig: 'r1', host: 'h', port: '4028' }] }, 'miners[0].port', /got string "4028"/],
    ['a rig id with a slash', { miners: [{ rig: 'a/b', host: 'h' }] }, 'miners[0].rig', /not a valid rig id/],
    ['the same miner twice', { miners: [{ rig: 'r', host: 'h' }, { rig: 'r', host: 'h' }] }, 'miners[1].id', /listed twice/],
    ['a timeout longer than the interval', { ...minimal, poll: { intervalMs: 1000, timeoutMs: 2000 } }, 'poll.timeoutMs', /must not exceed poll.intervalMs/],
    ['a broker URL without a scheme', { ...minimal, mqtt: { url: 'broker:1883' } }, 'mqtt.url', /must be a URL/],
    ['a negative expected hashrate', { miners: [{ rig: 'r', host: 'h', expectedHashrateHs: -1 }] }, 'miners[0].expectedHashrateHs', /positive number/],
    ['a topic root with a wildcard', { ...minimal, mqtt: { topicRoot: 'farm/#' } }, 'mqtt.topicRoot', /topic root/],
    ['miners given as a mapping', { miners: { r1: {} } }, 'miners', /must be a list of miners/],
    ['an outbox of 0 MB', { ...minimal, outbox: { maxMegabytes: 0 } }, 'outbox.maxMegabytes', /integer from 1/],
    ['a reboot command given as a string', { ...minimal, rigs: { r1: { rebootCommand: 'reboot now' } } }, 'rigs.r1.rebootCommand', /non-empty list of strings/],
    ['settings for a rig without miners', { ...minimal, rigs: { r9: {} } }, 'rigs.r9', /no miner in miners\[\] belongs to rig "r9"/],
    ['a command window of 0 s', { ...minimal, security: { commandWindowSeconds: 0 } }, 'security.commandWindowSeconds', /integer from 1/],
    ['a resume threshold above the critical one', { ...minimal, safety: { criticalTempC: 90, resumeBelowC: 92 } }, 'safety.resumeBelowC', /must be below safety.criticalTempC \(90\)/],
    ['an unknown safety action', { ...minimal, safety: { action: 'explode' } }, 'safety.action', /"stop" or "lowest-profile"/],
    ['an empty profile', { ...minimal, profiles: { eco: {} } }, 'profiles.eco', /must set workMode, frequencyMhz or gpu/],
    ['a GPU profile with an unknown key', { ...minimal, profiles: { eco: { gpu: { voltage: 800 } } } }, 'profiles.eco.gpu.voltage', /unknown key/],
    ['a missing CA file', { ...minimal, mqtt: { url: 'mqtts://b:8883', tls: { caFile: 'nope/ca.pem' } } }, 'mqtt.tls.caFile', /cannot read \/etc\/rigwarden\/nope\/ca\.pem \(ENOENT\)/],
    ['a client certificate without its key', { ...minimal, mqtt: { tls: { certFile: 'agent.yaml' } } }, 'mqtt.tls.certFile', /cannot read|go together/],
    ['an agent id with a space', { ...minimal, agent: { id: 'lan 1' } }, 'agent.id', /not a valid agent id/],
    ['an empty label value', { ...minimal, agent: { labels: { row: '' } } }, 'agent.labels.row', /must be a non-empty string/],
    ['labels given as a list', { ...minimal, agent: { labels: ['row=1'] } }, 'agent.labels', /must be a mapping/],
    ['a rig label that is a mapping', { ...minimal, rigs: { r1: { labels: { model: { name: 'S19' } } } } }, 'rigs.r1.labels.model', /non-empty string, got a mapping/],
    ['an empty label name', { ...minimal, rigs: { r1: { labels: { '': 'x' } } } }, 'rigs.r1.labels', /label names must be non-empty/],
  ])('rejects %s, naming the file and the key path', (_label, raw, path, message) => {
    const err = problem(raw);
    expect(err.file).toBe('/etc/rigwarden/agent.yaml');
    expect(err.path).toBe(path);
    expect(err.message).toMatch(message as RegExp);
    expect(err.message.startsWith(`/etc/rigwarden/agent.yaml: ${path}: `)).toBe(true);
  });

  it('gives each rig the agent-wide labels, overridden key by key by its own (numbers as text)', () => {
    const config = parseAgentConfig({
      agent: { labels: { site: 'farm-a', row: 1 } },
      rigs: { r1: { labels: { row: '2', model: 'S19j Pro' } } },
      miners: [{ rig: 'r1', host: 'h1' }, { rig: 'r2', host: 'h2' }],
    }, '/x/agent.yaml', {});
    expect(labelsForRig(config, 'r1')).toEqual({ site: 'farm-a', row: '2', model: 'S19j Pro' });
    expect(labelsForRig(config, 'r2')).toEqual({ site: 'farm-a', row: '1' });
    expect(parseAgentConfig(minimal, '/x/agent.yaml', {}).agent.labels).toEqual({});
  });

  it('names the environment variable when it is the one at fault', () => {
    expect(problem(minimal, { MQTT_URL: 'localhost' }).path).toBe('MQTT_URL (environment)');
  });

  it('reads YAML from a file and reports unreadable or invalid files clearly', () => {
    const good = join(dir.path, 'agent.yaml');
    writeFileSync(good, 'miners:\n  - rig: r1\n    host: 10.0.0.2\n    port: 4029\n');
    expect(loadAgentConfig(good, {}).miners[0]!.port).toBe(4029);

    const bad = join(dir.path, 'bad.yaml');
    writeFileSync(bad, 'miners: [\n');
    expect(() => loadAgentConfig(bad, {})).toThrow(/bad\.yaml: \(top level\): not valid YAML/);
    expect(() => loadAgentConfig(join(dir.path, 'missing.yaml'), {})).toThrow(/missing\.yaml: \(top level\): cannot read the file \(ENOENT\)/);
  });

  it('accepts the committed sample config', () => {
    const config = loadAgentConfig(join(__dirname, '../../agent.sample.yaml'), {});
    expect(config.miners.length).toBeGreaterThan(0);
  });
});
