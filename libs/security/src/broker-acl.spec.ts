import { BrokerAcl, agentBrokerRules, controllerBrokerRules, isRigIdPattern, topicFilterCovers } from './broker-acl';
import { SecurityError } from './security-error';

const ROOT = 'rigwarden/v1';
const agentA = new BrokerAcl(agentBrokerRules(ROOT, { agentId: 'agent-a', rigIds: ['rig-a1', 'scan-*'] }));
const controller = new BrokerAcl(controllerBrokerRules(ROOT));

describe('broker-acl', () => {
  it('broker-acl: an agent publishes its own rigs\' telemetry, state, events and results and its own status', () => {
    for (const kind of ['telemetry', 'state', 'events', 'results']) {
      expect(agentA.mayPublish(`${ROOT}/rigs/rig-a1/${kind}`)).toBe(true);
      expect(agentA.mayPublish(`${ROOT}/rigs/rig-b1/${kind}`)).toBe(false);
    }
    expect(agentA.mayPublish(`${ROOT}/agents/agent-a/status`)).toBe(true);
    expect(agentA.mayPublish(`${ROOT}/agents/agent-b/status`)).toBe(false);
  });

  it('broker-acl: an agent never publishes commands or receipts, not even for its own rigs', () => {
    expect(agentA.mayPublish(`${ROOT}/rigs/rig-a1/commands`)).toBe(false);
    expect(agentA.mayPublish(`${ROOT}/agents/agent-a/stored`)).toBe(false);
  });

  it('broker-acl: an agent subscribes to its own rigs\' commands and its own receipts, nothing wider', () => {
    expect(agentA.maySubscribe(`${ROOT}/rigs/rig-a1/commands`)).toBe(true);
    expect(agentA.maySubscribe(`${ROOT}/agents/agent-a/stored`)).toBe(true);
    for (const filter of ['#', `${ROOT}/#`, `${ROOT}/rigs/+/commands`, `${ROOT}/rigs/rig-b1/commands`, `${ROOT}/agents/agent-b/stored`,
      `${ROOT}/agents/+/stored`, `${ROOT}/rigs/rig-a1/#`, `${ROOT}/rigs/rig-a1/telemetry`, '$SYS/#', `${ROOT}/rigs/scan-+/commands`]) {
      expect([filter, agentA.maySubscribe(filter)]).toEqual([filter, false]);
    }
  });

  it('broker-acl: a rig id prefix covers every rig id that starts with it, and no wildcard', () => {
    expect(agentA.mayPublish(`${ROOT}/rigs/scan-10-0-1-11/telemetry`)).toBe(true);
    expect(agentA.maySubscribe(`${ROOT}/rigs/scan-10-0-1-11/commands`)).toBe(true);
    expect(agentA.mayPublish(`${ROOT}/rigs/scan/telemetry`)).toBe(false);
    expect(agentA.mayPublish(`${ROOT}/rigs/xscan-1/telemetry`)).toBe(false);
    expect(agentA.maySubscribe(`${ROOT}/rigs/+/commands`)).toBe(false);
  });

  it('broker-acl: the controller reads every rig and agent topic of its root and writes commands and receipts', () => {
    for (const kind of ['telemetry', 'state', 'events', 'results']) expect(controller.maySubscribe(`${ROOT}/rigs/+/${kind}`)).toBe(true);
    expect(controller.maySubscribe(`${ROOT}/agents/+/status`)).toBe(true);
    expect(controller.mayPublish(`${ROOT}/rigs/rig-b1/commands`)).toBe(true);
    expect(controller.mayPublish(`${ROOT}/agents/agent-b/stored`)).toBe(true);
    expect(controller.mayPublish(`${ROOT}/rigs/rig-b1/telemetry`)).toBe(false);
    expect(controller.maySubscribe('#')).toBe(false);
    expect(controller.maySubscribe(`other/v1/rigs/+/telemetry`)).toBe(false);
  });

  it('broker-acl: filters follow MQTT: # covers its parent, + one level, $ topics only explicitly', () => {
    expect(topicFilterCovers('a/#', 'a')).toBe(true);
    expect(topicFilterCovers('a/#', 'a/b/c')).toBe(true);
    expect(topicFilterCovers('a/+', 'a/+')).toBe(true);
    expect(topicFilterCovers('a/+', 'a/#')).toBe(false);
    expect(topicFilterCovers('a/+', 'a/b/c')).toBe(false);
    expect(topicFilterCovers('+/x', '$SYS/x')).toBe(false);
    expect(new BrokerAcl([{ access: 'write', topic: 'a/+' }]).mayPublish('a/+')).toBe(false);
  });

  it('broker-acl: rig id patterns are rig ids or a prefix and *; bad ones are refused with the agent named', () => {
    expect(['rig-1', 'scan-*', 's19.row1:*'].map(isRigIdPattern)).toEqual([true, true, true]);
    expect(['*', 'a*b', '-x*', 'a/b', 'a+', '#', ''].map(isRigIdPattern)).toEqual([false, false, false, false, false, false, false]);
    expect(() => agentBrokerRules(ROOT, { agentId: 'agent-a', rigIds: ['*'] })).toThrow(SecurityError);
    expect(() => agentBrokerRules(ROOT, { agentId: 'agent-a', rigIds: ['*'] })).toThrow('agent agent-a');
    expect(() => agentBrokerRules(ROOT, { agentId: '+', rigIds: [] })).toThrow('not a valid agent id');
  });
});

describe('broker-acl at farm size', () => {
  it('broker-acl: an agent with 10,000 rigs is checked by lookup, not by scanning its rules', () => {
    const rigIds = Array.from({ length: 10_000 }, (_, i) => `s19-${i}`);
    const big = new BrokerAcl(agentBrokerRules(ROOT, { agentId: 'lan-1', rigIds }));
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) big.mayPublish(`${ROOT}/rigs/s19-${i % 10_000}/telemetry`);
    // About 10 ms on a laptop; scanning 50,000 rules per message would take minutes.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(big.mayPublish(`${ROOT}/rigs/s19-9999/telemetry`)).toBe(true);
    expect(big.mayPublish(`${ROOT}/rigs/s19-10000/telemetry`)).toBe(false);
    expect(big.maySubscribe(`${ROOT}/rigs/+/commands`)).toBe(false);
  });
});
