import { CommandEnvelope, encodeJson } from '@rigwarden/protocol';
import { encodeForSigning } from './command-encoding';
import { CommandSigner, signatureMatches } from './envelope.signer';
import { EnvelopeVerifier } from './envelope.verifier';
import { MemoryNonceStore } from './memory-nonce.store';
import { RIG, T0, draft, rigKey, ringWith, signedWith } from './testing/envelope-fixtures';

const K1 = rigKey('k1');

describe('lease epoch (the fencing token) in the signed command encoding', () => {
  it('leaves an envelope without an epoch encoded exactly as before (11th field only when non-zero)', () => {
    const plain = signedWith(K1);
    expect(encodeForSigning({ ...plain, leaseEpoch: 0 })).toEqual(encodeForSigning({ ...plain, leaseEpoch: undefined }));
    const fenced = encodeForSigning({ ...plain, leaseEpoch: 42 });
    const tail = Buffer.concat([Buffer.from([0, 0, 0, 2]), Buffer.from('42', 'utf8')]);
    expect(fenced).toEqual(Buffer.concat([encodeForSigning(plain), tail]));
  });

  it('signs the epoch: changing it in transit breaks the signature; the agent\'s verifier accepts it as signed', () => {
    const signed = new CommandSigner(ringWith(K1)).sign({ ...draft(), leaseEpoch: 7 }, T0);
    expect(signed.leaseEpoch).toBe(7);
    expect(signatureMatches(signed, K1.secret)).toBe(true);
    expect(signatureMatches({ ...signed, leaseEpoch: 8 }, K1.secret)).toBe(false);
    expect(signatureMatches({ ...signed, leaseEpoch: 0 }, K1.secret)).toBe(false);
    const wire = CommandEnvelope.fromJSON(JSON.parse(encodeJson(CommandEnvelope, signed).toString('utf8')));
    expect(wire.leaseEpoch).toBe(7);
    const verifier = new EnvelopeVerifier({ keys: ringWith(K1), nonces: new MemoryNonceStore({ capacity: 10 }) });
    expect(verifier.verify(wire, RIG, T0 + 1000)).toMatchObject({ ok: true });
  });

  it('refuses to sign an epoch that is not a non-negative integer', () => {
    expect(() => encodeForSigning({ ...signedWith(K1), leaseEpoch: -1 })).toThrow(/leaseEpoch must be a non-negative integer/);
    expect(() => encodeForSigning({ ...signedWith(K1), leaseEpoch: 1.5 })).toThrow(/leaseEpoch/);
  });
});
