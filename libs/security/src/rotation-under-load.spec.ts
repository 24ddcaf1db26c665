import { CommandEnvelope, decodeCommandEnvelope, encodeJson } from '@rigwarden/protocol';
import { CommandSigner } from './envelope.signer';
import { EnvelopeVerifier, type EnvelopeVerification } from './envelope.verifier';
import { KeyRing, type SigningKey } from './key-ring';
import { unwrapKey, wrapKey, type WrappedKey } from './key-wrap';
import { MemoryNonceStore } from './memory-nonce.store';
import { SecretBytes } from './secret-bytes';
import { DAY, RIG, T0, draft } from './testing/envelope-fixtures';
import { SeededRandom } from './testing/seeded-random';

type Delivery =
  | { at: number; kind: 'command'; wire: Buffer }
  | { at: number; kind: 'new-key'; wrapped: WrappedKey }
  | { at: number; kind: 'retire'; keyId: string };

const WINDOW_MS = 30_000;

/**
 * Issue 7: "a rotation under continuous command load → no failed command". A command every 100 ms for 150 s, each
 * delivered 0-2 s late (so out of order), the agent's clock off by `skew`; k1 → k2 rotated with the README's flow.
 */
function rotateUnderLoad(seed: number, skew: number) {
  const random = new SeededRandom(seed);
  const k1: SigningKey = { id: 'k1', secret: SecretBytes.generate(), created: T0 - DAY, notBefore: T0 - DAY, expires: T0 + 90 * DAY };
  const controller = new KeyRing();
  const agent = new KeyRing();
  controller.add(RIG, k1);
  agent.add(RIG, k1);
  const signer = new CommandSigner(controller, { ttlMs: WINDOW_MS });
  const verifier = new EnvelopeVerifier({ keys: agent, nonces: new MemoryNonceStore(), windowMs: WINDOW_MS });
  const queue: Delivery[] = [];
  const send = (delivery: Delivery) => queue.push(delivery);
  const late = () => random.int(0, 2_000);

  let pendingK2: SigningKey | undefined;
  let confirmedAt: number | undefined;
  let retired = false;
  const results: Array<{ verdict: EnvelopeVerification; issuedAt: number }> = [];

  for (let now = T0; now <= T0 + 150_000; now += 100) {
    // Controller: rotation steps, then this tick's command.
    if (now === T0 + 20_000) {
      // Step 1: notBefore backdated by the skew allowance so an agent whose clock is behind accepts it at once.
      pendingK2 = { id: 'k2', secret: SecretBytes.generate(), created: now, notBefore: now - WINDOW_MS, expires: now + 90 * DAY };
      send({ at: now + late(), kind: 'new-key', wrapped: wrapKey(pendingK2, k1, RIG) });
    }
    if (confirmedAt !== undefined && now >= confirmedAt && pendingK2) {
      controller.add(RIG, pendingK2); // step 3: the newest active key signs from now on
      pendingK2 = undefined;
    }
    if (confirmedAt !== undefined && !retired && now >= confirmedAt + 2 * WINDOW_MS) {
      controller.retire(RIG, 'k1'); // step 4, maxAge + maxFuture after the switch
      send({ at: now + late(), kind: 'retire', keyId: 'k1' });
      retired = true;
    }
    const envelope = signer.sign(draft({ commandId: `cmd-${now - T0}` }), now);
    send({ at: now + late(), kind: 'command', wire: encodeJson(CommandEnvelope, envelope) });

    // Agent: everything that has arrived by now, in arrival order, on its own (skewed) clock.
    queue.sort((a, b) => a.at - b.at);
    while (queue.length > 0 && (queue[0] as Delivery).at <= now) {
      const delivery = queue.shift() as Delivery;
      const agentNow = delivery.at + skew;
      if (delivery.kind === 'command') {
        const received = decodeCommandEnvelope(delivery.wire);
        results.push({ verdict: verifier.verify(received, RIG, agentNow), issuedAt: (received.issuedAt as Date).getTime() });
      } else if (delivery.kind === 'new-key') {
        agent.add(RIG, unwrapKey(delivery.wrapped, agent, RIG, agentNow)); // step 2, then confirm
        confirmedAt = delivery.at + late();
      } else {
        agent.retire(RIG, delivery.keyId);
      }
    }
  }
  return { results, agent, k1 };
}

describe('rotation-under-load', () => {
  it.each([
    [1, 0], [2, 4_000], [3, -4_000], [4, 25_000], [5, -25_000],
  ])('rotation-under-load: seed %i, agent clock off by %i ms: every command is accepted, k1 then k2', (seed, skew) => {
    const { results } = rotateUnderLoad(seed, skew);
    const failed = results.filter((r) => !r.verdict.ok);
    expect(failed.map((r) => !r.verdict.ok && `${r.verdict.reason}: ${r.verdict.detail}`)).toEqual([]);
    expect(results.length).toBeGreaterThan(1_450);
    const keys = results.map((r) => (r.verdict.ok ? r.verdict.keyId : ''));
    expect(keys.filter((k) => k === 'k1').length).toBeGreaterThan(100);
    expect(keys.filter((k) => k === 'k2').length).toBeGreaterThan(500);
    expect(keys.lastIndexOf('k1')).toBeLessThan(keys.length - 500); // k1 stops early and never comes back
  });

  it('rotation-under-load: after the rotation a command signed with k1 (a stolen key) is retired_key', () => {
    const { agent, k1 } = rotateUnderLoad(6, 0);
    const thief = new KeyRing();
    thief.add(RIG, k1);
    const now = T0 + 150_000;
    const forged = new CommandSigner(thief).sign(draft({ commandId: 'stolen' }), now);
    const verifier = new EnvelopeVerifier({ keys: agent, nonces: new MemoryNonceStore() });
    expect(verifier.verify(forged, RIG, now)).toMatchObject({ ok: false, reason: 'retired_key' });
  });
});
