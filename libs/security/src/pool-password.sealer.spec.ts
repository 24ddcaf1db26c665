import type { SetPools } from '@rigwarden/protocol';
import { MAX_POOL_PASSWORD_BYTES, isSealedPoolPassword, openPoolPassword, openSetPools, sealPoolPassword, sealSetPools } from './pool-password.sealer';
import { SecurityError } from './security-error';
import { RIG, T0, rigKey, ringWith } from './testing/envelope-fixtures';

const K1 = rigKey('k1');
const AT = { rigId: RIG, commandId: 'cmd-1', poolIndex: 0 };

function opening(sealed: string, context = AT, keys = ringWith(K1), now = T0): unknown {
  try {
    return openPoolPassword(sealed, keys, context, now);
  } catch (err) {
    return err;
  }
}

describe('pool-password.sealer', () => {
  it('pool-password.sealer: a sealed password opens on the rig with its key and holds no clear text', () => {
    const sealed = sealPoolPassword('hunter2-pässwörd', K1, AT);
    expect(isSealedPoolPassword(sealed)).toBe(true);
    expect(sealed).not.toContain('hunter2');
    expect(sealed.endsWith('.k1')).toBe(true);
    expect(openPoolPassword(sealed, ringWith(K1), AT, T0)).toBe('hunter2-pässwörd');
  });

  it('pool-password.sealer: the same password seals differently each time and hides its length to 32 bytes', () => {
    const a = sealPoolPassword('x', K1, AT);
    expect(sealPoolPassword('x', K1, AT)).not.toBe(a);
    const ciphertextOf = (s: string) => s.split('.')[3] as string;
    expect(Buffer.from(ciphertextOf(a), 'base64url')).toHaveLength(32);
    expect(Buffer.from(ciphertextOf(sealPoolPassword('y'.repeat(30), K1, AT)), 'base64url')).toHaveLength(32);
    expect(Buffer.from(ciphertextOf(sealPoolPassword('y'.repeat(31), K1, AT)), 'base64url')).toHaveLength(64);
  });

  it.each([
    ['another rig', { ...AT, rigId: 'rig-8' }],
    ['another command', { ...AT, commandId: 'cmd-2' }],
    ['another pool', { ...AT, poolIndex: 1 }],
  ])('pool-password.sealer: a sealed password moved to %s does not open', (_what, context) => {
    const keys = ringWith(K1);
    keys.add('rig-8', K1);
    expect(opening(sealPoolPassword('secret', K1, AT), context, keys)).toMatchObject({ code: 'pool_password_unseal_failed' });
  });

  it('pool-password.sealer: a relabelled key id, a flipped byte, a wrong key or a retired one does not open', () => {
    const sealed = sealPoolPassword('secret', K1, AT);
    const k2 = rigKey('k2');
    expect(opening(sealed.replace(/\.k1$/, '.k2'), AT, ringWith(K1, k2))).toMatchObject({ code: 'pool_password_unseal_failed' });
    const parts = sealed.split('.');
    const ciphertext = Buffer.from(parts[3] as string, 'base64url');
    ciphertext[0] = (ciphertext[0] as number) ^ 1;
    parts[3] = ciphertext.toString('base64url');
    expect(opening(parts.join('.'))).toMatchObject({ code: 'pool_password_unseal_failed' });
    expect(opening(sealed, AT, ringWith(rigKey('k1', { secret: k2.secret })))).toMatchObject({ code: 'pool_password_unseal_failed' });
    const retired = ringWith(K1);
    retired.retire(RIG, 'k1');
    expect(opening(sealed, AT, retired)).toMatchObject({ code: 'pool_password_unseal_failed' });
  });

  it('pool-password.sealer: a clear password is refused; an empty one stays empty', () => {
    const error = opening('hunter2');
    expect(error).toBeInstanceOf(SecurityError);
    expect(error).toMatchObject({ code: 'pool_password_unseal_failed' });
    expect((error as Error).message).not.toContain('hunter2');
    expect((error as Error).message).toContain('clear password is refused');
    expect(sealPoolPassword('', K1, AT)).toBe('');
    expect(openPoolPassword('', ringWith(K1), AT, T0)).toBe('');
  });

  it('pool-password.sealer: a password longer than the limit is refused when sealing', () => {
    expect(() => sealPoolPassword('p'.repeat(MAX_POOL_PASSWORD_BYTES + 1), K1, AT)).toThrow(SecurityError);
    expect(openPoolPassword(sealPoolPassword('p'.repeat(MAX_POOL_PASSWORD_BYTES), K1, AT), ringWith(K1), AT, T0)).toHaveLength(MAX_POOL_PASSWORD_BYTES);
  });

  it('pool-password.sealer: a whole SetPools seals per pool and opens back, during a rotation with the older key too', () => {
    const setPools: SetPools = { pools: [
      { url: 'stratum+tcp://a:3333', user: 'w', password: 'pa' },
      { url: 'stratum+tcp://b:3333', user: 'w', password: '' },
      { url: 'stratum+tcp://c:3333', user: 'w', password: 'pc' },
    ] };
    const sealed = sealSetPools(setPools, K1, RIG, 'cmd-1');
    expect(JSON.stringify(sealed)).not.toMatch(/"p[ac]"/);
    expect(sealed.pools[1]?.password).toBe('');
    expect(openSetPools(sealed, ringWith(K1, rigKey('k2', { created: T0 })), RIG, 'cmd-1', T0)).toEqual(setPools);
    const swapped = { pools: [sealed.pools[2]!, sealed.pools[1]!, sealed.pools[0]!] };
    expect(() => openSetPools(swapped, ringWith(K1), RIG, 'cmd-1', T0)).toThrow(/pool 0 of command cmd-1/);
  });
});
