import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { openSession, resolveSession, revokeSession, type SessionPerson } from '../auth/sessions.js';
import type { TokenIdentity } from '../auth/tokens.js';
import type { Queryable } from '../db/types.js';
import { errorMessage } from '../lib/errors.js';

/** The browser session cookie shared by /dashboard and /console: a server-issued session secret. */
export const SESSION_COOKIE = 'levqor_session';
export const SESSION_SECONDS = 12 * 3600;

/** Who a browser request is: a signed-in session carries a CSRF token, a bearer token needs none. */
export type WebIdentity = TokenIdentity & { csrf?: string; person?: SessionPerson };

/** The sign-in port behind the web pages (sessions in the database, or a fake in tests). */
export interface WebAuth {
  /** The identity behind a session secret or a bearer token; undefined when neither is live. */
  identify(credential: { session?: string; bearer?: string }): Promise<WebIdentity | undefined>;
  /** Opens a session for a valid API token; undefined when the token is not valid. */
  signIn(token: string): Promise<string | undefined>;
  /** Revokes a session. */
  signOut(secret: string): Promise<void>;
}

export type Viewer =
  | { kind: 'viewer'; identity: WebIdentity | undefined; credential: { session?: string; bearer?: string } }
  | { kind: 'anonymous'; hadSession: boolean }
  | { kind: 'unavailable'; error: string };

/** Sessions in web_sessions, opened with API tokens resolved by `lookup`. */
export function createWebAuth(db: Queryable, lookup: (token: string) => Promise<TokenIdentity | undefined>): WebAuth {
  return {
    async identify({ session, bearer }) {
      if (session !== undefined) return resolveSession(db, session);
      return bearer === undefined ? undefined : lookup(bearer);
    },
    async signIn(token) {
      const identity = await lookup(token);
      return identity ? (await openSession(db, identity, SESSION_SECONDS)).secret : undefined;
    },
    async signOut(secret) {
      await revokeSession(db, secret);
    },
  };
}

/** The value of one cookie a request carries, if any. */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim()) || undefined;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

const cookieValue = (request: FastifyRequest): string | undefined => readCookie(request, SESSION_COOKIE);

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
}

/** Identifies a page request by its session cookie (or bearer token); isPublic lets everyone in. */
export async function identifyViewer(auth: WebAuth, request: FastifyRequest, isPublic = false): Promise<Viewer> {
  if (isPublic) return { kind: 'viewer', identity: undefined, credential: {} };
  const session = cookieValue(request);
  const credential = session !== undefined ? { session } : { bearer: bearerToken(request) };
  if (credential.session === undefined && credential.bearer === undefined) return { kind: 'anonymous', hadSession: false };
  try {
    const identity = await auth.identify(credential);
    return identity ? { kind: 'viewer', identity, credential } : { kind: 'anonymous', hadSession: session !== undefined };
  } catch (err) {
    return { kind: 'unavailable', error: errorMessage(err) };
  }
}

/** The session cookie itself (Path=/ so the dashboard and console share one sign-in); `https` forces Secure behind a proxy. */
export function sessionCookie(request: FastifyRequest, secret: string, maxAge: number, https = false): string {
  const secure = https || request.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${encodeURIComponent(secret)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`;
}

/** The session secret a request carries, if any (for sign-out). */
export function requestSession(request: FastifyRequest): string | undefined {
  return cookieValue(request);
}

/**
 * Refuses a browser's cross-site form post. Sec-Fetch-Site says so directly; without it, the
 * Origin's host must be ours (hosts only: behind a TLS proxy the scheme differs). Clients that
 * send neither (curl, scripts) are not browsers carrying someone else's intent.
 */
export function sameOrigin(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string') return site === 'same-origin' || site === 'none';
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.host;
  } catch {
    return false;
  }
}

/** Sends a page with its CSP and the headers every web page carries. */
export function sendHtml(reply: FastifyReply, status: number, html: string, csp: string): FastifyReply {
  return reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', csp)
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'same-origin')
    .send(html);
}

/** Parses HTML form posts in this (encapsulated) scope only, not on the JSON API. */
export function addFormParser(scope: FastifyInstance): void {
  scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    // A repeated field (the console's checked ids) becomes a list; a single one stays a string.
    const fields: Record<string, string | string[]> = {};
    for (const [key, value] of new URLSearchParams(body as string)) {
      const seen = fields[key];
      fields[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
    }
    done(null, fields);
  });
}

/** Where a sign-in may send the browser next: a dashboard or console page, nothing else. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(dashboard|console)(\/[\w./-]*)?$/.test(next) && !next.includes('//') ? next : '/dashboard';
}
