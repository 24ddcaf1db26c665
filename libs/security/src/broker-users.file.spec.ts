import { mosquittoPasswordHash } from './broker-password.hasher';
import { parseBrokerUsersFile, renderBrokerUsersFile } from './broker-users.file';

const HASH = mosquittoPasswordHash('pw', { salt: Buffer.alloc(12, 1) });

describe('broker-users file', () => {
  it('broker-users: round-trips agents, hashes and rig id prefixes', () => {
    const users = [{ agentId: 'a1', passwordHash: HASH, rigIds: ['r1', 'scan-*'] }, { agentId: 'a2', passwordHash: HASH, rigIds: [] }];
    expect(parseBrokerUsersFile(renderBrokerUsersFile(users), 'f')).toEqual(users);
  });

  it('broker-users: accepts the JSON form too', () => {
    expect(parseBrokerUsersFile(JSON.stringify({ agents: { a1: { passwordHash: HASH, rigs: ['r1'] } } }), 'f')).toEqual([{ agentId: 'a1', passwordHash: HASH, rigIds: ['r1'] }]);
  });

  it.each([
    ['not YAML', 'agents: [', 'f: (top level): not valid YAML'],
    ['no agents', 'other: 1', 'f: agents: must be a mapping'],
    ['a bad agent id', `agents: { "+": { passwordHash: "${HASH}", rigs: [] } }`, 'f: agents.+: not a valid agent id'],
    ['a clear password', 'agents: { a1: { passwordHash: hunter2, rigs: [] } }', 'f: agents.a1.passwordHash: must be a mosquitto_passwd'],
    ['a bad rig', `agents: { a1: { passwordHash: "${HASH}", rigs: ["*"] } }`, 'f: agents.a1.rigs[0]: "*" is neither a rig id nor a rig id prefix'],
    ['no rigs list', `agents: { a1: { passwordHash: "${HASH}" } }`, 'f: agents.a1.rigs: must be a list'],
    ['an unknown key', `agents: { a1: { passwordHash: "${HASH}", rigs: [], password: x } }`, 'f: agents.a1.password: unknown key'],
  ])('broker-users: refuses %s, naming the field', (_name, text, message) => {
    expect(() => parseBrokerUsersFile(text, 'f')).toThrow(message);
  });

  it('broker-users: an error never quotes the hash', () => {
    let message = '';
    try {
      parseBrokerUsersFile(`agents: { a1: { passwordHash: "${HASH}", rigs: [7] } }`, 'f');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('agents.a1.rigs[0]');
    expect(message).not.toContain(HASH.split('$')[4]!);
  });
});
