import { mosquittoPasswordHash } from '@rigwarden/security';
import { BrokerAuthority } from './broker-authority';

const ROOT = 'rigwarden/v1';
const pw = (s: string): Buffer => Buffer.from(s);

function authority(allowAnonymous = false): BrokerAuthority {
  const a = new BrokerAuthority({ topicRoot: ROOT, controllerClientId: 'ctl', allowAnonymous });
  a.setAgents([{ agentId: 'agent-a', rigIds: ['rig-a1'], passwordHash: mosquittoPasswordHash('pa') }, { agentId: 'agent-b', rigIds: [], passwordHash: mosquittoPasswordHash('pb') }]);
  return a;
}

describe('broker authority', () => {
  it('broker-authority: the controller\'s login is random per start and only it may use the controller\'s client id', () => {
    const a = authority();
    expect(a.controllerPassword).not.toBe(authority().controllerPassword);
    expect(a.authenticate('ctl', 'rigwarden-controller', pw(a.controllerPassword))).toMatchObject({ ok: true, principal: { kind: 'controller' } });
    expect(a.authenticate('ctl', 'agent-a', pw('pa'))).toMatchObject({ ok: false, returnCode: 2, reason: 'client_id_taken' });
  });

  it('broker-authority: a client id stays with its login until its clean session ends', () => {
    const a = authority();
    const first = a.authenticate('c-1', 'agent-a', pw('pa'));
    expect(a.authenticate('c-1', 'agent-b', pw('pb'))).toMatchObject({ ok: false, returnCode: 2 });
    expect(a.authenticate('c-1', 'agent-a', pw('pa'))).toMatchObject({ ok: true });
    if (first.ok) a.releaseClientId('c-1', first.principal);
    expect(a.authenticate('c-1', 'agent-b', pw('pb'))).toMatchObject({ ok: true });
  });

  it('broker-authority: a refused last will claims no client id', () => {
    const a = authority();
    expect(a.authenticate('c-2', 'agent-a', pw('pa'), `${ROOT}/rigs/rig-b1/state`)).toMatchObject({ ok: false, returnCode: 5, reason: 'will' });
    expect(a.authenticate('c-2', 'agent-b', pw('pb'))).toMatchObject({ ok: true });
    expect(a.authenticate('c-3', 'agent-a', pw('pa'), `${ROOT}/rigs/rig-a1/state`)).toMatchObject({ ok: true });
  });

  it('broker-authority: anonymous clients only with the flag, and then without a password', () => {
    expect(authority().authenticate('x', undefined, undefined)).toMatchObject({ ok: false, returnCode: 5, reason: 'anonymous' });
    expect(authority(true).authenticate('x', undefined, undefined)).toMatchObject({ ok: true, principal: { kind: 'anonymous' } });
    expect(authority(true).authenticate('x', undefined, pw('p'))).toMatchObject({ ok: false, returnCode: 5 });
    expect(authority(true).authenticate('x', undefined, undefined, '$SYS/x')).toMatchObject({ ok: false, reason: 'will' });
  });

  it('broker-authority: a new users file reports the agents whose login or rigs changed or that are gone; the controller\'s name is left out', () => {
    const a = authority();
    const hashB = mosquittoPasswordHash('pb2');
    const { changed, refused } = a.setAgents([
      { agentId: 'agent-b', rigIds: [], passwordHash: hashB },
      { agentId: 'rigwarden-controller', rigIds: [], passwordHash: hashB },
    ]);
    expect([changed.sort(), refused]).toEqual([['agent-a', 'agent-b'], ['rigwarden-controller']]);
    expect(a.authenticate('c', 'agent-b', pw('pb'))).toMatchObject({ ok: false, returnCode: 4 });
    expect(a.authenticate('c', 'agent-b', pw('pb2'))).toMatchObject({ ok: true });
    expect(a.setAgents([{ agentId: 'agent-b', rigIds: [], passwordHash: hashB }]).changed).toEqual([]);
  });
});
