/** API key scopes, each including the ones before it: read < operate (send commands) < admin (keys, fleet spec). */
export const API_SCOPES = ['read', 'operate', 'admin'] as const;

export type ApiScope = (typeof API_SCOPES)[number];

export function isApiScope(value: unknown): value is ApiScope {
  return typeof value === 'string' && (API_SCOPES as readonly string[]).includes(value);
}

/** True when a key granted `granted` may call something that requires `required`. */
export function allows(granted: ApiScope, required: ApiScope): boolean {
  return API_SCOPES.indexOf(granted) >= API_SCOPES.indexOf(required) && isApiScope(granted) && isApiScope(required);
}
