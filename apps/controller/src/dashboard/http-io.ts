import type { IncomingMessage, ServerResponse } from 'node:http';

/** An error the dashboard API answers with its status and a JSON body that says what to do. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(readonly status: number, readonly code: string, message: string, readonly field?: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

export const MAX_BODY_BYTES = 64 * 1024;

/** A path segment decoded, or 400 when its percent-encoding is broken (`%E0%A4%A`); call it after authentication. */
export function decodePathSegment(raw: string, field: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, 'bad_request', `the ${field} in the path is not valid percent-encoded UTF-8`, field);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(text);
}

export function sendError(res: ServerResponse, err: HttpError): void {
  const headers: Record<string, string> = { ...err.headers };
  if (err.status === 401) headers['www-authenticate'] = 'Bearer realm="rigwarden"';
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  sendJson(res, err.status, { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } });
}

/** Reads a JSON object body (at most 64 KiB). */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) throw new HttpError(415, 'unsupported_media_type', 'send the body as JSON with "Content-Type: application/json"');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'body_too_large', `the body must be at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch (err) {
    throw new HttpError(400, 'invalid_json', `the body is not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HttpError(400, 'invalid_json', 'the body must be a JSON object');
  return parsed as Record<string, unknown>;
}

/** A non-negative integer query parameter within [min, max], or the default. */
export function intParam(params: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = params.get(name);
  if (raw === null || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new HttpError(400, 'invalid_argument', `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`, name);
  return n;
}

export function oneOf<T extends string>(params: URLSearchParams, name: string, allowed: readonly T[], fallback: T | undefined): T | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new HttpError(400, 'invalid_argument', `${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`, name);
  return raw as T;
}
