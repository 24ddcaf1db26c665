import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandEnvelope, CommandOutcome } from '@rigwarden/protocol';
import { RigKeyFile, SecretBytes, findSecretLeaks, wrapKey, type SigningKey } from '@rigwarden/security';
import { ManualClock, createLogger } from '@rigwarden/shared';
import { makeTempDir, type TempDir } from '@rigwarden/testing';
import { RigKeyCommands, isRigKeyCommand } from './rig-key.commands';

const T0 = Date.parse('2026-12-01T12:00:00Z');
const RIG = 'rig-1';

describe('key rotation commands on the agent', () => {
  let dir: TempDir;
  let path: string;
  let keys: RigKeyFile;
  let commands: RigKeyCommands;
  const lines: string[] = [];
  const k1: SigningKey = { id: 'k1', secret: SecretBytes.generate(), created: 0, notBefore: 0, expires: 8_640_000_000_000_000 };
  const k2: SigningKey = { id: 'k2', secret: SecretBytes.generate(), created: T0, notBefore: T0 - 30_000, expires: 8_640_000_000_000_000 };

  beforeEach(() => {
    dir = makeTempDir();
    path = join(dir.path, 'keys.json');
    writeFileSync(path, JSON.stringify({ rigs: { [RIG]: [{ id: 'k1', secret: k1.secret.exposeBase64url() }] } }));
    keys = new RigKeyFile(path);
    lines.length = 0;
    commands = new RigKeyCommands(path, keys, new ManualClock(T0), createLogger('keys', { write: (l) => lines.push(l) }));
  });
  afterEach(() => dir.remove());

  const rotate = (wrapped: unknown, newKeyId = 'k2', rigId = RIG) => CommandEnvelope.fromPartial({
    commandId: 'c', rigId, payload: { $case: 'rotateKey', value: { newKeyId, wrappedSecret: Buffer.from(JSON.stringify(wrapped)) } },
  });
  const retire = (keyId: string) => CommandEnvelope.fromPartial({ commandId: 'c', rigId: RIG, payload: { $case: 'retireKey', value: { keyId } } });

  it('adds a delivered key, then retires the old one; the verifier sees both changes; nothing secret is logged', () => {
    expect(isRigKeyCommand(rotate(wrapKey(k2, k1, RIG)))).toBe(true);
    expect(commands.execute(rotate(wrapKey(k2, k1, RIG)))).toEqual({ outcome: CommandOutcome.COMMAND_OUTCOME_SUCCEEDED, cause: 'key k2 added for rig rig-1' });
    expect(keys.lookup(RIG, 'k2', T0).ok).toBe(true);
    expect(commands.execute(rotate(wrapKey(k2, k1, RIG)))).toMatchObject({ outcome: CommandOutcome.COMMAND_OUTCOME_SUCCEEDED, cause: 'key k2 was already present for rig rig-1' });
    expect(commands.execute(retire('k1'))).toEqual({ outcome: CommandOutcome.COMMAND_OUTCOME_SUCCEEDED, cause: 'key k1 retired for rig rig-1' });
    expect(keys.lookup(RIG, 'k1', T0)).toEqual({ ok: false, reason: 'retired_key' });
    expect(findSecretLeaks(lines.join('\n'), { k1: k1.secret, k2: k2.secret })).toEqual([]);
  });

  it('fails, changing nothing, for a tampered, relabelled, misaddressed or unreadable delivery, and for retiring the last key', () => {
    const before = readFileSync(path, 'utf8');
    const good = wrapKey(k2, k1, RIG);
    const tampered = { ...good, ciphertext: Buffer.from(Buffer.from(good.ciphertext, 'base64url').map((b, i) => (i === 0 ? b ^ 1 : b))).toString('base64url') };
    const cases: Array<[CommandEnvelope, RegExp]> = [
      [rotate(tampered), /rotate-key: unwrapKey: key k2 for rig rig-1: authentication failed/],
      [rotate({ ...good, keyId: 'k3' }, 'k3'), /authentication failed/],
      [rotate(good, 'k3'), /new_key_id k3 does not match the wrapped key k2/],
      [rotate(wrapKey(k2, k1, 'rig-2')), /authentication failed/],
      [rotate(wrapKey(k2, { ...k1, id: 'k9' }, RIG)), /wrapping key k9 is not usable \(unknown_key\)/],
      [CommandEnvelope.fromPartial({ commandId: 'c', rigId: RIG, payload: { $case: 'rotateKey', value: { newKeyId: 'k2', wrappedSecret: Buffer.from('not json') } } }), /not a wrapped key/],
      [retire('k1'), /k1 is rig rig-1's last key/],
      [retire('nope'), /has no key nope/],
    ];
    for (const [envelope, cause] of cases) {
      const result = commands.execute(envelope);
      expect({ outcome: result.outcome, cause: result.cause }).toEqual({ outcome: CommandOutcome.COMMAND_OUTCOME_FAILED, cause: expect.stringMatching(cause) });
    }
    expect(readFileSync(path, 'utf8')).toBe(before);
  });
});
