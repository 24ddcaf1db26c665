import { RigKeyFile, checkRigMessageSignature, type KeyRing, type RigMessage, type RigMessageRejectionReason } from '@rigwarden/security';
import { createLogger, type Logger } from '@rigwarden/shared';
import type { ControllerConfig } from '../config/controller-config';
import type { IngestCounters } from './ingest-counters';

/** What ingest does with a result or event. */
export type RigMessageVerdict =
  | { readonly accepted: true; readonly verified: true; readonly keyId: string }
  /** From a rig the controller has no key for: it cannot run commands, so its reports are stored, marked unverified. */
  | { readonly accepted: true; readonly verified: false }
  | { readonly accepted: false; readonly reason: RigMessageRejectionReason; readonly detail: string };

export interface RigMessageVerifierOptions {
  /** The rig keys, read at every check (a rotated key file takes effect at once); undefined: no keys at all. */
  readonly keys: () => KeyRing | undefined;
  readonly logger?: Logger;
  readonly now?: () => number;
  /** Distinct (rig, reason) pairs logged before the verifier stops logging new ones (counters keep counting). */
  readonly maxLogged?: number;
}

const byConfig = new WeakMap<ControllerConfig, RigMessageVerifier>();

/**
 * Decides whether a CommandResult or RigEvent really comes from its rig's agent before ingest stores it or acts on
 * it: a rig with a key (any key, even only retired or expired ones) must sign with one of its keys active now, or the
 * message is refused (counted in `signatureRejected`, logged once per rig and reason, not stored, not acted on). A rig
 * with no key at all is accepted and marked unverified (counted in `unverified`, logged once per rig): without a key
 * it cannot run commands, so a forged report about it changes nothing a forged telemetry snapshot could not.
 */
export class RigMessageVerifier {
  readonly #keys: () => KeyRing | undefined;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #maxLogged: number;
  readonly #logged = new Set<string>();

  constructor(options: RigMessageVerifierOptions) {
    this.#keys = options.keys;
    this.#logger = options.logger ?? createLogger('controller.ingest');
    this.#now = options.now ?? Date.now;
    this.#maxLogged = options.maxLogged ?? 10_000;
  }

  /** One verifier per controller configuration, over its rig key file (the one the command dispatcher signs with). */
  static of(config: ControllerConfig): RigMessageVerifier {
    let verifier = byConfig.get(config);
    if (!verifier) {
      const file = config.keysFile ? new RigKeyFile(config.keysFile) : undefined;
      verifier = new RigMessageVerifier({ keys: () => file?.keyRing() });
      byConfig.set(config, verifier);
    }
    return verifier;
  }

  /** Checks one decoded message whose rig id matches its topic; counts the verdict in `counters`. */
  check(received: RigMessage, counters: Pick<IngestCounters, 'signatureRejected' | 'unverified'>): RigMessageVerdict {
    const now = this.#now();
    const rigId = received.message.rigId;
    const ring = this.#keys();
    if (!ring || ring.list(rigId, now).length === 0) {
      counters.unverified++;
      this.#once(rigId, 'unverified', () => this.#logger.warn('accepting unsigned results and events from a rig without a key (marked unverified)', { rig: rigId }));
      return { accepted: true, verified: false };
    }
    const verdict = checkRigMessageSignature(received, ring, now);
    if (verdict.ok) return { accepted: true, verified: true, keyId: verdict.keyId };
    counters.signatureRejected++;
    this.#once(rigId, verdict.reason, () => this.#logger.warn(`refused a ${received.type} that is not signed by its rig's key (further ones for this rig and reason are counted, not logged)`, {
      rig: rigId, reason: verdict.reason, detail: verdict.detail,
    }));
    return { accepted: false, reason: verdict.reason, detail: verdict.detail };
  }

  #once(rigId: string, reason: string, log: () => void): void {
    const key = `${rigId}\0${reason}`;
    if (this.#logged.has(key) || this.#logged.size >= this.#maxLogged) return;
    this.#logged.add(key);
    log();
  }
}
