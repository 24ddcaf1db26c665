#!/usr/bin/env python3
"""Independent implementation of key wrapping v1 (see libs/security/README.md, "Keys and rotation"), used to write
vectors.json: a rig key wrapped by Python (pyca/cryptography) that src/key-wrap.spec.ts must unwrap.
Run: python3 libs/security/testdata/key-wrap-v1/generate.py > libs/security/testdata/key-wrap-v1/vectors.json"""
import base64, json
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

DOMAIN = b'rigwarden/key-wrap/v1'


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def wrap(rig_id, wrapping_id, wrapping_secret, key, salt, iv):
    cipher_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=DOMAIN + b'\0' + rig_id.encode()).derive(wrapping_secret)
    aad = DOMAIN + b'\0' + rig_id.encode() + b'\0' + wrapping_id.encode() + b'\0' + key['id'].encode()
    sealed = AESGCM(cipher_key).encrypt(iv, json.dumps(key).encode(), aad)  # ciphertext || 16-byte tag
    return {'v': 1, 'wrappingKeyId': wrapping_id, 'keyId': key['id'], 'salt': b64url(salt), 'iv': b64url(iv),
            'ciphertext': b64url(sealed[:-16]), 'tag': b64url(sealed[-16:])}


wrapping_secret = bytes(range(32))
new_secret = bytes(range(100, 132))
key = {'id': 'k2', 'secret': b64url(new_secret), 'created': 1795327210000, 'notBefore': 1795327180000, 'expires': 1803103210000}
print(json.dumps({
    'rigId': 'rig-7',
    'wrappingKey': {'id': 'k1', 'secretHex': wrapping_secret.hex()},
    'expected': {**key, 'secretHex': new_secret.hex()},
    'wrapped': wrap('rig-7', 'k1', wrapping_secret, key, bytes(range(16)), bytes(range(12))),
}, indent=2))
