import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { SecretBytes } from '@rigwarden/security';
import { ensurePrivateDir, ensurePrivateFile } from '@rigwarden/shared';

/**
 * The controller's own secrets, kept outside the database so a stolen database alone is useless: the API key pepper
 * (API key hashes are HMACs under it) and the audit key (the audit chain's HMAC key). Generated on first start into
 * `<data-dir>/controller-secrets.json` with mode 0600; back it up with the database.
 */
export interface ControllerSecrets {
  apiKeyPepper: SecretBytes;
  auditKey: SecretBytes;
  /** Made by this start: API keys and audit rows written under earlier secrets no longer verify. */
  createdNow: boolean;
}

export class ControllerSecretsError extends Error {
  override readonly name = 'ControllerSecretsError';
}

export function loadOrCreateControllerSecrets(path: string): { secrets: ControllerSecrets; created: boolean } {
  if (existsSync(path)) {
    ensurePrivateFile(path); // an older install (or a copy from a backup) may have left it readable
    let raw: Record<string, unknown>;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ControllerSecretsError(`${path}: not valid JSON (${(err as Error).message}); restore it from a backup, or delete it and every API key with it`);
    }
    const field = (name: string): SecretBytes => {
      const value = raw[name];
      try {
        return SecretBytes.fromBase64url(typeof value === 'string' ? value : '');
      } catch {
        throw new ControllerSecretsError(`${path}: ${name} must be base64url text of at least 32 bytes`);
      }
    };
    return { secrets: { apiKeyPepper: field('apiKeyPepper'), auditKey: field('auditKey'), createdNow: false }, created: false };
  }
  const secrets = { apiKeyPepper: SecretBytes.generate(), auditKey: SecretBytes.generate(), createdNow: true };
  ensurePrivateDir(dirname(path));
  // Written whole under a name of its own, then linked into place only if no file is there: controllers sharing a
  // database and starting together with one --secrets-file agree on the first one written (a rename would let a
  // later one replace it, leaving the first with a pepper no other controller has).
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, JSON.stringify({ apiKeyPepper: secrets.apiKeyPepper.exposeBase64url(), auditKey: secrets.auditKey.exposeBase64url() }, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  try {
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return loadOrCreateControllerSecrets(path); // another process made it first: use that one
  } finally {
    unlinkSync(tmp);
  }
  return { secrets, created: true };
}
