import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { OidcSignIn } from '../../auth/oidc-client.js';
import { openPersonSession } from '../../auth/sessions.js';
import type { Db } from '../../db/types.js';
import { AppError, errorMessage } from '../../lib/errors.js';
import { matchSignIn } from '../../people/sign-in.js';
import { HTTP_STATUS } from '../errors.js';
import { readCookie, safeNext, sendHtml, sessionCookie, SESSION_SECONDS } from '../web-auth.js';
import { CONSOLE_CSP } from './layout.js';
import { notMatchedPage, signedInPage, signInFailedPage } from './oidc-pages.js';
import { TRANSACTION_SECONDS } from '../../auth/oidc-transaction.js';

/** The sealed sign-in transaction (state, nonce, PKCE verifier) between login and callback. */
export const OIDC_COOKIE = 'levqor_oidc';

const loginQuery = z.object({ next: z.string().max(500).optional(), tenant: z.string().min(1).max(200).optional() }).strip();

const send = (reply: FastifyReply, status: number, html: string) => sendHtml(reply, status, html, CONSOLE_CSP);

/**
 * GET /console/oidc/login sends the browser to the provider; GET /console/oidc/callback takes
 * it back, verifies the answer, finds the person and opens their session. The transaction cookie
 * is SameSite=Lax (the callback is a cross-site navigation from the provider) and scoped to
 * /console/oidc; the session cookie stays SameSite=Strict.
 */
export function oidcRoutes(app: FastifyInstance, deps: { db: Db; oidc: OidcSignIn }): void {
  const { db, oidc } = deps;
  const secure = oidc.https ? '; Secure' : '';
  const transactionCookie = (value: string, maxAge: number) =>
    `${OIDC_COOKIE}=${encodeURIComponent(value)}; Path=/console/oidc; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`;
  const now = () => Date.now() / 1000;

  app.get('/console/oidc/login', async (request, reply) => {
    const q = loginQuery.safeParse(request.query);
    const next = safeNext(q.success && q.data.next ? q.data.next : '/console/approvals');
    try {
      const { url, cookie } = await oidc.begin({ next, tenant: q.success ? q.data.tenant : undefined, now: now() });
      void reply.header('set-cookie', transactionCookie(cookie, TRANSACTION_SECONDS)).header('cache-control', 'no-store');
      return reply.redirect(url, 303);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      request.log.warn({ err: err.message }, 'console: OpenID Connect sign-in could not start');
      return send(reply, 502, signInFailedPage(err.message, next));
    }
  });

  app.get('/console/oidc/callback', async (request, reply) => {
    // One use: the transaction cookie goes whatever happens next.
    void reply.header('set-cookie', transactionCookie('', 0));
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
    let finished: Awaited<ReturnType<OidcSignIn['finish']>>;
    try {
      finished = await oidc.finish(query, readCookie(request, OIDC_COOKIE), now());
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      request.log.warn({ err: err.message }, 'console: OpenID Connect sign-in refused');
      return send(reply, HTTP_STATUS[err.code], signInFailedPage(err.message));
    }
    const { claims, transaction } = finished;
    try {
      const match = await matchSignIn(db, claims, transaction.tenant);
      if (match.kind !== 'person')
        return send(reply, match.kind === 'several' ? 409 : 403, notMatchedPage(match, claims, transaction.next));
      const secret = await openPersonSession(db, match.person, SESSION_SECONDS);
      request.log.info({ person: match.person.handle, tenant: match.person.tenant_name }, 'console: signed in with OpenID Connect');
      // A 200 page that moves on by itself, not a redirect: a redirect would continue the
      // provider's cross-site navigation, which a SameSite=Strict cookie does not ride along.
      void reply.header('set-cookie', [transactionCookie('', 0), sessionCookie(request, secret, SESSION_SECONDS, oidc.https)]);
      void reply.header('refresh', `0;url=${transaction.next}`);
      return send(reply, 200, signedInPage(match.person.display_name, transaction.next));
    } catch (err) {
      request.log.warn({ err: errorMessage(err) }, 'console: OpenID Connect sign-in could not finish');
      return send(
        reply,
        503,
        signInFailedPage('Cannot finish signing you in: the database is unreachable. Try again shortly.', transaction.next),
      );
    }
  });
}
