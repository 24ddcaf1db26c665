import { chmodSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateApiKey, type ApiKeyHasher, type ApiKeyToken } from '@rigwarden/security';
import { ensurePrivateDir, ensurePrivateFile, type Clock, type Logger } from '@rigwarden/shared';
import { FleetError } from '../fleet/fleet-error';
import type { ApiKeyStore } from '../persistence/ports/api-key.port';
import { NEVER_EXPIRES, widestScope, type ApiKeyInfoRow } from './api-key.repository';

const DAY_MS = 86_400_000;
const NAME = /^[\x21-\x7e]{1,128}$/;

export interface CreateApiKeyCommand {
  name: string;
  scopes: readonly string[];
  /** 0 or undefined: never expires. */
  ttlDays?: number;
}

/** Creating, listing and revoking API keys: the use cases behind AdminService and the bootstrap admin key. */
export class ApiKeyService {
  private readonly revokedListeners = new Set<(keyId: string) => void>();

  constructor(
    private readonly keys: ApiKeyStore,
    private readonly hasher: ApiKeyHasher,
    private readonly clock: Clock,
  ) {}

  /** A new key; the token is returned once and never stored (only its hash is). */
  async create(command: CreateApiKeyCommand): Promise<{ token: ApiKeyToken; info: ApiKeyInfoRow }> {
    if (typeof command.name !== 'string' || !NAME.test(command.name)) {
      throw new FleetError('invalid_argument', 'name: 1-128 printable ASCII characters without spaces (e.g. "ci-deploy")', 'name');
    }
    const scope = widestScope(command.scopes);
    if (!scope) throw new FleetError('invalid_argument', `scopes: one or more of read, operate, admin; got ${JSON.stringify(command.scopes)}`, 'scopes');
    const ttlDays = command.ttlDays ?? 0;
    if (!Number.isInteger(ttlDays) || ttlDays < 0 || ttlDays > 36_500) {
      throw new FleetError('invalid_argument', `ttl_days: 0 (never expires) to 36500, got ${ttlDays}`, 'ttl_days');
    }
    const now = this.clock.now();
    const { token, record } = generateApiKey(this.hasher, {
      principal: command.name, scope, now, expires: ttlDays === 0 ? NEVER_EXPIRES : now + ttlDays * DAY_MS,
    });
    await this.keys.insert(record, command.name);
    const info = await this.keys.info(record.id);
    return { token, info: info! };
  }

  list(): Promise<ApiKeyInfoRow[]> {
    return this.keys.list();
  }

  async revoke(keyId: string): Promise<ApiKeyInfoRow> {
    if (!/^[0-9a-f]{16}$/.test(keyId)) throw new FleetError('invalid_argument', `key_id: 16 hex characters (see rigctl keys list), got ${JSON.stringify(keyId)}`, 'key_id');
    if (!(await this.keys.revoke(keyId, this.clock.now()))) throw new FleetError('not_found', `no API key ${keyId}; rigctl keys list shows the keys`, 'key_id');
    for (const listener of this.revokedListeners) listener(keyId);
    return (await this.keys.info(keyId))!;
  }

  /** Calls `listener` after each revocation (the dashboard closes that key's streams and voids its tickets). */
  onRevoked(listener: (keyId: string) => void): () => void {
    this.revokedListeners.add(listener);
    return () => this.revokedListeners.delete(listener);
  }

  /** Does this key work at `now` (exists, not revoked, within its validity)? */
  async isActive(keyId: string): Promise<boolean> {
    const record = await this.keys.findById(keyId);
    const now = this.clock.now();
    return record !== undefined && record.revoked === undefined && record.notBefore <= now && now < record.expires;
  }

  /**
   * When no admin key works (none is active, or the pepper was just made so no stored key verifies), creates one and writes its token to `tokenFile` (mode 0600, replaced atomically).
   * Logs the file path, never the token. Returns the key id, or undefined when an admin key already exists.
   */
  async bootstrapAdmin(tokenFile: string, logger: Logger, options: { secretsReplaced?: boolean } = {}): Promise<string | undefined> {
    if (ensurePrivateFile(tokenFile)) logger.warn('the admin token file was readable by others: narrowed it to 0600', { file: tokenFile });
    if (options.secretsReplaced && (await this.keys.count()) > 0) {
      // The stored hashes were made under the old pepper: none of them can match a token any more.
      logger.error('the API key pepper is new but the database holds API keys: every existing key stopped working; making a new admin key. Restore the previous secrets file from a backup to bring the old keys back', { file: tokenFile });
    } else if (await this.keys.hasActiveAdmin(this.clock.now())) {
      return undefined;
    }
    const { token, info } = await this.create({ name: 'bootstrap-admin', scopes: ['admin'] });
    ensurePrivateDir(dirname(tokenFile));
    const tmp = `${tokenFile}.tmp`;
    writeFileSync(tmp, token.reveal() + '\n', { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, tokenFile);
    logger.warn('no admin API key existed: created one; its token is in the file (mode 0600). Use it with rigctl, create personal keys, then revoke it',
      { keyId: info.id, file: tokenFile, rigctl: `RIGWARDEN_API_KEY_FILE=${tokenFile} rigctl keys list` });
    return info.id;
  }
}
