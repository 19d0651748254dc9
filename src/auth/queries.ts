import type { Queryable } from '../db/types.js';
import type { Role } from '../people/roles.js';
import type { Scope, TokenIdentity } from './tokens.js';

// The auth capability's SQL: API tokens (stored as hashes) and browser sessions.

/** Stores a token's hash; undefined when the tenant already has a token of that name. */
export async function insertToken(
  db: Queryable,
  t: { tenantId: string; name: string; hash: string; scopes: readonly Scope[] },
): Promise<TokenIdentity | undefined> {
  const { rows } = await db.query<TokenIdentity>(
    `INSERT INTO api_tokens (tenant_id, name, token_hash, scopes) VALUES ($1, $2, $3, $4::text[])
     ON CONFLICT (tenant_id, name) DO NOTHING RETURNING id, tenant_id, name, scopes`,
    [t.tenantId, t.name, t.hash, t.scopes],
  );
  return rows[0];
}

/** Revokes a tenant's live token by name (and so its browser sessions); false when there was none. */
export async function revokeToken(db: Queryable, tenantId: string, name: string): Promise<boolean> {
  const res = await db.query(
    'UPDATE api_tokens SET revoked_at = extract(epoch FROM now()) WHERE tenant_id = $1 AND name = $2 AND revoked_at IS NULL',
    [tenantId, name],
  );
  return res.rowCount === 1;
}

/** A token as `levqor token list` shows it (never its hash). */
interface TokenListRow {
  name: string;
  scopes: string[];
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** A tenant's tokens by name. */
export async function listTokens(db: Queryable, tenantId: string): Promise<TokenListRow[]> {
  const { rows } = await db.query<TokenListRow>(
    'SELECT name, scopes, created_at, last_used_at, revoked_at FROM api_tokens WHERE tenant_id = $1 ORDER BY name',
    [tenantId],
  );
  return rows;
}

/** The role of the person who owns a token (its token:<name> identity is linked to them), as a joined column. */
const OWNER_ROLE = `(SELECT p.role FROM person_identities i JOIN people p ON p.id = i.person_id
   WHERE i.tenant_id = t.tenant_id AND i.identity = 'token:' || t.name) AS owner_role`;

/** A token row with the role of the person who owns it (null: nobody owns it). */
export type OwnedToken = TokenIdentity & { owner_role: Role | null };

/** The live token with this hash, stamped as used now; undefined for an unknown or revoked one. */
export async function useToken(db: Queryable, hash: string): Promise<OwnedToken | undefined> {
  const { rows } = await db.query<OwnedToken>(
    `WITH t AS (UPDATE api_tokens SET last_used_at = extract(epoch FROM now())
       WHERE token_hash = $1 AND revoked_at IS NULL RETURNING id, tenant_id, name, scopes)
     SELECT t.id, t.tenant_id, t.name, t.scopes, ${OWNER_ROLE} FROM t`,
    [hash],
  );
  return rows[0];
}

/** Stores a session of a token or of a person (its secret as a hash) for `ttlSeconds`; returns its id. */
export async function insertSession(
  db: Queryable,
  s: { tenantId: string; owner: { tokenId: string } | { personId: string }; secretHash: string; csrf: string; ttlSeconds: number },
): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO web_sessions (tenant_id, token_id, person_id, secret_hash, csrf, expires_at)
     VALUES ($1, $2, $3, $4, $5, extract(epoch FROM now()) + $6::float8) RETURNING id`,
    [
      s.tenantId,
      'tokenId' in s.owner ? s.owner.tokenId : null,
      'personId' in s.owner ? s.owner.personId : null,
      s.secretHash,
      s.csrf,
      s.ttlSeconds,
    ],
  );
  return rows[0]?.id ?? '';
}

/** A live session as stored: its token's scopes, or its person's current role and OIDC identity. */
export interface SessionRow {
  id: string;
  tenant_id: string;
  name: string;
  session_id: string;
  csrf: string;
  scopes: Scope[] | null;
  role: string | null;
  display_name: string | null;
  identity: string | null;
  /** A token session: the role of the person who owns the token (null: nobody owns it). */
  owner_role: Role | null;
}

/**
 * The session with this secret hash: not expired, not revoked, and its owner still there: the
 * token not revoked, or the person not removed and still linked to an OIDC subject (their role
 * is read here, at every request, so a changed role applies at once).
 */
export async function findLiveSession(db: Queryable, secretHash: string): Promise<SessionRow | undefined> {
  const { rows } = await db.query<SessionRow>(
    `SELECT coalesce(t.id, p.id) AS id, s.tenant_id, coalesce(t.name, p.handle) AS name, s.id AS session_id, s.csrf,
            t.scopes, p.role, p.display_name, i.identity, ${OWNER_ROLE}
     FROM web_sessions s
     LEFT JOIN api_tokens t ON t.id = s.token_id AND t.revoked_at IS NULL
     LEFT JOIN people p ON p.id = s.person_id AND p.tenant_id = s.tenant_id
     LEFT JOIN LATERAL (
       SELECT identity FROM person_identities
       WHERE person_id = p.id AND identity LIKE 'oidc:%' ORDER BY linked_at, identity LIMIT 1
     ) i ON true
     WHERE s.secret_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > extract(epoch FROM now())
       AND (t.id IS NOT NULL OR i.identity IS NOT NULL)`,
    [secretHash],
  );
  return rows[0];
}

/** Revokes the live session with this secret hash; false when there was none. */
export async function revokeSessionByHash(db: Queryable, secretHash: string): Promise<boolean> {
  const res = await db.query(
    'UPDATE web_sessions SET revoked_at = extract(epoch FROM now()) WHERE secret_hash = $1 AND revoked_at IS NULL',
    [secretHash],
  );
  return res.rowCount === 1;
}
