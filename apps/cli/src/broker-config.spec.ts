import { mosquittoPasswordLine } from '@rigwarden/security';
import { mosquittoConfig } from './broker-config';

describe('mosquitto broker config', () => {
  it('hashes passwords exactly as mosquitto_passwd 2.0 does (known answer)', () => {
    // `mosquitto_passwd -c -b f user1 secret1` wrote this line (salt chosen by mosquitto).
    const line = 'user1:$7$101$zo82Kx0AItfIbf2t$krIlpLtmeTHxN1iuMSKAp1mpPX6dHBIK5X7NmOuLBZBPEn8+Qfqork3/arXIU/Ni423wqzYU2V87Yxm+a3y2dQ==';
    expect(mosquittoPasswordLine('user1', 'secret1', { salt: Buffer.from('zo82Kx0AItfIbf2t', 'base64') })).toBe(line);
  });

  it('gives each agent write access to its own rigs and read access to their commands only', () => {
    let n = 0;
    const config = mosquittoConfig({ topicRoot: 'rigwarden/v1', controller: 'ctl', agents: [{ agentId: 'a1', rigIds: ['r1'] }] }, () => `pw-${++n}`);
    expect(config.credentials).toEqual([{ username: 'ctl', password: 'pw-1' }, { username: 'a1', password: 'pw-2' }]);
    const a1 = config.aclFile.split('user a1\n')[1]!.trim().split('\n');
    expect(a1).toEqual([
      'topic write rigwarden/v1/agents/a1/status',
      'topic write rigwarden/v1/rigs/r1/telemetry',
      'topic write rigwarden/v1/rigs/r1/state',
      'topic write rigwarden/v1/rigs/r1/events',
      'topic write rigwarden/v1/rigs/r1/results',
      'topic read rigwarden/v1/rigs/r1/commands',
    ]);
    expect(config.passwordFile).not.toContain('pw-');
    expect(config.confSnippet('/p', '/a')).toContain('allow_anonymous false');
  });
});
