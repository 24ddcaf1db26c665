import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { authMetadata, connectionOptions } from './grpc-client';

describe('rigctl connection options', () => {
  let dir: TempDir;
  const token = (n: number): string => `rwk_${String(n).repeat(16).slice(0, 16)}_${'A'.repeat(43)}`;

  beforeAll(() => {
    dir = makeTempDir();
    writeFileSync(join(dir.path, 'flag.token'), `${token(1)}\n`);
    writeFileSync(join(dir.path, 'env.token'), token(2));
    writeFileSync(join(dir.path, 'default.token'), token(3));
  });
  afterAll(() => dir.remove());

  it.each([
    ['--api-key beats everything', { 'api-key': token(9), 'api-key-file': 'flag.token' }, { RIGWARDEN_API_KEY: token(8) }, token(9), '--api-key'],
    ['--api-key-file beats the environment', { 'api-key-file': 'flag.token' }, { RIGWARDEN_API_KEY: token(8), RIGWARDEN_API_KEY_FILE: 'env.token' }, token(1), 'flag.token'],
    ['RIGWARDEN_API_KEY', {}, { RIGWARDEN_API_KEY: token(8), RIGWARDEN_API_KEY_FILE: 'env.token' }, token(8), 'RIGWARDEN_API_KEY'],
    ['RIGWARDEN_API_KEY_FILE', {}, { RIGWARDEN_API_KEY_FILE: 'env.token' }, token(2), 'env.token'],
  ])('%s', (_name, flags, env, key, source) => {
    const options = connectionOptions(flags, env, dir.path);
    expect(options.apiKey).toBe(key);
    expect(options.apiKeySource.endsWith(source)).toBe(true);
    expect(authMetadata(options).get('authorization')).toEqual(key ? [`Bearer ${key}`] : []);
  });

  it('nothing at all: no key is sent, and the source says where rigctl looked', () => {
    const options = connectionOptions({}, {}, dir.path);
    expect(options.apiKey).toBe('');
    expect(options.apiKeySource).toBe(`none: looked for --api-key, $RIGWARDEN_API_KEY, --api-key-file, $RIGWARDEN_API_KEY_FILE and ${join(dir.path, 'data/admin.token')} (no such file)`);
    expect(authMetadata(options).get('authorization')).toEqual([]);
  });

  it('reads ./data/admin.token by default', () => {
    const data = join(dir.path, 'cwd');
    mkdirSync(join(data, 'data'), { recursive: true });
    writeFileSync(join(data, 'data', 'admin.token'), token(4));
    const options = connectionOptions({ server: 'ctl:1', 'tls-ca': 'ca.pem' }, {}, data);
    expect(options).toMatchObject({ server: 'ctl:1', apiKey: token(4), tls: { caFile: 'ca.pem' } });
  });

  it.each([
    [{ 'api-key-file': 'missing.token' }, {}, /API key file .*missing\.token does not exist \(from --api-key-file\)/],
    [{}, { RIGWARDEN_API_KEY_FILE: 'missing.token' }, /from RIGWARDEN_API_KEY_FILE/],
    [{ 'tls-cert': 'c.pem' }, {}, /--tls-cert and --tls-key go together/],
    [{ 'tls-cert': 'c.pem', 'tls-key': 'k.pem' }, {}, /--tls-cert needs --tls-ca/],
    [{ server: '' }, {}, /--server needs a value/],
  ])('refuses %j %j', (flags, env, message) => {
    expect(() => connectionOptions(flags, env, dir.path)).toThrow(message);
  });
});
