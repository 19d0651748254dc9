import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/types.js';
import { hashToken, type TokenIdentity } from './tokens.js';

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
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO web_sessions (tenant_id, token_id, secret_hash, csrf, expires_at)
     VALUES ($1, $2, $3, $4, extract(epoch FROM now()) + $5::float8) RETURNING id`,
    [identity.tenant_id, identity.id, hashToken(secret), csrf, ttlSeconds],
  );
  return { secret, session: { ...identity, session_id: rows[0]?.id ?? '', csrf } };
}

/** The live session behind a cookie secret: not expired, not revoked, its token not revoked. */
export async function resolveSession(db: Queryable, secret: string): Promise<SessionIdentity | undefined> {
  if (!/^lvs_[A-Za-z0-9_-]{20,100}$/.test(secret)) return undefined;
  const { rows } = await db.query<SessionIdentity>(
    `SELECT t.id, t.tenant_id, t.name, t.scopes, s.id AS session_id, s.csrf
     FROM web_sessions s JOIN api_tokens t ON t.id = s.token_id
     WHERE s.secret_hash = $1 AND s.revoked_at IS NULL AND t.revoked_at IS NULL
       AND s.expires_at > extract(epoch FROM now())`,
    [hashToken(secret)],
  );
  return rows[0];
}

/** Revokes the session behind a cookie secret (sign-out); false when none was live. */
export async function revokeSession(db: Queryable, secret: string): Promise<boolean> {
  const res = await db.query(
    'UPDATE web_sessions SET revoked_at = extract(epoch FROM now()) WHERE secret_hash = $1 AND revoked_at IS NULL',
    [hashToken(secret)],
  );
  return res.rowCount === 1;
}

/** Revokes every live session of a tenant's token (by token name); returns how many. */
export async function revokeTokenSessions(db: Queryable, tenantId: string, tokenName: string): Promise<number> {
  const res = await db.query(
    `UPDATE web_sessions SET revoked_at = extract(epoch FROM now())
     WHERE revoked_at IS NULL AND token_id IN (SELECT id FROM api_tokens WHERE tenant_id = $1 AND name = $2)`,
    [tenantId, tokenName],
  );
  return res.rowCount;
}
