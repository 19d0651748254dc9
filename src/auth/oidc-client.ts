// The console's OpenID Connect client: Authorization Code with PKCE through openid-client.
// begin() sends the browser to the provider with state, nonce and a PKCE challenge (the
// verifier stays in the sealed cookie); finish() checks the answer against that cookie,
// exchanges the code and verifies the ID token (signature, issuer, audience, nonce, expiry).
import * as oidc from 'openid-client';
import type { Config } from '../config.js';
import { AppError, errorMessage } from '../lib/errors.js';
import { openTransaction, sealTransaction, transactionKey, TRANSACTION_SECONDS, type OidcTransaction } from './oidc-transaction.js';

/** LEVQOR_OIDC_*: where the provider is and who the console is to it. */
export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The callback registered at the provider (…/console/oidc/callback). */
  redirectUrl: string;
}

/** What the provider vouches for about the person signing in. */
export interface OidcClaims {
  sub: string;
  /** Lowercased. */
  email?: string;
  emailVerified: boolean;
  name?: string;
}

/** The sign-in port the console's routes use (the real provider, or a stand-in in tests). */
export interface OidcSignIn {
  /** How the sign-in page names the provider: its host. */
  label: string;
  /** Whether the console is reached over https (the callback address): its cookies are then Secure. */
  https: boolean;
  /** The provider's authorization URL and the sealed cookie that must come back with the browser. */
  begin(opts: { next: string; tenant?: string; now: number }): Promise<{ url: string; cookie: string }>;
  /** The verified claims for a callback's query string and the cookie begin() made. */
  finish(query: string, cookie: string | undefined, now: number): Promise<{ claims: OidcClaims; transaction: OidcTransaction }>;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** A client for one provider; discovery happens at the first sign-in (and again after a failed one). */
export function createOidcSignIn(settings: OidcSettings): OidcSignIn {
  const issuer = new URL(settings.issuer);
  const key = transactionKey(settings.clientSecret);
  let discovered: Promise<oidc.Configuration> | undefined;
  const configuration = (): Promise<oidc.Configuration> => {
    discovered ??= oidc
      // client_secret_basic: the OpenID Connect default, and what providers accept first.
      .discovery(issuer, settings.clientId, undefined, oidc.ClientSecretBasic(settings.clientSecret), {
        // http:// only for a provider on this machine (config allows nothing else).
        execute: issuer.protocol === 'http:' && LOOPBACK.has(issuer.hostname) ? [oidc.allowInsecureRequests] : [],
      })
      .catch((err: unknown) => {
        discovered = undefined;
        throw new AppError('upstream', `cannot reach the sign-in provider ${issuer.host}: ${errorMessage(err)}`, [], { cause: err });
      });
    return discovered;
  };

  return {
    label: issuer.host,
    https: settings.redirectUrl.startsWith('https:'),
    async begin({ next, tenant, now }) {
      const config = await configuration();
      const verifier = oidc.randomPKCECodeVerifier();
      const tx: OidcTransaction = {
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
        verifier,
        next,
        ...(tenant ? { tenant } : {}),
        expires_at: now + TRANSACTION_SECONDS,
      };
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: settings.redirectUrl,
        scope: 'openid email profile',
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state: tx.state,
        nonce: tx.nonce,
      });
      return { url: url.href, cookie: sealTransaction(key, tx) };
    },
    async finish(query, cookie, now) {
      const transaction = openTransaction(key, cookie, now);
      if (!transaction)
        throw new AppError(
          'unauthorized',
          `this sign-in was not started in this browser, or took longer than ${TRANSACTION_SECONDS / 60} minutes: start again`,
        );
      const config = await configuration();
      const current = new URL(settings.redirectUrl);
      current.search = query;
      let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
      try {
        tokens = await oidc.authorizationCodeGrant(config, current, {
          pkceCodeVerifier: transaction.verifier,
          expectedState: transaction.state,
          expectedNonce: transaction.nonce,
          idTokenExpected: true,
        });
      } catch (err) {
        if (err instanceof oidc.AuthorizationResponseError)
          throw new AppError(
            'forbidden',
            `the sign-in provider refused: ${err.error}${err.error_description ? ` (${err.error_description})` : ''}`,
          );
        if (err instanceof oidc.ResponseBodyError)
          throw new AppError(
            'upstream',
            `the sign-in provider did not issue tokens: ${err.error}${err.error_description ? ` (${err.error_description})` : ''}`,
          );
        if (err instanceof TypeError && /fetch failed/i.test(err.message))
          throw new AppError('upstream', `cannot reach the sign-in provider ${issuer.host}`);
        throw new AppError('unauthorized', `the sign-in response did not verify: ${errorMessage(err)}`);
      }
      const idClaims = tokens.claims();
      if (!idClaims) throw new AppError('unauthorized', 'the sign-in provider returned no ID token');
      // Email may sit in the ID token or only behind the userinfo endpoint (for the same subject).
      const info: Record<string, unknown> =
        typeof idClaims.email === 'string' && idClaims.email_verified !== undefined
          ? idClaims
          : await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
      const email = typeof info.email === 'string' ? info.email.trim().toLowerCase() : undefined;
      const name = typeof info.name === 'string' ? info.name : undefined;
      // Some providers send the flag as a string.
      const emailVerified = info.email_verified === true || info.email_verified === 'true';
      return {
        claims: { sub: idClaims.sub, email, emailVerified, name },
        transaction,
      };
    },
  };
}

/** The console's OpenID Connect client from LEVQOR_OIDC_* (all four are set, or none: config checks it). */
export function oidcSignInFromConfig(
  config: Pick<Config, 'LEVQOR_OIDC_ISSUER' | 'LEVQOR_OIDC_CLIENT_ID' | 'LEVQOR_OIDC_CLIENT_SECRET' | 'LEVQOR_OIDC_REDIRECT_URL'>,
): OidcSignIn | undefined {
  const { LEVQOR_OIDC_ISSUER: issuer, LEVQOR_OIDC_CLIENT_ID: clientId } = config;
  const { LEVQOR_OIDC_CLIENT_SECRET: clientSecret, LEVQOR_OIDC_REDIRECT_URL: redirectUrl } = config;
  if (!issuer || !clientId || !clientSecret || !redirectUrl) return undefined;
  return createOidcSignIn({ issuer, clientId, clientSecret, redirectUrl });
}
