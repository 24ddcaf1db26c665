#!/usr/bin/env python3
"""Independent implementation of the command-result v1 and rig-event v1 encodings (see libs/security/README.md), used
to write vectors.json. It shares no code with the TypeScript lib: src/rig-message-vectors.spec.ts checks that both agree.
Run: python3 libs/security/testdata/rig-message-v1/generate.py > libs/security/testdata/rig-message-v1/vectors.json"""
import hashlib, hmac, json, struct
from datetime import datetime, timedelta, timezone

RESULT_TAG = 'rigwarden/command-result/v1'
EVENT_TAG = 'rigwarden/rig-event/v1'
OUTCOMES = {'COMMAND_OUTCOME_UNSPECIFIED': 0, 'COMMAND_OUTCOME_SUCCEEDED': 1, 'COMMAND_OUTCOME_FAILED': 2,
            'COMMAND_OUTCOME_REJECTED': 3, 'COMMAND_OUTCOME_TIMED_OUT': 4}


def ms(rfc3339):
    at = datetime.fromisoformat(rfc3339.replace('Z', '+00:00'))
    return (at - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(milliseconds=1)  # exact, no float


def prefixed(fields):
    return b''.join(struct.pack('>I', len(f.encode('utf-8'))) + f.encode('utf-8') for f in fields)


def encode_result(r):
    return prefixed([RESULT_TAG, r['commandId'], r['rigId'], str(OUTCOMES[r.get('outcome', 'COMMAND_OUTCOME_UNSPECIFIED')]),
                     r.get('cause', ''), str(r.get('durationMs', 0)), str(ms(r['finishedAt'])), r['keyId']])


def encode_event(e):
    return prefixed([EVENT_TAG, e['eventId'], e['rigId'], e['kind'], e.get('severity', ''), e.get('reason', ''),
                     e.get('message', ''), str(ms(e['at'])), e['keyId']])


def vector(name, kind, key_hex, wire):
    encoded = encode_result(wire) if kind == 'result' else encode_event(wire)
    return {'name': name, 'kind': kind, 'keyHex': key_hex, 'wire': wire, 'canonicalHex': encoded.hex(),
            'hmacHex': hmac.new(bytes.fromhex(key_hex), encoded, hashlib.sha256).hexdigest()}


result = {'commandId': 'cmd-1', 'rigId': 'rig-7', 'outcome': 'COMMAND_OUTCOME_SUCCEEDED', 'durationMs': 412,
          'finishedAt': '2026-11-22T06:00:01.412Z', 'keyId': 'k1'}
event = {'eventId': 'ev-1', 'rigId': 'rig-7', 'kind': 'safety.overheat_stop', 'severity': 'critical',
         'reason': 'overheat', 'message': 'miner m1 stopped at 96 °C (limit 90 °C)', 'at': '2026-11-22T06:00:02.000Z',
         'keyId': 'k1'}
vectors = [
    vector('result succeeded', 'result', '2a' * 32, result),
    vector('result failed with a cause in quotes, backslashes and non-ASCII', 'result', '01' * 32,
           {**result, 'outcome': 'COMMAND_OUTCOME_FAILED', 'cause': 'miner said "нет" \\ no 🌱', 'durationMs': 30000}),
    vector('result rejected, zero duration omitted on the wire, key id with dots', 'result', 'ff' * 32,
           {k: v for k, v in {**result, 'outcome': 'COMMAND_OUTCOME_REJECTED', 'cause': 'bad_signature: no',
                              'keyId': 'k-2026.11:a'}.items() if k != 'durationMs'}),
    vector('result with an empty command outcome (unspecified omitted), key of 64 bytes', 'result', '00' * 64,
           {k: v for k, v in result.items() if k != 'outcome'}),
    vector('critical event', 'event', '2a' * 32, event),
    vector('event with empty severity, reason and message omitted, in 2100', 'event', '2a' * 32,
           {'eventId': 'ev-2', 'rigId': 'rig-7', 'kind': 'security.command_rejected', 'at': '2100-01-01T00:00:00.123Z', 'keyId': 'k2'}),
]
print(json.dumps({'encodings': [RESULT_TAG, EVENT_TAG], 'vectors': vectors}, indent=2, ensure_ascii=False))
