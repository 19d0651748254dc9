import { SCOPES, type Scope } from '../auth/scopes.js';

/** A person's role in a tenant: viewer reads, approver also decides, admin also changes things. */
export const ROLES = ['viewer', 'approver', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const VIEWER_SCOPES: readonly Scope[] = ['approvals:read', 'workflows:read', 'runs:read', 'audit:read', 'analytics:read'];

/** What each role may do, as token scopes: a person's session or token never holds more. */
export const ROLE_SCOPES: Readonly<Record<Role, readonly Scope[]>> = {
  viewer: VIEWER_SCOPES,
  approver: [...VIEWER_SCOPES, 'approvals:decide'],
  admin: SCOPES,
};

/** Whether a text names a role. */
export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** The scopes a token keeps under its owner's role (all of them when nobody owns it). */
export function clampScopes(scopes: readonly Scope[], role: Role | undefined): Scope[] {
  if (!role) return [...scopes];
  const allowed = ROLE_SCOPES[role];
  return scopes.filter((s) => allowed.includes(s));
}
