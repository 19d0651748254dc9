// The scope list on its own (no imports): roles (src/people/roles.ts) and tokens both build on it.

/** What a token may do. */
export const SCOPES = [
  'approvals:read',
  'approvals:decide',
  'actions:write',
  'workflows:read',
  'workflows:write',
  'runs:read',
  'audit:read',
  'analytics:read',
  'events:write',
  'secrets:read',
  'secrets:write',
  'people:write',
] as const;
export type Scope = (typeof SCOPES)[number];
