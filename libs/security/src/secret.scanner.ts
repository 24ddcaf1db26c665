import { ApiKeyToken } from './api-key.hasher';
import { SecretBytes } from './secret-bytes';

/** Any Rigwarden API key, wherever it appears: a log line, a database row, a crash dump. */
export const API_KEY_PATTERN = /rwk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}/g;

type Secret = SecretBytes | ApiKeyToken | string;

/**
 * The texts a secret could leak as: the raw string (or raw bytes), hex (both cases, and spaced as util.inspect prints a Buffer),
 * the byte list of a JSON-serialised Buffer, and base64 / base64url at all three alignments (the middle of the
 * encoding of `secret` embedded at any offset in a larger blob), so a secret inside an encoded record is found too.
 */
export function secretForms(secret: Secret): string[] {
  const bytes = secret instanceof SecretBytes ? secret.expose() : Buffer.from(secret instanceof ApiKeyToken ? secret.reveal() : secret, 'utf8');
  const forms = new Set<string>();
  forms.add(secret instanceof SecretBytes ? bytes.toString('latin1') : bytes.toString('utf8')); // haystack Buffers are read as latin1
  forms.add(bytes.toString('hex'));
  forms.add(bytes.toString('hex').toUpperCase());
  const head = [...bytes.subarray(0, 16)];
  forms.add(head.map((b) => b.toString(16).padStart(2, '0')).join(' '));
  forms.add(head.join(','));
  for (let pad = 0; pad < 3; pad++) {
    const shifted = Buffer.concat([Buffer.alloc(pad), bytes]);
    for (const encoding of ['base64', 'base64url'] as const) {
      const text = shifted.toString(encoding).replace(/=+$/, '');
      const inner = text.slice(pad === 0 ? 0 : 4, text.length - 4);
      if (inner.length >= 16) forms.add(inner);
    }
  }
  return [...forms];
}

/**
 * Which of the named secrets appear in `haystack`, plus `api-key` for any API key at all. For the tests that grep
 * every log and database row (issue 7): `expect(findSecretLeaks(allLogs, { rigSecret, pepper, token })).toEqual([])`.
 */
export function findSecretLeaks(haystack: string | Buffer, secrets: Record<string, Secret>): string[] {
  const text = typeof haystack === 'string' ? haystack : haystack.toString('latin1');
  const leaks = Object.entries(secrets)
    .filter(([, secret]) => secretForms(secret).some((form) => text.includes(form)))
    .map(([name]) => name);
  if (new RegExp(API_KEY_PATTERN.source).test(text)) leaks.push('api-key');
  return leaks;
}
