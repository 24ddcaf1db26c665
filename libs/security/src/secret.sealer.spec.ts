import { inspect } from 'node:util';
import { SecretBytes } from './secret-bytes';
import { SecretSealer } from './secret.sealer';
import { findSecretLeaks } from './secret.scanner';

const m1 = { id: 'm1', secret: SecretBytes.generate() };
const m2 = { id: 'm2', secret: SecretBytes.generate() };
const rigSecret = SecretBytes.generate();

function expectSealFailure(open: () => unknown): void {
  expect(open).toThrow(expect.objectContaining({ code: 'secret_unseal_failed' }));
}

describe('secret-sealer', () => {
  it('secret-sealer: a sealed rig secret opens with its context and leaks nothing in the stored text', () => {
    const sealer = new SecretSealer([m1]);
    const sealed = sealer.seal(rigSecret, 'rig-key:rig-7:k1');
    expect(sealed).toMatch(/^rws1\.m1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{22}$/);
    expect(sealer.open(sealed, 'rig-key:rig-7:k1').expose().equals(rigSecret.expose())).toBe(true);
    expect(findSecretLeaks(`INSERT INTO rig_keys VALUES ('rig-7','k1','${sealed}')`, { rigSecret, m1: m1.secret })).toEqual([]);
    expect(sealer.seal(rigSecret, 'rig-key:rig-7:k1')).not.toBe(sealed);
  });

  it.each<[string, (sealed: string) => string, string]>([
    ['another row (context)', (s) => s, 'rig-key:rig-8:k1'],
    ['a flipped ciphertext character', (s) => s.replace(/\.([A-Za-z0-9_-])([A-Za-z0-9_-]{42})\./, (_m, c: string, rest: string) => `.${c === 'A' ? 'B' : 'A'}${rest}.`), 'rig-key:rig-7:k1'],
    ['an unknown master key id', (s) => s.replace('rws1.m1.', 'rws1.m9.'), 'rig-key:rig-7:k1'],
    ['a plain base64url secret', () => rigSecret.exposeBase64url(), 'rig-key:rig-7:k1'],
  ])('secret-sealer: %s does not open', (_name, change, context) => {
    const sealer = new SecretSealer([m1]);
    expectSealFailure(() => sealer.open(change(sealer.seal(rigSecret, 'rig-key:rig-7:k1')), context));
  });

  it('secret-sealer: master-key rotation: the new key seals, the old still opens, needsReseal names what to rewrite', () => {
    const old = new SecretSealer([m1]).seal(rigSecret, 'ctx');
    const rotated = new SecretSealer([m2, m1]);
    expect(rotated.needsReseal(old)).toBe(true);
    const resealed = rotated.seal(rotated.open(old, 'ctx'), 'ctx');
    expect(resealed.startsWith('rws1.m2.')).toBe(true);
    expect(rotated.needsReseal(resealed)).toBe(false);
    expectSealFailure(() => new SecretSealer([m2]).open(old, 'ctx'));
    expect(new SecretSealer([m2]).open(resealed, 'ctx').expose().equals(rigSecret.expose())).toBe(true);
  });

  it('secret-sealer: renders without its master keys', () => {
    const sealer = new SecretSealer([m1, m2]);
    const text = `${JSON.stringify(sealer)} ${inspect(sealer, { showHidden: true, depth: 9 })} ${inspect(sealer, { customInspect: false })}`;
    expect(findSecretLeaks(text, { m1: m1.secret, m2: m2.secret })).toEqual([]);
  });

  it.each([
    ['no master key', () => new SecretSealer([])],
    ['a master key id with a dot', () => new SecretSealer([{ id: 'm.1', secret: m1.secret }])],
    ['a duplicate master key id', () => new SecretSealer([m1, m1])],
  ])('secret-sealer: %s is refused', (_name, make) => {
    expect(make).toThrow(expect.objectContaining({ name: 'SecurityError' }));
  });
});
