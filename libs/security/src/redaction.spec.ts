import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { format, inspect } from 'node:util';
import { ApiKeyAuthenticator } from './api-key.authenticator';
import { AuditChain } from './audit-chain';
import { ApiKeyHasher, generateApiKey } from './api-key.hasher';
import { CommandSigner } from './envelope.signer';
import { EnvelopeVerifier } from './envelope.verifier';
import { KeyRing } from './key-ring';
import { MemoryApiKeyStore } from './memory-api-key.store';
import { MemoryNonceStore } from './memory-nonce.store';
import { RigKeyFile } from './rig-key-file.loader';
import { SecretBytes } from './secret-bytes';
import { SecretSealer } from './secret.sealer';
import { SecurityError } from './security-error';
import { DAY, RIG, T0 } from './testing/envelope-fixtures';

/** Every way a secret's bytes could show up in text. */
function forms(bytes: Buffer): string[] {
  const first = [...bytes.subarray(0, 8)];
  return [
    bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url'),
    first.map((b) => b.toString(16).padStart(2, '0')).join(' '), // <Buffer 0a 1b ...>
    first.join(','), first.join(', '), // {"type":"Buffer","data":[10,27,...]}
  ];
}

const rigSecret = SecretBytes.generate();
const pepper = SecretBytes.generate();
const ring = new KeyRing();
ring.add(RIG, { id: 'k1', secret: rigSecret, created: T0, notBefore: T0, expires: T0 + DAY });
const hasher = new ApiKeyHasher(pepper);
const { token, record } = generateApiKey(hasher, { principal: 'alice', scope: 'admin', now: T0, expires: T0 + DAY });
const store = new MemoryApiKeyStore();
store.add(record);
const keyFile = join(mkdtempSync(join(tmpdir(), 'rw-redaction-')), 'keys.json');
writeFileSync(keyFile, JSON.stringify({ rigs: { [RIG]: [{ id: 'k1', secret: rigSecret.exposeBase64url() }] } }));
const secrets = [
  ...forms(rigSecret.expose()), ...forms(pepper.expose()), ...forms(record.hash.expose()),
  token.reveal(), token.reveal().slice(21),
];

const HOLDERS: Array<[string, unknown]> = [
  ['SecretBytes', rigSecret],
  ['a SigningKey', ring.signingKey(RIG, T0)],
  ['KeyRing', ring],
  ['KeyRing.list', ring.list(RIG, T0)],
  ['CommandSigner', new CommandSigner(ring)],
  ['EnvelopeVerifier', new EnvelopeVerifier({ keys: ring, nonces: new MemoryNonceStore() })],
  ['ApiKeyHasher', hasher],
  ['ApiKeyToken', token],
  ['ApiKeyRecord', record],
  ['MemoryApiKeyStore', store],
  ['ApiKeyAuthenticator', new ApiKeyAuthenticator({ keys: store, hasher })],
  ['SecretSealer', new SecretSealer([{ id: 'm1', secret: pepper }])],
  ['AuditChain', new AuditChain(pepper)],
  ['RigKeyFile', new RigKeyFile(keyFile)],
  ['a config object holding them all', { rig: { keys: [ring.signingKey(RIG, T0)] }, api: { pepper, hasher, token, record } }],
];

const RENDERINGS: Array<[string, (value: unknown) => string]> = [
  ['JSON.stringify', (v) => JSON.stringify(v) ?? ''],
  ['util.inspect', (v) => inspect(v)],
  ['util.inspect showHidden, depth Infinity', (v) => inspect(v, { showHidden: true, depth: Number.POSITIVE_INFINITY })],
  ['util.inspect without custom inspectors', (v) => inspect(v, { customInspect: false, showHidden: true, depth: Number.POSITIVE_INFINITY })],
  ['util.format %o and %s', (v) => format('%o %s %j', v, v, v)],
  ['String()', (v) => String(v)],
];

afterAll(() => rmSync(dirname(keyFile), { recursive: true, force: true }));

describe('redaction', () => {
  const cases = HOLDERS.flatMap(([holder, value]) => RENDERINGS.map(([how, render]) => [holder, how, value, render] as const));

  it.each(cases)('redaction: %s rendered by %s shows no secret', (_holder, _how, value, render) => {
    const text = render(value);
    for (const secret of secrets) expect(text).not.toContain(secret);
  });

  it.each(RENDERINGS.filter(([how]) => how !== 'String()'))('redaction: the check itself catches a raw Buffer rendered by %s', (_how, render) => {
    const text = render({ leaked: Buffer.from(rigSecret.expose()), token: token.reveal() });
    expect(secrets.some((secret) => text.includes(secret))).toBe(true);
  });

  it('redaction: the secrets are still there for whoever asks explicitly', () => {
    expect(ring.signingKey(RIG, T0).secret.expose().equals(rigSecret.expose())).toBe(true);
    expect(token.reveal()).toMatch(/^rwk_/);
    expect(JSON.stringify(token)).toContain(token.id);
  });

  it('redaction: errors about secrets never echo them', () => {
    const text = `${rigSecret.exposeBase64url()}!`;
    let error: unknown;
    try {
      SecretBytes.fromBase64url(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(SecurityError);
    expect(inspect(error)).not.toContain(rigSecret.exposeBase64url());
    expect(() => SecretBytes.from(Buffer.alloc(16))).toThrow(expect.objectContaining({ code: 'invalid_secret' }));
  });
});
