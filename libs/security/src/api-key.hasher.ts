import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiScope } from './api-scope';
import { isApiScope } from './api-scope';
import { INSPECT, REDACTED } from './redaction';
import { SecretBytes } from './secret-bytes';
import { SecurityError } from './security-error';

/** Every API key starts with this, so secret scanners and humans recognise one. */
export const API_KEY_PREFIX = 'rwk_';

const TOKEN = /^rwk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const HASH_DOMAIN = 'rigwarden/api-key/v1';

/** A stored API key: everything needed to check one, nothing that lets anyone present one. Times are epoch ms. */
export interface ApiKeyRecord {
  /** 16 hex characters; public (it is in the token and in audit rows). */
  readonly id: string;
  /** Who the key belongs to: an operator, a service. Several keys per principal allow rotation with overlap. */
  readonly principal: string;
  readonly scope: ApiScope;
  /** HMAC-SHA256(pepper, domain ‖ id ‖ secret): redacted in logs, persisted with `hash.exposeBase64url()`. */
  readonly hash: SecretBytes;
  readonly created: number;
  readonly notBefore: number;
  readonly expires: number;
  /** When the key was revoked (for the audit trail); any value means revoked, from the next call on. */
  readonly revoked?: number;
  readonly lastUsed?: number;
}

/** The full token, shown once to whoever created the key. `reveal()` is the only way to read it. */
export class ApiKeyToken {
  readonly id: string;
  readonly #text: string;

  constructor(id: string, text: string) {
    this.id = id;
    this.#text = text;
  }

  reveal(): string {
    return this.#text;
  }

  toJSON(): unknown {
    return { id: this.id, token: REDACTED };
  }

  toString(): string {
    return `${API_KEY_PREFIX}${this.id}_${REDACTED}`;
  }

  [INSPECT](): string {
    return `ApiKeyToken { id: ${JSON.stringify(this.id)}, token: ${REDACTED} }`;
  }
}

/** Splits `rwk_<id>_<secret>`; undefined when the text is not shaped like a key (so it is never echoed). */
export function parseApiKeyToken(text: unknown): { id: string; secret: string } | undefined {
  if (typeof text !== 'string') return undefined;
  const match = TOKEN.exec(text);
  return match ? { id: match[1] as string, secret: match[2] as string } : undefined;
}

/**
 * Hashes API key secrets with HMAC-SHA256 under a server-side pepper. Why not scrypt: the secrets are 256 random bits,
 * so there is nothing for a slow hash to stretch (a brute force is 2^256 work either way), and a 50 ms KDF on every
 * RPC would be a CPU bill and a denial-of-service lever. The pepper lives outside the database (config or env), so a
 * stolen database alone cannot even test a guess. Comparison is constant time.
 */
export class ApiKeyHasher {
  readonly #pepper: SecretBytes;
  readonly #decoy: SecretBytes;

  constructor(pepper: SecretBytes) {
    if (!(pepper instanceof SecretBytes)) throw new SecurityError('invalid_secret', 'ApiKeyHasher: the pepper must be SecretBytes of at least 32 bytes');
    this.#pepper = pepper;
    this.#decoy = SecretBytes.generate();
  }

  hash(id: string, secret: string): SecretBytes {
    const mac = createHmac('sha256', this.#pepper.expose());
    mac.update(`${HASH_DOMAIN}\0${id}\0${secret}`, 'utf8');
    return SecretBytes.from(mac.digest());
  }

  /** Constant-time: does `secret` belong to `record`? With no record, burns the same time against a decoy. */
  matches(record: Pick<ApiKeyRecord, 'id' | 'hash'> | undefined, id: string, secret: string): boolean {
    const presented = this.hash(id, secret).expose();
    const stored = record?.hash.expose() ?? this.#decoy.expose();
    const same = stored.length === presented.length && timingSafeEqual(stored, presented);
    return record !== undefined && same;
  }

  toJSON(): unknown {
    return { hasher: 'hmac-sha256', pepper: REDACTED };
  }

  [INSPECT](): string {
    return `ApiKeyHasher { pepper: ${REDACTED} }`;
  }
}

export interface NewApiKey {
  readonly principal: string;
  readonly scope: ApiScope;
  readonly now: number;
  /** When the key stops working. */
  readonly expires: number;
  /** Default: now. */
  readonly notBefore?: number;
}

/** A new API key: the token to show once, and the record to store. */
export function generateApiKey(hasher: ApiKeyHasher, spec: NewApiKey): { token: ApiKeyToken; record: ApiKeyRecord } {
  if (!isApiScope(spec.scope)) throw new SecurityError('invalid_argument', `generateApiKey: unknown scope ${JSON.stringify(spec.scope)}`);
  if (typeof spec.principal !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(spec.principal)) {
    throw new SecurityError('invalid_argument', 'generateApiKey: principal must be 1-128 printable ASCII characters');
  }
  const notBefore = spec.notBefore ?? spec.now;
  if (!Number.isSafeInteger(spec.now) || !Number.isSafeInteger(notBefore) || !Number.isSafeInteger(spec.expires) || spec.expires <= notBefore) {
    throw new SecurityError('invalid_argument', `generateApiKey: expires must be epoch ms after notBefore`, { principal: spec.principal });
  }
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const record: ApiKeyRecord = {
    id, principal: spec.principal, scope: spec.scope, hash: hasher.hash(id, secret),
    created: spec.now, notBefore, expires: spec.expires,
  };
  return { token: new ApiKeyToken(id, `${API_KEY_PREFIX}${id}_${secret}`), record };
}
