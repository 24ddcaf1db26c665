import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  BrokerAcl, agentBrokerRules, controllerBrokerRules, mosquittoPasswordHash, mosquittoPasswordMatches, type BrokerUser,
} from '@rigwarden/security';

/** Who a broker connection is, and what it may do (`acl` undefined: anything, an anonymous client with --mqtt-allow-anonymous). */
export interface BrokerPrincipal {
  readonly kind: 'controller' | 'agent' | 'anonymous';
  /** The username, or "(anonymous)". */
  readonly name: string;
  readonly acl: BrokerAcl | undefined;
}

export type BrokerRefusalReason = 'bad_credentials' | 'anonymous' | 'client_id_taken' | 'will' | 'publish' | 'subscribe';

export type BrokerAuthentication =
  | { ok: true; principal: BrokerPrincipal }
  /** `returnCode`: the CONNACK code, 2 identifier rejected, 4 bad username or password, 5 not authorized. */
  | { ok: false; returnCode: 2 | 4 | 5; reason: BrokerRefusalReason; message: string };

interface AgentEntry { principal: BrokerPrincipal; passwordHash: string; fingerprint: string }

const ANONYMOUS: BrokerPrincipal = { kind: 'anonymous', name: '(anonymous)', acl: undefined };
/** Checked against for an unknown username, so that it costs what a known one does. */
const DUMMY_HASH = mosquittoPasswordHash(randomBytes(16).toString('base64url'));
const digest = (value: Buffer): Buffer => createHash('sha256').update(value).digest();

/**
 * The embedded broker's principals and rules: the controller's own login (made at start, held in memory only), the
 * agents of the users file (password hashes, checked in constant time) and, with --mqtt-allow-anonymous, clients
 * without a username. Rules come from @rigwarden/security's broker ACL model, the same as `rigctl broker-config`'s.
 */
export class BrokerAuthority {
  /** The controller's username on its own broker; no agent of the users file may take it. */
  readonly controllerUsername = 'rigwarden-controller';
  private readonly controllerSecret = randomBytes(32).toString('base64url');
  private readonly controllerDigest = digest(Buffer.from(this.controllerSecret));
  private readonly controller: BrokerPrincipal;
  private agents = new Map<string, AgentEntry>();
  /** Which principal holds each client id (a session): another one may not take it over. */
  private readonly clientOwners = new Map<string, string>();

  constructor(private readonly options: { topicRoot: string; controllerClientId: string; allowAnonymous: boolean }) {
    this.controller = { kind: 'controller', name: this.controllerUsername, acl: new BrokerAcl(controllerBrokerRules(options.topicRoot)) };
  }

  /** The controller's password on its own broker: random per start, never written anywhere. */
  get controllerPassword(): string {
    return this.controllerSecret;
  }

  get allowAnonymous(): boolean {
    return this.options.allowAnonymous;
  }

  get agentCount(): number {
    return this.agents.size;
  }

  /**
   * Replaces the agents (a new users file). Returns the agent ids whose login or rigs changed or that are gone: their
   * connections should be closed, so that they log in again under the new entry. An agent named like the controller
   * is left out and reported in `refused`.
   */
  setAgents(users: readonly BrokerUser[]): { changed: string[]; refused: string[] } {
    const next = new Map<string, AgentEntry>();
    const refused: string[] = [];
    for (const user of users) {
      if (user.agentId === this.controllerUsername) { refused.push(user.agentId); continue; }
      const fingerprint = `${user.passwordHash}\n${user.rigIds.join('\n')}`;
      const kept = this.agents.get(user.agentId);
      next.set(user.agentId, kept?.fingerprint === fingerprint ? kept : {
        principal: { kind: 'agent', name: user.agentId, acl: new BrokerAcl(agentBrokerRules(this.options.topicRoot, user)) },
        passwordHash: user.passwordHash,
        fingerprint,
      });
    }
    const changed = [...this.agents].filter(([id, entry]) => next.get(id) !== entry).map(([id]) => id);
    this.agents = next;
    return { changed, refused };
  }

  /** CONNECT: who is this, may it leave this last will, and may it use this client id? */
  authenticate(clientId: string, username: string | undefined, password: Buffer | undefined, willTopic?: string): BrokerAuthentication {
    const principal = this.principalOf(username, password);
    if (!principal.ok) return principal;
    const acl = principal.principal.acl;
    if (willTopic !== undefined && (willTopic.startsWith('$') || (acl !== undefined && !acl.mayPublish(willTopic)))) {
      return { ok: false, returnCode: 5, reason: 'will', message: `not authorized: a last will on ${willTopic}, which this client may not write` };
    }
    const owner = this.clientOwners.get(clientId);
    const reserved = clientId === this.options.controllerClientId && principal.principal.kind !== 'controller';
    if (reserved || (owner !== undefined && owner !== principal.principal.name)) {
      return { ok: false, returnCode: 2, reason: 'client_id_taken', message: `client id ${JSON.stringify(clientId)} belongs to ${reserved ? 'the controller' : 'another principal'}` };
    }
    this.clientOwners.set(clientId, principal.principal.name);
    return principal;
  }

  /** A session ended for good (clean session disconnected): its client id is free again. */
  releaseClientId(clientId: string, principal: BrokerPrincipal): void {
    if (this.clientOwners.get(clientId) === principal.name) this.clientOwners.delete(clientId);
  }

  private principalOf(username: string | undefined, password: Buffer | undefined): BrokerAuthentication {
    if (username === undefined || username === '') {
      if (this.options.allowAnonymous && password === undefined) return { ok: true, principal: ANONYMOUS };
      return { ok: false, returnCode: 5, reason: 'anonymous', message: 'anonymous clients are not allowed (give a username and password; --mqtt-allow-anonymous is for tests)' };
    }
    const given = password ?? Buffer.alloc(0);
    if (username === this.controllerUsername) {
      return timingSafeEqual(digest(given), this.controllerDigest)
        ? { ok: true, principal: this.controller }
        : { ok: false, returnCode: 4, reason: 'bad_credentials', message: 'bad username or password' };
    }
    const agent = this.agents.get(username);
    // An unknown username costs one hash check too.
    const matches = mosquittoPasswordMatches(`${username}:${agent?.passwordHash ?? DUMMY_HASH}`, username, given.toString('utf8'));
    if (!agent || !matches) return { ok: false, returnCode: 4, reason: 'bad_credentials', message: 'bad username or password' };
    return { ok: true, principal: agent.principal };
  }
}
