import { hash, randomBytes } from 'node:crypto';
import type { Queryable } from '../db/types.js';
import { AppError } from '../lib/errors.js';
import { clampScopes, type Role } from '../people/roles.js';
import { insertToken, useToken } from './queries.js';
import { SCOPES, type Scope } from './scopes.js';

export { SCOPES, type Scope } from './scopes.js';

export interface TokenIdentity {
  id: string;
  tenant_id: string;
  name: string;
  scopes: Scope[];
  /** Who acts, when it is not the token itself: "github:<actor>" for a GitHub Actions OIDC token. */
  actor?: string;
  /** The action types it may submit (its trust policies'); undefined: any. */
  actionTypes?: readonly string[];
}

/** Who a request is recorded as: "token:<name>", or the person behind a keyless GitHub request. */
export function actorOf(identity: TokenIdentity): string {
  return identity.actor ?? `token:${identity.name}`;
}

/** The channel a request arrived through: "github" for a keyless request from GitHub Actions, else "api". */
export function channelOf(identity: TokenIdentity): string {
  return identity.actionTypes ? 'github' : 'api';
}

/** Whether the identity's trust policies allow an action type ("*" allows any; a token allows all). */
export function allowsActionType(identity: TokenIdentity, actionType: string): boolean {
  const allowed = identity.actionTypes;
  return !allowed || allowed.includes('*') || allowed.includes(actionType);
}

/** Refuses an action type the identity's trust policies do not allow ("*" allows any). */
export function assertActionType(identity: TokenIdentity, actionType: string): void {
  if (allowsActionType(identity, actionType)) return;
  const allowed = identity.actionTypes ?? [];
  throw new AppError(
    'forbidden',
    `action type "${actionType}" is not allowed for ${actorOf(identity)}: its GitHub trust policy allows ${allowed.join(', ')} (levqor github trust add … --action-type ${actionType})`,
  );
}

/** A new bearer token: "lvq_" and 32 random bytes. Only its hash is stored. */
export function generateToken(): string {
  return `lvq_${randomBytes(32).toString('base64url')}`;
}

/** sha256 of a token, as stored. */
export function hashToken(token: string): string {
  // crypto.hash: one call, no Hash object (it runs on every API request, twice: auth and rate limit).
  return hash('sha256', token, 'hex');
}

/** Parses a comma-separated scope list; every unknown scope is named. */
export function parseScopes(text: string | undefined): Scope[] {
  if (!text) return [...SCOPES];
  const scopes = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (unknown.length > 0) throw new AppError('bad_input', `--scopes: unknown ${unknown.join(', ')} (known: ${SCOPES.join(', ')})`);
  return scopes as Scope[];
}

/** Creates a token for a tenant and returns it once, in clear. */
export async function createToken(
  db: Queryable,
  tenantId: string,
  name: string,
  scopes: Scope[],
): Promise<{ token: string; identity: TokenIdentity }> {
  if (!/^[a-zA-Z0-9][\w.-]{0,62}$/.test(name)) throw new AppError('bad_input', `token name "${name}": letters, digits, ".", "_" and "-"`);
  const token = generateToken();
  const identity = await insertToken(db, { tenantId, name, hash: hashToken(token), scopes });
  if (!identity) throw new AppError('conflict', `a token named "${name}" already exists for this tenant (revoke it first)`);
  return { token, identity };
}

/** A token row as an identity: its scopes clamped to its owner's role, so a person's token never exceeds the person. */
export function withOwnerRole<T extends TokenIdentity>(row: (T & { owner_role: Role | null }) | undefined): T | undefined {
  if (!row) return undefined;
  const { owner_role: role, ...identity } = row;
  return { ...identity, scopes: clampScopes(identity.scopes, role ?? undefined) } as unknown as T;
}

/**
 * Resolves bearer tokens to identities. Results are cached for `cacheMs` (default 5 s) so
 * a busy API does not look every request up; a revocation therefore takes effect within it.
 * Concurrent misses for one token share a single look-up (which also stamps last_used_at).
 */
export function createAuthenticator(db: Queryable, cacheMs = 5_000, now: () => number = Date.now) {
  const cache = new Map<string, { at: number; identity: TokenIdentity | undefined }>();
  const inFlight = new Map<string, Promise<TokenIdentity | undefined>>();
  const lookUp = async (hash: string): Promise<TokenIdentity | undefined> => {
    try {
      const identity = withOwnerRole(await useToken(db, hash));
      if (cache.size > 10_000) cache.clear();
      cache.set(hash, { at: now(), identity });
      return identity;
    } finally {
      inFlight.delete(hash);
    }
  };
  return async (token: string): Promise<TokenIdentity | undefined> => {
    if (!/^lvq_[A-Za-z0-9_-]{20,100}$/.test(token)) return undefined;
    const hash = hashToken(token);
    const hit = cache.get(hash);
    if (hit && now() - hit.at < cacheMs) return hit.identity;
    let pending = inFlight.get(hash);
    if (!pending) {
      pending = lookUp(hash);
      inFlight.set(hash, pending);
    }
    return pending;
  };
}
