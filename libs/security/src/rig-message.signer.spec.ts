import { inspect } from 'node:util';
import { CommandOutcome, type CommandResult, type RigEvent } from '@rigwarden/protocol';
import { encodeForSigning } from './command-encoding';
import { encodeEventForSigning, encodeResultForSigning } from './rig-message-encoding';
import { RigMessageSigner, checkRigMessageSignature } from './rig-message.signer';
import { DAY, RIG, T0, draft, fixedSecret, rigKey, ringWith } from './testing/envelope-fixtures';

const K1 = rigKey('k1');

function result(overrides: Partial<CommandResult> = {}): CommandResult {
  return {
    commandId: 'cmd-1', rigId: RIG, outcome: CommandOutcome.COMMAND_OUTCOME_SUCCEEDED, cause: '', durationMs: 412,
    finishedAt: new Date(T0 + 412), keyId: '', signature: Buffer.alloc(0), ...overrides,
  };
}

function event(overrides: Partial<RigEvent> = {}): RigEvent {
  return {
    eventId: 'ev-1', rigId: RIG, kind: 'safety.overheat_stop', severity: 'critical', reason: 'overheat',
    message: 'miner m1 stopped at 96 C', at: new Date(T0), keyId: '', signature: Buffer.alloc(0), ...overrides,
  };
}

const RESULT_TAMPERS: Array<[string, Partial<CommandResult>]> = [
  ['commandId', { commandId: 'cmd-2' }],
  ['rigId', { rigId: 'rig-8' }],
  ['outcome', { outcome: CommandOutcome.COMMAND_OUTCOME_FAILED }],
  ['cause', { cause: 'forged by attacker' }],
  ['durationMs', { durationMs: 413 }],
  ['finishedAt', { finishedAt: new Date(T0 + 413) }],
];

const EVENT_TAMPERS: Array<[string, Partial<RigEvent>]> = [
  ['eventId', { eventId: 'ev-2' }],
  ['rigId', { rigId: 'rig-8' }],
  ['kind', { kind: 'safety.power_cut' }],
  ['severity', { severity: 'info' }],
  ['reason', { reason: 'forged' }],
  ['message', { message: 'all fine' }],
  ['at', { at: new Date(T0 + 1) }],
];

