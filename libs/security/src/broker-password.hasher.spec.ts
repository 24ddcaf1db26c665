import { mosquittoPasswordHash, mosquittoPasswordLine, mosquittoPasswordMatches } from './broker-password.hasher';

/** Written by `mosquitto_passwd -c -b pw rig-7 'correct horse battery staple'` (Mosquitto 2). */
const FROM_MOSQUITTO_PASSWD = 'rig-7:$7$101$0zdf7djR8P2D5DHU$89pf6krCUtu5jto/d3Ekm2t3LJ+ATMkn7OIbUK69PnWQg5OWBLiEACrbdF2xGZYTDf7HPB/1jELO3kI1ysFWOw==';

describe('broker-password', () => {
  it('broker-password: reproduces a line written by mosquitto_passwd from the same salt', () => {
    const salt = Buffer.from('0zdf7djR8P2D5DHU', 'base64');
    expect(mosquittoPasswordLine('rig-7', 'correct horse battery staple', { salt })).toBe(FROM_MOSQUITTO_PASSWD);
  });

  it('broker-password: checks a password against a mosquitto_passwd line', () => {
    expect(mosquittoPasswordMatches(FROM_MOSQUITTO_PASSWD, 'rig-7', 'correct horse battery staple')).toBe(true);
    expect(mosquittoPasswordMatches(FROM_MOSQUITTO_PASSWD, 'rig-7', 'correct horse battery stapler')).toBe(false);
    expect(mosquittoPasswordMatches(FROM_MOSQUITTO_PASSWD, 'rig-8', 'correct horse battery staple')).toBe(false);
    expect(mosquittoPasswordMatches('rig-7:plain', 'rig-7', 'plain')).toBe(false);
  });

  it('broker-password: each hash has a fresh 12-byte salt and never contains the password', () => {
    const a = mosquittoPasswordHash('s3cret-broker-password');
    const b = mosquittoPasswordHash('s3cret-broker-password');
    expect(a).toMatch(/^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('s3cret');
  });

  it.each([
    ['a username with a colon', () => mosquittoPasswordLine('rig:7 x', 'p')],
    ['zero iterations', () => mosquittoPasswordHash('p', { iterations: 0 })],
    ['a short salt', () => mosquittoPasswordHash('p', { salt: Buffer.alloc(4) })],
  ])('broker-password: %s is refused', (_name, action) => {
    expect(action).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});
