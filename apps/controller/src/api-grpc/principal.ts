import type { Metadata } from '@grpc/grpc-js';

/**
 * Metadata keys the authentication interceptor sets on an accepted call (after deleting any value the client sent),
 * so handlers can record who asked: `requested_by`, audit rows.
 */
export const PRINCIPAL_METADATA = 'x-rigwarden-principal';
export const KEY_ID_METADATA = 'x-rigwarden-key-id';

export interface CallPrincipal {
  /** "apikey:<id>" or "anonymous" when the server runs without authentication (tests of one component only). */
  principal: string;
  keyId: string;
}

export function principalOf(call: { metadata: Metadata }): CallPrincipal {
  const first = (key: string): string => {
    const value = call.metadata.get(key)[0];
    return typeof value === 'string' ? value : '';
  };
  return { principal: first(PRINCIPAL_METADATA) || 'anonymous', keyId: first(KEY_ID_METADATA) };
}
