import { createRemoteJWKSet, decodeJwt, errors, jwtVerify, type JWTPayload } from 'jose';
import type { TokenIdentity } from '../auth/tokens.js';
import type { Queryable } from '../db/types.js';
import { AppError, errorMessage } from '../lib/errors.js';
import { refMatches, trustForRepository, type TrustPolicy } from './trust.js';

/** Where GitHub Actions' OIDC tokens come from and whom they must be addressed to. */
export interface GitHubOidcSettings {
  /** The token issuer (GitHub.com: https://token.actions.githubusercontent.com). */
  issuer: string;
  /** The `aud` claim Levqor accepts: what the action passes to core.getIDToken(audience). */
  audience: string;
}

/** The claims of a GitHub Actions OIDC token that Levqor reads. */
interface ActionsClaims extends JWTPayload {
  repository?: unknown;
  ref?: unknown;
  environment?: unknown;
  actor?: unknown;
}

/** What a keyless request may do: submit the action types its trust policies allow and read their state. */
const OIDC_SCOPES = ['actions:write', 'approvals:read'] as const;

/** A JWT (three base64url parts), as opposed to a Levqor API token. */
export function looksLikeJwt(token: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);
}

function refused(reason: string): AppError {
  return new AppError('unauthorized', `GitHub OIDC token refused: ${reason}`);
}

function claimText(claims: ActionsClaims, name: 'repository' | 'ref' | 'actor' | 'environment'): string | undefined {
  const value = claims[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Turns jose's verification failures into a sentence naming the claim (or the part of the token) that failed. */
function explain(err: unknown, settings: GitHubOidcSettings): AppError {
  if (err instanceof errors.JWTExpired) return refused(`exp claim: the token expired (${err.reason}); request a fresh one`);
  if (err instanceof errors.JWTClaimValidationFailed) {
    const payload = err.payload;
    if (err.claim === 'aud')
      return refused(
        `aud claim ${JSON.stringify(payload.aud ?? null)} is not "${settings.audience}" (the action's api-audience must match LEVQOR_GITHUB_OIDC_AUDIENCE)`,
      );
    if (err.claim === 'iss')
      return refused(`iss claim ${JSON.stringify(payload.iss ?? null)} is not "${settings.issuer}" (LEVQOR_GITHUB_OIDC_ISSUER)`);
    return refused(`${err.claim} claim: ${err.message}`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed)
    return refused(`signature: it does not verify against the keys ${settings.issuer} publishes`);
  if (err instanceof errors.JWKSNoMatchingKey) return refused(`kid header: ${settings.issuer} publishes no key that signed this token`);
  if (err instanceof errors.JOSEAlgNotAllowed) return refused('alg header: GitHub signs with RS256; other algorithms are not accepted');
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid)
    return new AppError('upstream', `could not read the signing keys of ${settings.issuer}: ${errorMessage(err)}`);
  if (err instanceof errors.JOSEError) return refused(`not a valid token (${errorMessage(err)})`);
  return new AppError('upstream', `could not verify the GitHub OIDC token: ${errorMessage(err)}`);
}

/** The policies of one tenant that trust these claims; every refusal names the claim that no policy matched. */
function matchPolicies(policies: TrustPolicy[], claims: ActionsClaims, repository: string): TrustPolicy[] {
  const ref = claimText(claims, 'ref');
  if (!ref) throw refused('ref claim is missing');
  const byRef = policies.filter((p) => refMatches(p.ref, ref));
  if (byRef.length === 0)
    throw refused(`ref claim "${ref}" is not trusted for ${repository} (trusted: ${[...new Set(policies.map((p) => p.ref))].join(', ')})`);
  const environment = claimText(claims, 'environment');
  const byEnvironment = byRef.filter((p) => p.environment === null || p.environment === environment);
  if (byEnvironment.length === 0)
    throw refused(
      `environment claim ${environment ? `"${environment}"` : '(none: the job names no environment)'} is not trusted for ${repository} at ${ref} (trusted: ${byRef
        .map((p) => p.environment)
        .join(', ')})`,
    );
  const tenants = new Set(byEnvironment.map((p) => p.tenant_id));
  if (tenants.size > 1)
    throw refused(`repository claim "${repository}" at ${ref} is trusted by ${tenants.size} tenants; a token must map to exactly one`);
  return byEnvironment;
}

/**
 * Verifies GitHub Actions OIDC tokens: the repository must be trusted by a tenant (checked first,
 * so untrusted tokens cost no key fetch), then signature against the issuer's JWKS (discovered
 * and cached by jose), issuer, audience and expiry, then ref and environment against that
 * tenant's trust policies. The identity acts as `github:<actor>` for the allowed action types only.
 */
export function createGitHubOidcVerifier(db: Queryable, settings: GitHubOidcSettings, fetchFn: typeof fetch = fetch) {
  let keys: ReturnType<typeof createRemoteJWKSet> | undefined;
  const jwks = async () => {
    if (keys) return keys;
    const discovery = `${settings.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    const res = await fetchFn(discovery, { signal: AbortSignal.timeout(10_000) }).catch((err: unknown) => {
      throw new AppError('upstream', `could not read ${discovery}: ${errorMessage(err)}`);
    });
    const body = (await res.json().catch(() => ({}))) as { jwks_uri?: unknown };
    if (!res.ok || typeof body.jwks_uri !== 'string' || !URL.canParse(body.jwks_uri))
      throw new AppError('upstream', `${discovery} answered ${res.status} without a jwks_uri`);
    keys = createRemoteJWKSet(new URL(body.jwks_uri), { timeoutDuration: 10_000 });
    return keys;
  };
  return async (token: string): Promise<TokenIdentity> => {
    let unverified: ActionsClaims;
    try {
      unverified = decodeJwt(token);
    } catch (err) {
      throw refused(`not a valid token (${errorMessage(err)})`);
    }
    const repository = claimText(unverified, 'repository')?.toLowerCase();
    if (!repository) throw refused('repository claim is missing');
    const policies = await trustForRepository(db, repository);
    if (policies.length === 0)
      throw refused(`repository claim "${repository}" is trusted by no tenant (levqor github trust add --repo ${repository} …)`);
    let claims: ActionsClaims;
    try {
      ({ payload: claims } = await jwtVerify<ActionsClaims>(token, await jwks(), {
        issuer: settings.issuer,
        audience: settings.audience,
        algorithms: ['RS256'],
        requiredClaims: ['exp', 'iat'],
        clockTolerance: 30,
      }));
    } catch (err) {
      throw err instanceof AppError ? err : explain(err, settings);
    }
    const trusted = matchPolicies(policies, claims, repository);
    const actor = claimText(claims, 'actor');
    if (!actor) throw refused('actor claim is missing');
    const first = trusted[0] as TrustPolicy;
    return {
      id: `github-oidc:${first.id}`,
      tenant_id: first.tenant_id,
      name: `github:${actor}`,
      scopes: [...OIDC_SCOPES],
      actor: `github:${actor}`,
      actionTypes: [...new Set(trusted.flatMap((p) => p.action_types))],
    };
  };
}
