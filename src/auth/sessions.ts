import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/types.js';
import { clampScopes, isRole, ROLE_SCOPES, type Role } from '../people/roles.js';
import { findLiveSession, insertSession, revokeSessionByHash, type SessionRow } from './queries.js';
import { hashToken, type TokenIdentity } from './tokens.js';

/** The person behind a session opened by OpenID Connect sign-in. */
export interface SessionPerson {
  handle: string;
  display_name: string;
  role: Role;
}

/**
 * A signed-in browser: the token's identity (or the person's, with their role's scopes and
 * their `oidc:<sub>` identity as the actor) plus the session's own CSRF token.
 */
export interface SessionIdentity extends TokenIdentity {
  session_id: string;
  csrf: string;
  person?: SessionPerson;
}

/** A new session secret, as the cookie carries it. */
function generateSecret(): string {
  return `lvs_${randomBytes(32).toString('base64url')}`;
}

/** Opens a session for an authenticated token; returns the secret (for the cookie) once. */
export async function openSession(
  db: Queryable,
  identity: TokenIdentity,
  ttlSeconds: number,
): Promise<{ secret: string; session: SessionIdentity }> {
  const secret = generateSecret();
  const csrf = randomBytes(24).toString('base64url');
  const sessionId = await insertSession(db, {
    tenantId: identity.tenant_id,
    owner: { tokenId: identity.id },
    secretHash: hashToken(secret),
    csrf,
    ttlSeconds,
  });
  return { secret, session: { ...identity, session_id: sessionId, csrf } };
}

/** Opens a session for a person (OpenID Connect sign-in); returns the secret (for the cookie) once. */
export async function openPersonSession(db: Queryable, person: { id: string; tenant_id: string }, ttlSeconds: number): Promise<string> {
  const secret = generateSecret();
  await insertSession(db, {
    tenantId: person.tenant_id,
    owner: { personId: person.id },
    secretHash: hashToken(secret),
    csrf: randomBytes(24).toString('base64url'),
    ttlSeconds,
  });
  return secret;
}

/** A stored session as the identity requests act with. */
function sessionIdentity(row: SessionRow): SessionIdentity | undefined {
  const base = { id: row.id, tenant_id: row.tenant_id, name: row.name, session_id: row.session_id, csrf: row.csrf };
  // A token's session keeps no more than the role of the person who owns the token.
  if (row.scopes) return { ...base, scopes: clampScopes(row.scopes, row.owner_role ?? undefined) };
  if (!row.role || !isRole(row.role) || !row.identity) return undefined;
  return {
    ...base,
    scopes: [...ROLE_SCOPES[row.role]],
    actor: row.identity,
    person: { handle: row.name, display_name: row.display_name ?? row.name, role: row.role },
  };
}

/**
 * The live session behind a cookie secret: not expired, not revoked, its token not revoked or
 * its person still in the directory (with the scopes of the role they have now).
 */
export async function resolveSession(db: Queryable, secret: string): Promise<SessionIdentity | undefined> {
  if (!/^lvs_[A-Za-z0-9_-]{20,100}$/.test(secret)) return undefined;
  const row = await findLiveSession(db, hashToken(secret));
  return row && sessionIdentity(row);
}

/** Revokes the session behind a cookie secret (sign-out); false when none was live. */
export async function revokeSession(db: Queryable, secret: string): Promise<boolean> {
  return revokeSessionByHash(db, hashToken(secret));
}
