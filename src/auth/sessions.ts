import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/types.js';
import { findLiveSession, insertSession, revokeSessionByHash } from './queries.js';
import { hashToken, withOwnerRole, type TokenIdentity } from './tokens.js';

/** A signed-in browser: the token's identity plus the session's own CSRF token. */
export interface SessionIdentity extends TokenIdentity {
  session_id: string;
  csrf: string;
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
    tokenId: identity.id,
    secretHash: hashToken(secret),
    csrf,
    ttlSeconds,
  });
  return { secret, session: { ...identity, session_id: sessionId, csrf } };
}

/** The live session behind a cookie secret: not expired, not revoked, its token not revoked. */
export async function resolveSession(db: Queryable, secret: string): Promise<SessionIdentity | undefined> {
  if (!/^lvs_[A-Za-z0-9_-]{20,100}$/.test(secret)) return undefined;
  return withOwnerRole(await findLiveSession(db, hashToken(secret)));
}

/** Revokes the session behind a cookie secret (sign-out); false when none was live. */
export async function revokeSession(db: Queryable, secret: string): Promise<boolean> {
  return revokeSessionByHash(db, hashToken(secret));
}
