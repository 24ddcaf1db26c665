/**
 * A controller signs commands for rig-7, the agent verifies them, a replay is refused (also after an agent restart),
 * and the rig's key is rotated with an overlap window (the new key delivered wrapped under the old one).
 * Run it: npx esbuild libs/security/examples/signed-commands.example.ts --bundle --platform=node --outfile=/tmp/signed.js && node /tmp/signed.js
 * (Code outside libs/security imports the same names from '@rigwarden/security'.)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandEnvelope, decodeCommandEnvelope, encodeJson } from '@rigwarden/protocol';
import {
  CommandSigner, EnvelopeVerifier, FileNonceStore, KeyRing, SecretBytes, TokenBucketRateLimiter, unwrapKey, wrapKey,
  type EnvelopeVerification, type WrappedKey,
} from '../src';

export function signedCommandsExample(): string[] {
  const lines: string[] = [];
  const t0 = Date.parse('2026-11-22T06:00:00Z');
  const day = 86_400_000;
  const dir = mkdtempSync(join(tmpdir(), 'rw-example-'));
  const show = (label: string, result: EnvelopeVerification) =>
    lines.push(`${label}: ${result.ok ? `accepted (key ${result.keyId})` : `rejected ${result.reason}`}`);

  // The rig's first secret, provisioned once; both sides hold it in a KeyRing.
  const k1 = { id: 'k1', secret: SecretBytes.generate(), created: t0 - day, notBefore: t0 - day, expires: t0 + 90 * day };
  const controllerKeys = new KeyRing();
  const agentKeys = new KeyRing();
  controllerKeys.add('rig-7', k1);
  agentKeys.add('rig-7', k1);

  // Controller: sign, publish the proto3 JSON.
  const signer = new CommandSigner(controllerKeys, { ttlMs: 30_000 });
  const wire = encodeJson(CommandEnvelope, signer.sign({
    commandId: 'cmd-1', rigId: 'rig-7', minerId: 'antminer-01', reason: 'failover',
    payload: { $case: 'switchPool', value: { poolIndex: 1 } },
  }, t0));

  // Agent: decode, verify against its own rig id and clock, with a nonce journal on disk.
  const journal = join(dir, 'nonces.journal');
  let nonces = FileNonceStore.open({ path: journal, now: t0 });
  let agent = new EnvelopeVerifier({ keys: agentKeys, nonces });
  show('t+0.2s cmd-1', agent.verify(decodeCommandEnvelope(wire), 'rig-7', t0 + 200));
  show('t+0.4s cmd-1 again', agent.verify(decodeCommandEnvelope(wire), 'rig-7', t0 + 400));

  // The agent restarts: the journal still knows the nonce.
  nonces.close();
  nonces = FileNonceStore.open({ path: journal, now: t0 + 5_000 });
  agent = new EnvelopeVerifier({ keys: agentKeys, nonces });
  show('t+5s cmd-1 after restart', agent.verify(decodeCommandEnvelope(wire), 'rig-7', t0 + 5_000));

  // Rejections become security events, rate-limited per rig and reason.
  const limiter = new TokenBucketRateLimiter({ burst: 3, perMinute: 6 });
  let reported = 0;
  for (let i = 0; i < 1_000; i++) {
    const result = agent.verify(decodeCommandEnvelope(wire), 'rig-7', t0 + 6_000 + i);
    if (!result.ok && limiter.take(`rig-7:${result.reason}`, t0 + 6_000 + i).allowed) reported += 1;
  }
  lines.push(`1000 replays: ${reported} security events reported, the rest counted as suppressed`);

  // Rotation, step 1: wrap k2 under k1 and deliver it; notBefore backdated by the skew allowance.
  const k2 = { id: 'k2', secret: SecretBytes.generate(), created: t0 + 10_000, notBefore: t0 + 10_000 - 30_000, expires: t0 + 180 * day };
  const delivery = JSON.stringify(wrapKey(k2, k1, 'rig-7')); // travels inside a command signed with k1
  // Step 2: the agent unwraps and installs it, then confirms.
  agentKeys.add('rig-7', unwrapKey(JSON.parse(delivery) as WrappedKey, agentKeys, 'rig-7', t0 + 10_200));
  const restart = (id: string) => ({ commandId: id, rigId: 'rig-7', minerId: 'antminer-01', reason: '', payload: { $case: 'restartMiner' as const, value: {} } });
  const inFlight = signer.sign(restart('cmd-2'), t0 + 10_000);
  // Step 3, on confirmation: the controller signs with k2 from now on; k1 commands in flight still verify.
  controllerKeys.add('rig-7', k2);
  show('t+11s cmd-3 (new key)', agent.verify(signer.sign(restart('cmd-3'), t0 + 11_000), 'rig-7', t0 + 11_000));
  show('t+12s cmd-2 (old key, in flight: overlap)', agent.verify(inFlight, 'rig-7', t0 + 12_000));

  // Step 4: 60 s (maxAge + maxFuture) after the switch nothing signed with k1 can be fresh: retire it on both sides.
  controllerKeys.retire('rig-7', 'k1');
  agentKeys.retire('rig-7', 'k1');
  const stolenK1 = new KeyRing();
  stolenK1.add('rig-7', k1);
  const forged = new CommandSigner(stolenK1).sign({ ...restart('cmd-4'), payload: { $case: 'rebootHost', value: {} } }, t0 + 80_000);
  show('t+80s cmd-4 signed with retired k1', agent.verify(forged, 'rig-7', t0 + 80_000));

  nonces.close();
  rmSync(dir, { recursive: true, force: true });
  return lines;
}

if (typeof require !== 'undefined' && require.main === module) console.log(signedCommandsExample().join('\n'));
