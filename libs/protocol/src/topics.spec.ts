import { DEFAULT_TOPIC_ROOT, RigTopics, isValidRigId } from './topics';

describe('RigTopics', () => {
  const topics = new RigTopics();

  it('builds one subtree per rig under the default root', () => {
    expect(topics.rig('s19-a01', 'telemetry')).toBe('rigwarden/v1/rigs/s19-a01/telemetry');
    expect(topics.rig('s19-a01', 'state')).toBe('rigwarden/v1/rigs/s19-a01/state');
    expect(topics.allRigs('telemetry')).toBe('rigwarden/v1/rigs/+/telemetry');
    expect(DEFAULT_TOPIC_ROOT).toBe('rigwarden/v1');
  });

  it('parses what it builds, and nothing else', () => {
    expect(topics.parse('rigwarden/v1/rigs/gpu.rig-7/results')).toEqual({ rigId: 'gpu.rig-7', kind: 'results' });
    expect(topics.parse('rigwarden/v1/rigs/gpu/extra/results')).toBeUndefined();
    expect(topics.parse('rigwarden/v1/rigs/gpu/unknown')).toBeUndefined();
    expect(topics.parse('other/v1/rigs/gpu/telemetry')).toBeUndefined();
  });

  it('keeps farms with different roots apart', () => {
    const farmB = new RigTopics('farm-b/rigwarden');
    expect(farmB.rig('r1', 'commands')).toBe('farm-b/rigwarden/rigs/r1/commands');
    expect(topics.parse(farmB.rig('r1', 'commands'))).toBeUndefined();
  });

  it.each(['', 'a/b', 'a+b', 'a#', '-lead', 'x'.repeat(129), 'sp ace'])('refuses rig id %j in a topic', (rigId) => {
    expect(isValidRigId(rigId)).toBe(false);
    expect(() => topics.rig(rigId, 'telemetry')).toThrow(/cannot be used in an MQTT topic/);
  });

  it.each(['', '/lead', 'trail/', 'a/+/b', 'a/#'])('refuses topic root %j', (root) => {
    expect(() => new RigTopics(root)).toThrow(/topic root/);
  });
});
