import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandOutcome, CommandResult, RigEvent } from '@rigwarden/protocol';
import { KeyRing, RigMessageSigner, SecretBytes, type SigningKey } from '@rigwarden/security';
import type { Logger } from '@rigwarden/shared';
import { makeTempDir } from '@rigwarden/testing';
import { loadControllerConfig } from '../config/controller-config';
import { emptyIngestCounters } from './ingest-counters';
import { RigMessageVerifier } from './rig-message.verifier';

const T0 = Date.parse('2026-12-03T18:00:00Z');
const DAY = 86_400_000;

function key(id: string, created = T0 - DAY): SigningKey {
  return { id, secret: SecretBytes.generate(), created, notBefore: created, expires: T0 + 30 * DAY };
}

function recordingLogger(): Logger & { lines: Array<{ message: string; fields?: Record<string, unknown> }> } {
  const lines: Array<{ message: string; fields?: Record<string, unknown> }> = [];
  const log = (message: string, fields?: Record<string, unknown>) => { lines.push({ message, fields }); };
  const logger = { lines, debug: log, info: log, warn: log, error: log, child: () => logger };
  return logger;
}

const result = (rigId: string, cause = '') => CommandResult.fromPartial({
  commandId: 'cmd-1', rigId, outcome: CommandOutcome.COMMAND_OUTCOME_SUCCEEDED, cause, durationMs: 5, finishedAt: new Date(T0),
});
const event = (rigId: string, severity = 'critical') => RigEvent.fromPartial({
  eventId: 'ev-1', rigId, kind: 'safety.overheat_stop', severity, reason: 'overheat', message: 'stopped at 96 C', at: new Date(T0),
});

describe('rig-message.verifier', () => {
  const k1 = key('k1');
  const controllerKeys = new KeyRing();
  controllerKeys.add('rig-a', k1);
  const agent = new RigMessageSigner(() => controllerKeys);

  function verifier(logger = recordingLogger(), keys: () => KeyRing | undefined = () => controllerKeys) {
    return { logger, verifier: new RigMessageVerifier({ keys, logger, now: () => T0 }), counters: emptyIngestCounters() };
  }

  it('rig-message.verifier: a result and an event signed with the rig key are accepted as verified, nothing counted as refused', () => {
    const { verifier: v, counters } = verifier();
    expect(v.check({ type: 'result', message: agent.signResult(result('rig-a'), T0) }, counters)).toEqual({ accepted: true, verified: true, keyId: 'k1' });
    expect(v.check({ type: 'event', message: agent.signEvent(event('rig-a'), T0) }, counters)).toEqual({ accepted: true, verified: true, keyId: 'k1' });
    expect(counters).toMatchObject({ signatureRejected: 0, unverified: 0 });
  });

  it('rig-message.verifier: forged results and events for a keyed rig are refused and counted each time, logged once per rig and reason', () => {
    const { verifier: v, counters, logger } = verifier();
    const forged = result('rig-a', 'forged by attacker');
    for (let i = 0; i < 5; i++) expect(v.check({ type: 'result', message: forged }, counters)).toMatchObject({ accepted: false, reason: 'unsigned' });
    const tampered = { ...agent.signEvent(event('rig-a'), T0), severity: 'info' };
    for (let i = 0; i < 3; i++) expect(v.check({ type: 'event', message: tampered }, counters)).toMatchObject({ accepted: false, reason: 'bad_signature' });
    const alien = new RigMessageSigner(() => { const r = new KeyRing(); r.add('rig-a', key('k1')); return r; }).signEvent(event('rig-a'), T0);
    expect(v.check({ type: 'event', message: alien }, counters)).toMatchObject({ accepted: false, reason: 'bad_signature' });
    expect(counters.signatureRejected).toBe(9);
    expect(logger.lines.map((l) => [l.fields?.['rig'], l.fields?.['reason']])).toEqual([['rig-a', 'unsigned'], ['rig-a', 'bad_signature']]);
  });

  it('rig-message.verifier: a rig with no key at all is accepted unverified, counted, and logged once', () => {
    const { verifier: v, counters, logger } = verifier();
    expect(v.check({ type: 'event', message: event('rig-free') }, counters)).toEqual({ accepted: true, verified: false });
    expect(v.check({ type: 'result', message: result('rig-free') }, counters)).toEqual({ accepted: true, verified: false });
    expect(counters).toMatchObject({ unverified: 2, signatureRejected: 0 });
    expect(logger.lines).toHaveLength(1);
    expect(verifier(undefined, () => undefined).verifier.check({ type: 'event', message: event('rig-a') }, emptyIngestCounters())).toEqual({ accepted: true, verified: false });
  });

  it('rig-message.verifier: a rig whose only key is retired still counts as keyed: unsigned and old-key messages are refused', () => {
    const ring = new KeyRing();
    ring.add('rig-r', k1);
    const signed = new RigMessageSigner(() => ring).signEvent(event('rig-r'), T0);
    ring.retire('rig-r', 'k1');
    const { verifier: v, counters } = verifier(undefined, () => ring);
    expect(v.check({ type: 'event', message: signed }, counters)).toMatchObject({ accepted: false, reason: 'retired_key' });
    expect(v.check({ type: 'event', message: event('rig-r') }, counters)).toMatchObject({ accepted: false, reason: 'unsigned' });
  });

  it('rig-message.verifier: during a rotation overlap a message signed with either active key is accepted', () => {
    const ring = new KeyRing();
    const k2 = key('k2', T0 - 1);
    ring.add('rig-a', k1);
    ring.add('rig-a', k2);
    const old = new KeyRing();
    old.add('rig-a', k1);
    const { verifier: v, counters } = verifier(undefined, () => ring);
    expect(v.check({ type: 'result', message: new RigMessageSigner(() => ring).signResult(result('rig-a'), T0) }, counters)).toMatchObject({ accepted: true, keyId: 'k2' });
    expect(v.check({ type: 'result', message: new RigMessageSigner(() => old).signResult(result('rig-a'), T0) }, counters)).toMatchObject({ accepted: true, keyId: 'k1' });
  });

  it('rig-message.verifier: of(config) reads the controller key file, once per configuration', () => {
    const dir = makeTempDir('rig-message-verifier-');
    try {
      const keysFile = join(dir.path, 'keys.json');
      writeFileSync(keysFile, JSON.stringify({ rigs: { 'rig-f': [{ id: 'k1', secret: k1.secret.exposeBase64url() }] } }));
      const config = loadControllerConfig(['--data-dir', dir.path, '--keys-file', keysFile], {});
      const v = RigMessageVerifier.of(config);
      expect(RigMessageVerifier.of(config)).toBe(v);
      const ring = new KeyRing();
      ring.add('rig-f', k1);
      const counters = emptyIngestCounters();
      expect(v.check({ type: 'event', message: new RigMessageSigner(() => ring).signEvent(event('rig-f'), Date.now()) }, counters)).toMatchObject({ accepted: true, verified: true });
      expect(v.check({ type: 'event', message: event('rig-f') }, counters)).toMatchObject({ accepted: false, reason: 'unsigned' });
    } finally {
      dir.remove();
    }
  });
});
