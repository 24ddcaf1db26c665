import { KeyRing } from './key-ring';
import { fromStoredKey, toStoredKey } from './key-record.mapper';
import { SecretBytes } from './secret-bytes';
import { SecretSealer } from './secret.sealer';
import { findSecretLeaks } from './secret.scanner';
import { RIG, rigKey } from './testing/envelope-fixtures';

const sealer = new SecretSealer([{ id: 'm1', secret: SecretBytes.generate() }]);

describe('key-record', () => {
  it('key-record: a key survives a round trip through a database row that holds no secret', () => {
    const key = rigKey('k1', { retired: true });
    const row = JSON.parse(JSON.stringify(toStoredKey(RIG, key, sealer))) as ReturnType<typeof toStoredKey>;
    expect(findSecretLeaks(JSON.stringify(row), { secret: key.secret })).toEqual([]);
    const back = fromStoredKey(row, sealer);
    expect({ ...back, secret: back.secret.exposeBase64url() }).toEqual({ ...key, secret: key.secret.exposeBase64url() });
    new KeyRing().add(row.principal, back);
  });

  it('key-record: a sealed secret moved to another rig\'s row does not open', () => {
    const row = toStoredKey(RIG, rigKey('k1'), sealer);
    expect(() => fromStoredKey({ ...row, principal: 'rig-8' }, sealer)).toThrow(expect.objectContaining({ code: 'secret_unseal_failed' }));
    expect(() => fromStoredKey({ ...row, id: 'k2' }, sealer)).toThrow(expect.objectContaining({ code: 'secret_unseal_failed' }));
  });

  it('key-record: a row with a broken time is refused', () => {
    const row = toStoredKey(RIG, rigKey('k1'), sealer);
    expect(() => fromStoredKey({ ...row, expires: Number.NaN }, sealer)).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
  });
});