describe('rig-message.signer', () => {
  const keys = ringWith(K1);
  keys.add('rig-8', rigKey('k1'));
  const signer = new RigMessageSigner(() => keys);

  it('rig-message.signer: a signed result and a signed event verify with the rig key, naming it', () => {
    const r = signer.signResult(result(), T0);
    expect(r.keyId).toBe('k1');
    expect(r.signature).toHaveLength(32);
    expect(checkRigMessageSignature({ type: 'result', message: r }, keys, T0)).toEqual({ ok: true, keyId: 'k1' });
    const e = signer.signEvent(event(), T0);
    expect(checkRigMessageSignature({ type: 'event', message: e }, keys, T0)).toEqual({ ok: true, keyId: 'k1' });
  });

  it.each(RESULT_TAMPERS)('rig-message.signer: a result with %s changed after signing is bad_signature', (_field, change) => {
    const tampered = { ...signer.signResult(result(), T0), ...change };
    expect(checkRigMessageSignature({ type: 'result', message: tampered }, keys, T0)).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it.each(EVENT_TAMPERS)('rig-message.signer: an event with %s changed after signing is bad_signature', (_field, change) => {
    const tampered = { ...signer.signEvent(event(), T0), ...change };
    expect(checkRigMessageSignature({ type: 'event', message: tampered }, keys, T0)).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('rig-message.signer: a key id relabelled to another key of the rig is bad_signature', () => {
    const ring = ringWith(K1, rigKey('k2'));
    const signed = { ...new RigMessageSigner(() => ringWith(K1)).signResult(result(), T0), keyId: 'k2' };
    expect(checkRigMessageSignature({ type: 'result', message: signed }, ring, T0)).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('rig-message.signer: a result signed with a wrong key of the same id is bad_signature, a one-byte flip too', () => {
    const wrong = new RigMessageSigner(() => ringWith(rigKey('k1', { secret: fixedSecret(0x55) }))).signResult(result(), T0);
    expect(checkRigMessageSignature({ type: 'result', message: wrong }, keys, T0)).toMatchObject({ ok: false, reason: 'bad_signature' });
    const flipped = signer.signEvent(event(), T0);
    const signature = Buffer.from(flipped.signature);
    signature[31] = (signature[31] as number) ^ 1;
    expect(checkRigMessageSignature({ type: 'event', message: { ...flipped, signature } }, keys, T0)).toMatchObject({ ok: false, reason: 'bad_signature' });
    expect(checkRigMessageSignature({ type: 'event', message: { ...flipped, signature: signature.subarray(0, 31) } }, keys, T0)).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('rig-message.signer: no key id or no signature is unsigned; an unknown, retired or expired key is refused by name', () => {
    const signed = signer.signResult(result(), T0);
    expect(checkRigMessageSignature({ type: 'result', message: result() }, keys, T0)).toMatchObject({ ok: false, reason: 'unsigned' });
    expect(checkRigMessageSignature({ type: 'result', message: { ...signed, signature: Buffer.alloc(0) } }, keys, T0)).toMatchObject({ ok: false, reason: 'unsigned' });
    expect(checkRigMessageSignature({ type: 'result', message: { ...signed, keyId: '' } }, keys, T0)).toMatchObject({ ok: false, reason: 'unsigned' });
    expect(checkRigMessageSignature({ type: 'result', message: { ...signed, keyId: 'k9' } }, keys, T0)).toMatchObject({ ok: false, reason: 'unknown_key' });
    const retired = ringWith(K1);
    retired.retire(RIG, 'k1');
    expect(checkRigMessageSignature({ type: 'result', message: signed }, retired, T0)).toMatchObject({ ok: false, reason: 'retired_key' });
    expect(checkRigMessageSignature({ type: 'result', message: signed }, keys, T0 + 31 * DAY)).toMatchObject({ ok: false, reason: 'key_expired' });
  });

  it('rig-message.signer: a message that cannot be encoded is malformed, never a throw', () => {
    const signed = signer.signEvent(event(), T0);
    expect(checkRigMessageSignature({ type: 'event', message: { ...signed, at: undefined } }, keys, T0)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(checkRigMessageSignature({ type: 'event', message: { ...signed, message: '\ud800' } }, keys, T0)).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('rig-message.signer: during a rotation the agent signs with the newest key and both old and new verify', () => {
    const k2 = rigKey('k2', { created: T0, notBefore: T0 });
    const agent = ringWith(K1, k2);
    const controller = ringWith(K1, k2);
    const byNew = new RigMessageSigner(() => agent).signResult(result(), T0 + 1);
    expect(byNew.keyId).toBe('k2');
    expect(checkRigMessageSignature({ type: 'result', message: byNew }, controller, T0 + 1)).toMatchObject({ ok: true, keyId: 'k2' });
    const byOld = new RigMessageSigner(() => ringWith(K1)).signEvent(event(), T0 + 1); // an agent that has not the new key yet
    expect(checkRigMessageSignature({ type: 'event', message: byOld }, controller, T0 + 1)).toMatchObject({ ok: true, keyId: 'k1' });
    controller.retire(RIG, 'k1');
    expect(checkRigMessageSignature({ type: 'event', message: byOld }, controller, T0 + 2)).toMatchObject({ ok: false, reason: 'retired_key' });
  });

  it('rig-message.signer: a result answering a command signs with that command\'s key while it is active, else the newest', () => {
    const k2 = rigKey('k2', { created: T0, notBefore: T0 });
    const agent = ringWith(K1, k2);
    const signer2 = new RigMessageSigner(() => agent);
    expect(signer2.signResult(result(), T0 + 1, 'k1').keyId).toBe('k1');
    expect(signer2.signResult(result(), T0 + 1, 'k9').keyId).toBe('k2');
    agent.retire(RIG, 'k1');
    expect(signer2.signResult(result(), T0 + 1, 'k1').keyId).toBe('k2');
  });

  it('rig-message.signer: a rig without an active key gets its messages unsigned, with empty key id and signature', () => {
    const unsigned = new RigMessageSigner(() => ringWith(K1)).signEvent(event({ rigId: 'rig-unkeyed' }), T0);
    expect(unsigned.keyId).toBe('');
    expect(unsigned.signature).toHaveLength(0);
  });

  it('rig-message.signer: results, events and commands never share signed bytes (distinct tags in the first field)', () => {
    const r = encodeResultForSigning({ ...result(), keyId: 'k1' });
    const e = encodeEventForSigning({ ...event(), keyId: 'k1' });
    const c = encodeForSigning({ ...draft(), nonce: 'n', issuedAt: new Date(T0), expiresAt: new Date(T0 + 1), keyId: 'k1' });
    const first = (b: Buffer) => b.subarray(4, 4 + b.readUInt32BE(0)).toString('utf8');
    expect(new Set([first(r), first(e), first(c)])).toEqual(new Set(['rigwarden/command-result/v1', 'rigwarden/rig-event/v1', 'rigwarden/command-envelope/v1']));
  });

  it('rig-message.signer: the signer shows no secret when logged', () => {
    expect(inspect(signer)).not.toContain(K1.secret.exposeBase64url());
    expect(JSON.stringify(signer)).not.toContain(K1.secret.exposeBase64url());
  });
});
