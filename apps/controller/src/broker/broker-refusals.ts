import type { Logger } from '@rigwarden/shared';
import type { BrokerRefusalReason } from './broker-authority';

/** Distinct (who, what) pairs remembered for logging; past it refusals are still counted, no longer logged. */
const MAX_LOGGED = 10_000;

export const BROKER_REFUSAL_REASONS: readonly BrokerRefusalReason[] = ['bad_credentials', 'anonymous', 'client_id_taken', 'will', 'publish', 'subscribe'];

export interface BrokerRefusal {
  reason: BrokerRefusalReason;
  /** The username (or "(anonymous)") and client id. */
  principal: string;
  clientId: string;
  /** The topic or filter refused, or the CONNECT's problem. */
  what: string;
  remoteAddress?: string | undefined;
}

/**
 * The embedded broker's refusals: every one counted by reason (/metrics: rigwarden_broker_refusals_total), each
 * distinct client and topic logged once with who and what, not once per message.
 */
export class BrokerRefusals {
  private readonly counts = new Map<BrokerRefusalReason, number>(BROKER_REFUSAL_REASONS.map((r) => [r, 0]));
  private readonly logged = new Set<string>();

  constructor(private readonly logger: Logger) {}

  record(refusal: BrokerRefusal): void {
    this.counts.set(refusal.reason, (this.counts.get(refusal.reason) ?? 0) + 1);
    const key = `${refusal.reason}\n${refusal.principal}\n${refusal.clientId}\n${refusal.what}`;
    if (this.logged.has(key) || this.logged.size > MAX_LOGGED) return;
    this.logged.add(key);
    if (this.logged.size > MAX_LOGGED) {
      this.logger.warn(`more than ${MAX_LOGGED} distinct broker refusals: counting them (rigwarden_broker_refusals_total), no longer logging new ones`);
      return;
    }
    this.logger.warn(`broker refused ${DESCRIBE[refusal.reason]} (logged once per client and topic)`, {
      reason: refusal.reason, principal: refusal.principal, clientId: refusal.clientId, topic: refusal.what,
      ...(refusal.remoteAddress ? { remote: refusal.remoteAddress } : {}),
    });
  }

  /** Refusals so far, by reason (every reason present). */
  snapshot(): Array<[BrokerRefusalReason, number]> {
    return [...this.counts];
  }
}

const DESCRIBE: Record<BrokerRefusalReason, string> = {
  bad_credentials: 'a login (bad username or password)',
  anonymous: 'an anonymous client',
  client_id_taken: 'a client id another principal holds',
  will: 'a last will on a topic the client may not write',
  publish: 'a publish on a topic the client may not write',
  subscribe: 'a subscription to a filter the client may not read',
};
