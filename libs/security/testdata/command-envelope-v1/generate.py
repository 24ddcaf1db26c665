#!/usr/bin/env python3
"""Independent implementation of the command-envelope v1 encoding (see libs/security/README.md), used to write
vectors.json. It shares no code with the TypeScript lib: src/command-vectors.spec.ts checks that both agree.
Run: python3 libs/security/testdata/command-envelope-v1/generate.py > libs/security/testdata/command-envelope-v1/vectors.json"""
import hashlib, hmac, json, struct
from datetime import datetime, timedelta, timezone

TAG = 'rigwarden/command-envelope/v1'


def ms(rfc3339):
    at = datetime.fromisoformat(rfc3339.replace('Z', '+00:00'))
    return (at - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(milliseconds=1)  # exact, no float


def canonical(value):
    # Keys are ASCII here, so code-point order equals UTF-16 code-unit order.
    return json.dumps(value, sort_keys=True, separators=(',', ':'), ensure_ascii=False)


def encode(e, command_type, payload_without_defaults):
    fields = [TAG, e['commandId'], e['rigId'], e.get('minerId', ''), command_type, canonical(payload_without_defaults),
              e['nonce'], str(ms(e['issuedAt'])), str(ms(e['expiresAt'])), e['keyId']]
    return b''.join(struct.pack('>I', len(f.encode('utf-8'))) + f.encode('utf-8') for f in fields)


def vector(name, key_hex, wire, command_type, payload_without_defaults):
    encoded = encode(wire, command_type, payload_without_defaults)
    return {
        'name': name,
        'keyHex': key_hex,
        'wire': wire,
        'canonicalHex': encoded.hex(),
        'hmacHex': hmac.new(bytes.fromhex(key_hex), encoded, hashlib.sha256).hexdigest(),
    }


base = {'commandId': 'cmd-1', 'rigId': 'rig-7', 'minerId': 'm1', 'nonce': 'AAAAAAAAAAAAAAAAAAAAAA',
        'issuedAt': '2026-11-22T06:00:00.000Z', 'expiresAt': '2026-11-22T06:00:30.000Z', 'keyId': 'k1'}
pools = [{'url': 'stratum+tcp://a.pool.example:3333', 'user': 'ферма.rig7', 'password': 'p"a\\ss'},
         {'url': 'stratum+tcp://b.pool.example:3333', 'user': 'farm.rig7'}]
vectors = [
    vector('switchPool, the README vector', '2a' * 32, {**base, 'switchPool': {'poolIndex': 1}}, 'switchPool', {'poolIndex': 1}),
    vector('switchPool to pool 0: the default is written on the wire and omitted when signing', '2a' * 32,
           {**base, 'switchPool': {'poolIndex': 0}}, 'switchPool', {}),
    vector('setPools with non-ASCII user, quotes and backslashes, an empty password omitted', '01' * 32,
           {**base, 'commandId': 'cmd-2', 'nonce': 'bm9uY2Utd2l0aC1iYXNlNjQ=', 'setPools': {'pools': pools}}, 'setPools',
           {'pools': pools}),
    vector('applyProfile with a non-BMP character', 'ff' * 32,
           {**base, 'commandId': 'cmd-3', 'applyProfile': {'profile': 'eco 🌱'}}, 'applyProfile', {'profile': 'eco 🌱'}),
    vector('restartMiner, key of 64 bytes', '00' * 64, {**base, 'commandId': 'cmd-4', 'restartMiner': {}}, 'restartMiner', {}),
    vector('rebootHost, no miner id', '2a' * 32,
           {k: v for k, v in {**base, 'commandId': 'cmd-5', 'rebootHost': {}}.items() if k != 'minerId'}, 'rebootHost', {}),
    vector('powerCycle in 2100 with millisecond times', '2a' * 32,
           {**base, 'commandId': 'cmd-6', 'issuedAt': '2100-01-01T00:00:00.123Z', 'expiresAt': '2100-01-01T00:00:10.456Z',
            'powerCycle': {}}, 'powerCycle', {}),
]
print(json.dumps({'encoding': TAG, 'vectors': vectors}, indent=2, ensure_ascii=False))
