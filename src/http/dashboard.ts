import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { errorMessage } from '../lib/errors.js';
import { DASHBOARD_CSP, dashboardPage, signInPage as renderSignIn, type SignInMethods } from './dashboard-page.js';
import type { SnapshotView } from './client/snapshot.js';
import type { DashboardSnapshot } from './routes/health.js';
import {
  addFormParser,
  identifyViewer,
  safeNext,
  requestSession,
  sameOrigin,
  sendHtml as sendPage,
  sessionCookie,
  SESSION_COOKIE,
  SESSION_SECONDS,
  type Viewer,
  type WebAuth,
} from './web-auth.js';

interface DashboardDeps {
  /** The snapshot of the viewer's tenant; undefined: a public dashboard's aggregate. */
  snapshot: (tenantId: string | undefined) => Promise<DashboardSnapshot>;
  isPublic: boolean;
  /** Sessions and tokens: the one sign-in the dashboard and the console share. */
  auth: WebAuth;
  /** How the sign-in page lets people in (default: an API token only). */
  signIn?: SignInMethods;
  /** Calls onChange when something worth a refresh happens (an alert); resolves to an unsubscribe. */
  subscribe: (onChange: () => void) => Promise<() => Promise<void>>;
  /** Milliseconds between snapshots pushed to open streams (default DASHBOARD_INTERVAL_MS). */
  intervalMs?: number;
  /** Milliseconds between heartbeat comments that keep proxies from timing an idle stream out (default DASHBOARD_HEARTBEAT_MS). */
  heartbeatMs?: number;
}

const DASHBOARD_INTERVAL_MS = 2_000;
const DASHBOARD_HEARTBEAT_MS = 15_000;
/** The session cookie (shared with /console). */
export const DASHBOARD_COOKIE = SESSION_COOKIE;
/** A viewer whose socket buffers more than this is too slow to follow and is dropped. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

const loginSchema = z.object({ token: z.string().trim().min(1).max(512), next: z.string().max(200).optional() });

interface Stream {
  res: ServerResponse;
  /** Re-checks the viewer's session or token; undefined on a public dashboard. */
  recheck: (() => Promise<boolean>) | undefined;
}

/**
 * One shared feed for every open /dashboard/events stream: one snapshot per interval (not
 * one per viewer) and one LISTEN connection while anyone watches, released with the last.
 */
function createSnapshotFeed(deps: DashboardDeps, log: FastifyBaseLogger, tenantId: string | undefined) {
  const streams = new Set<Stream>();
  const intervalMs = deps.intervalMs ?? DASHBOARD_INTERVAL_MS;
  const heartbeatMs = deps.heartbeatMs ?? DASHBOARD_HEARTBEAT_MS;
  let ticker: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;
  let subscribing = false;
  let inflight: Promise<string> | undefined;
  let broadcasting = false;
  let again = false;
  let seq = 0;

  // Concurrent callers share one snapshot query.
  const frame = (): Promise<string> =>
    (inflight ??= deps
      .snapshot(tenantId)
      .then(
        // `satisfies`: the page's script (src/http/client/) reads what the server sends.
        (s) => `event: snapshot\nid: ${++seq}\ndata: ${JSON.stringify(s satisfies SnapshotView)}\n\n`,
        (err: unknown) => `event: snapshot_error\ndata: ${JSON.stringify({ message: errorMessage(err) })}\n\n`,
      )
      .finally(() => {
        inflight = undefined;
      }));

  const end = (s: Stream) => {
    streams.delete(s);
    if (!s.res.writableEnded) s.res.end();
    if (streams.size === 0) stop();
  };
  const write = (s: Stream, text: string) => {
    if (s.res.writableEnded || s.res.destroyed) return end(s);
    s.res.write(text);
    if (s.res.writableLength > MAX_BUFFERED_BYTES) end(s);
  };

  const broadcast = (): void => {
    if (broadcasting) {
      again = true; // a change arrived mid-query: send one more, fresher snapshot after this one
      return;
    }
    broadcasting = true;
    void (async () => {
      const text = await frame();
      for (const s of [...streams]) {
        // A revoked session or token stops receiving (within the authenticator's cache time); an outage does not cut viewers off.
        if (s.recheck !== undefined && !(await s.recheck().catch(() => true))) end(s);
        else write(s, text);
      }
    })().finally(() => {
      broadcasting = false;
      if (again && streams.size > 0) {
        again = false;
        broadcast();
      }
    });
  };

  const subscribe = () => {
    if (unsubscribe || subscribing || streams.size === 0) return;
    subscribing = true;
    deps.subscribe(broadcast).then(
      (off) => {
        subscribing = false;
        if (streams.size === 0) void off().catch(() => undefined);
        else unsubscribe = off;
      },
      (err: unknown) => {
        subscribing = false; // retried on the next tick
        log.warn({ err: errorMessage(err) }, 'dashboard: change subscription failed; updating on the interval only');
      },
    );
  };

  function stop() {
    clearInterval(ticker);
    clearInterval(heartbeat);
    ticker = heartbeat = undefined;
    const off = unsubscribe;
    unsubscribe = undefined;
    if (off) void off().catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'dashboard: unsubscribe failed'));
  }

  return {
    /** Starts streaming to a hijacked response: headers, the first snapshot at once, then updates. */
    join(res: ServerResponse, recheck: Stream['recheck']): void {
      const s: Stream = { res, recheck };
      streams.add(s);
      res.on('close', () => end(s));
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-content-type-options': 'nosniff',
      });
      res.write('retry: 2000\n\n');
      void frame().then((text) => streams.has(s) && write(s, text));
      if (!ticker) {
        ticker = setInterval(() => {
          subscribe();
          broadcast();
        }, intervalMs);
        heartbeat = setInterval(() => {
          for (const x of [...streams]) write(x, ': heartbeat\n\n');
        }, heartbeatMs);
      }
      subscribe();
    },
    /** Ends every stream, so closing the server does not wait on open dashboards. */
    async close(): Promise<void> {
      const off = unsubscribe;
      unsubscribe = undefined;
      for (const s of [...streams]) end(s);
      await off?.().catch(() => undefined);
    },
    size: () => streams.size,
  };
}

