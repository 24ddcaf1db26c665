import { randomBytes } from 'node:crypto';
import { INSPECT, REDACTED } from './redaction';
import { SecurityError } from './security-error';

/** The smallest secret accepted for HMAC keys and peppers: 256 bits. */
export const MIN_SECRET_BYTES = 32;

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * Secret key material (a rig's HMAC secret, the server pepper, an API key hash). The bytes live in an ES private
 * field, so JSON.stringify, util.inspect (even with showHidden or customInspect off), template strings and
 * Object.keys never see them; `expose()` is the one explicit, greppable way out.
 */
export class SecretBytes {
  readonly #bytes: Buffer;

  private constructor(bytes: Uint8Array) {
    this.#bytes = Buffer.from(bytes); // a private copy: the caller's buffer may be reused or zeroed
  }

  /** Fresh random secret (256 bits unless told otherwise). */
  static generate(byteLength = MIN_SECRET_BYTES): SecretBytes {
    if (!Number.isInteger(byteLength) || byteLength < MIN_SECRET_BYTES) {
      throw new SecurityError('invalid_secret', `SecretBytes.generate: a secret needs at least ${MIN_SECRET_BYTES} bytes, asked for ${byteLength}`);
    }
    return new SecretBytes(randomBytes(byteLength));
  }

  /** Wraps existing key material (copied), refusing anything shorter than `minBytes`. */
  static from(bytes: Uint8Array, minBytes = MIN_SECRET_BYTES): SecretBytes {
    if (bytes.length < minBytes) {
      throw new SecurityError('invalid_secret', `SecretBytes.from: a secret needs at least ${minBytes} bytes, got ${bytes.length}`);
    }
    return new SecretBytes(bytes);
  }

  /** Reads base64url text (as written by `exposeBase64url`), e.g. from a config file or a database column. */
  static fromBase64url(text: string, minBytes = MIN_SECRET_BYTES): SecretBytes {
    const bytes = Buffer.from(text, 'base64url');
    if (!BASE64URL.test(text) || bytes.toString('base64url') !== text) {
      throw new SecurityError('invalid_secret', 'SecretBytes.fromBase64url: not canonical base64url text');
    }
    return SecretBytes.from(bytes, minBytes);
  }

  get length(): number {
    return this.#bytes.length;
  }

  /** The raw bytes, for node:crypto. Do not keep, log or copy them. */
  expose(): Buffer {
    return this.#bytes;
  }

  /** The bytes as base64url text, to persist or to show once. */
  exposeBase64url(): string {
    return this.#bytes.toString('base64url');
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [INSPECT](): string {
    return `SecretBytes(${REDACTED})`;
  }
}
