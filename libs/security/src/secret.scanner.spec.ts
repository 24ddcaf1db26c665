import { inspect } from 'node:util';
import { ApiKeyHasher, generateApiKey } from './api-key.hasher';
import { SecretBytes } from './secret-bytes';
import { findSecretLeaks } from './secret.scanner';
import { DAY, T0 } from './testing/envelope-fixtures';
import { SeededRandom } from './testing/seeded-random';

const secret = SecretBytes.generate();
const { token } = generateApiKey(new ApiKeyHasher(SecretBytes.generate()), { principal: 'alice', scope: 'read', now: T0, expires: T0 + DAY });

describe('secret-scanner', () => {
  it.each<[string, () => string | Buffer]>([
    ['raw bytes in a binary blob', () => Buffer.concat([Buffer.from('header'), secret.expose(), Buffer.from('tail')])],
    ['hex', () => `key=${secret.expose().toString('hex')}`],
    ['upper-case hex', () => secret.expose().toString('hex').toUpperCase()],
    ['a util.inspect of a Buffer', () => inspect({ key: Buffer.from(secret.expose()) })],
    ['a JSON-serialised Buffer', () => JSON.stringify({ key: Buffer.from(secret.expose()) })],
    ['base64url', () => `secret: ${secret.exposeBase64url()}`],
    ...[0, 1, 2, 3, 4, 5].map((offset): [string, () => string] => [
      `base64 of a record holding it at offset ${offset}`,
      () => Buffer.concat([Buffer.alloc(offset, 0x41), secret.expose(), Buffer.from('...')]).toString('base64'),
    ]),
  ])('secret-scanner: finds a secret leaked as %s', (_name, haystack) => {
    expect(findSecretLeaks(haystack(), { rigSecret: secret })).toEqual(['rigSecret']);
  });

  it('secret-scanner: finds an API key by value and any API key by shape', () => {
    expect(findSecretLeaks(`GET /rigs authorization=${token.reveal()}`, { token })).toEqual(['token', 'api-key']);
    expect(findSecretLeaks('rwk_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', {})).toEqual(['api-key']);
  });

  it('secret-scanner: 2,000 random log lines without the secrets are clean (seed 5)', () => {
    const random = new SeededRandom(5);
    const logs = Array.from({ length: 2000 }, () => `${random.string(random.int(10, 200), 'abcdefABCDEF0123456789 +/=_-:{}"')}\n`).join('');
    expect(findSecretLeaks(logs, { secret, token })).toEqual([]);
  });

  it('secret-scanner: redacted renderings are clean', () => {
    expect(findSecretLeaks(`${JSON.stringify({ secret, token })} ${inspect({ secret, token })}`, { secret, token })).toEqual([]);
  });
});