/**
 * The live dashboard: GET /dashboard (the page, or a sign-in form), /dashboard/events
 * (server-sent snapshots), /dashboard/snapshot.json, POST /dashboard/login and /logout.
 *
 * The session cookie holds a server-issued session secret (web_sessions; HttpOnly,
 * SameSite=Strict): every request re-checks it in the database, so signing out or revoking
 * the token ends it, and any replica accepts it without a shared signing secret.
 */
export function registerDashboard(app: FastifyInstance, deps: DashboardDeps): void {
  // One feed per tenant: a viewer sees its own tenant's snapshot (a public dashboard: the aggregate).
  const feeds = new Map<string, ReturnType<typeof createSnapshotFeed>>();
  const feedFor = (tenantId: string | undefined) => {
    const key = tenantId ?? '';
    let feed = feeds.get(key);
    if (!feed) feeds.set(key, (feed = createSnapshotFeed(deps, app.log, tenantId)));
    return feed;
  };
  app.addHook('preClose', async () => {
    await Promise.all([...feeds.values()].map((f) => f.close()));
  });

  const methods: SignInMethods = deps.signIn ?? { token: true };
  const signInPage = (error?: string, next?: string) => renderSignIn(error, next, methods);
  const identify = (request: FastifyRequest): Promise<Viewer> => identifyViewer(deps.auth, request, deps.isPublic);
  const sendHtml = (reply: FastifyReply, status: number, html: string) => sendPage(reply, status, html, DASHBOARD_CSP);
  const refuse = (reply: FastifyReply, viewer: Exclude<Viewer, { kind: 'viewer' }>) =>
    viewer.kind === 'unavailable'
      ? reply.status(503).send({ error: 'db_unavailable', message: `cannot check the dashboard session: ${viewer.error}` })
      : reply.status(401).send({ error: 'unauthorized', message: 'sign in at /dashboard, or send Authorization: Bearer <token>' });

  // Encapsulated so the form parser applies to the dashboard's routes only, not the JSON API.
  void app.register((scope, _opts, done) => {
    addFormParser(scope);

    scope.get('/dashboard', async (request, reply) => {
      const viewer = await identify(request);
      if (viewer.kind === 'viewer') return sendHtml(reply, 200, dashboardPage({ isPublic: deps.isPublic }));
      if (viewer.kind === 'unavailable')
        return sendHtml(reply, 503, signInPage('Cannot check your session: the database is unreachable. Try again shortly.'));
      if (viewer.hadSession) void reply.header('set-cookie', sessionCookie(request, '', 0));
      return sendHtml(
        reply,
        200,
        signInPage(
          viewer.hadSession ? 'Your session has ended (it expired, or its token or person was removed). Sign in again.' : undefined,
        ),
      );
    });

    scope.get('/dashboard/snapshot.json', async (request, reply) => {
      const viewer = await identify(request);
      if (viewer.kind !== 'viewer') return refuse(reply, viewer);
      void reply.header('cache-control', 'no-store');
      return deps.snapshot(viewer.identity?.tenant_id);
    });

    scope.get('/dashboard/events', async (request, reply) => {
      const viewer = await identify(request);
      if (viewer.kind !== 'viewer') return refuse(reply, viewer);
      reply.hijack();
      const { credential } = viewer;
      feedFor(viewer.identity?.tenant_id).join(
        reply.raw,
        deps.isPublic ? undefined : async () => (await deps.auth.identify(credential)) !== undefined,
      );
    });

    scope.post('/dashboard/login', async (request, reply) => {
      if (!sameOrigin(request)) return sendHtml(reply, 403, signInPage('Sign-in must come from this dashboard’s own page.'));
      if (deps.isPublic) return reply.redirect('/dashboard', 303);
      if (!methods.token)
        return sendHtml(
          reply,
          403,
          signInPage('Token sign-in is turned off here (LEVQOR_CONSOLE_TOKEN_SIGNIN=off): sign in with your organisation account.'),
        );
      const parsed = loginSchema.safeParse(request.body);
      if (!parsed.success) return sendHtml(reply, 400, signInPage('Enter an access token.'));
      let secret: string | undefined;
      try {
        secret = await deps.auth.signIn(parsed.data.token);
      } catch (err) {
        request.log.warn({ err: errorMessage(err) }, 'dashboard: sign-in check failed');
        return sendHtml(reply, 503, signInPage('Cannot check the token: the database is unreachable. Try again shortly.'));
      }
      if (secret === undefined) return sendHtml(reply, 401, signInPage('That token is not valid or has been revoked.'));
      void reply.header('set-cookie', sessionCookie(request, secret, SESSION_SECONDS));
      return reply.redirect(safeNext(parsed.data.next), 303);
    });

    scope.post('/dashboard/logout', async (request, reply) => {
      if (!sameOrigin(request)) return sendHtml(reply, 403, signInPage('Sign-out must come from this dashboard’s own page.'));
      const secret = requestSession(request);
      if (secret !== undefined)
        await deps.auth.signOut(secret).catch((err: unknown) => request.log.warn({ err: errorMessage(err) }, 'dashboard: sign-out failed'));
      void reply.header('set-cookie', sessionCookie(request, '', 0));
      return reply.redirect('/dashboard', 303);
    });
    done();
  });
}
