import Fastify, { type FastifyInstance } from 'fastify';
import { mkdirSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, SCOPES } from '../src/auth/tokens.js';
import type { Db } from '../src/db/types.js';
import { buildTestApp } from './helpers/api.js';
import { DASHBOARD_COOKIE, registerDashboard } from '../src/http/dashboard.js';
import type { DashboardSnapshot } from '../src/http/routes/health.js';
import type { HealthSummary } from '../src/health/summary.js';
import { ARTIFACTS, launchChromium, newPage } from './helpers/browser.js';
import { openPgTestDb, type TestDb } from './helpers/db.js';
import { makeTenant, makeWorkflow } from './helpers/fixtures.js';

const SCREENSHOT = `${ARTIFACTS}dashboard.png`;
const SCREENSHOT_DARK = `${ARTIFACTS}dashboard-dark.png`;
const TILES = ['status', 'uptime', 'db-latency', 'queues', 'error-rate', 'scheduler', 'runs-per-minute', 'scaling', 'alerts'];

async function startApp(db: Db, dashboardPublic: boolean): Promise<{ app: FastifyInstance; baseUrl: string }> {
  const app = await buildTestApp(db, { rateLimitPerMinute: 1_000_000, dashboardPublic });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, baseUrl: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

async function insertRun(db: Db, workflowId: string, tenantId: string, status: 'succeeded' | 'failed', minutesAgo: number): Promise<void> {
  await db.query(
    `INSERT INTO workflow_runs (tenant_id, workflow_id, status, trigger, started_at, finished_at, error)
     VALUES ($1, $2, $3, 'manual', extract(epoch FROM now()) - $4 * 60 - 3, extract(epoch FROM now()) - $4 * 60, $5)`,
    [tenantId, workflowId, status, minutesAgo, status === 'failed' ? 'step 1 failed' : null],
  );
}

/** The little of the DOM the page functions below touch (the project compiles without the DOM library). */
interface PageGlobals {
  document: { querySelector(selector: string): { getAttribute(name: string): string | null } | null };
}

/**
 * Waits until the element's attribute equals (or, with `not`, differs from) a value: DOM polling,
 * no sleeps. A function, not a string, because the page's CSP forbids eval.
 */
async function waitForAttr(page: Page, selector: string, attr: string, value: string, not = false): Promise<void> {
  await page.waitForFunction(
    ([sel, name, expected, negate]) => {
      const el = (globalThis as unknown as PageGlobals).document.querySelector(sel);
      const actual = el === null ? null : el.getAttribute(name);
      return negate ? actual !== null && actual !== expected : actual === expected;
    },
    [selector, attr, value, not] as const,
  );
}

async function tileValues(page: Page): Promise<Record<string, string | null>> {
  const pairs = await page.evaluate<[string, string | null][]>(
    `Array.from(document.querySelectorAll('[data-tile]')).map(function (e) { return [e.getAttribute('data-tile'), e.getAttribute('data-value')]; })`,
  );
  return Object.fromEntries(pairs);
}

async function fieldValue(page: Page, tile: string, field: string): Promise<string | null> {
  return page.getAttribute(`[data-tile="${tile}"] [data-field="${field}"]`, 'data-value');
}

async function signIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(`${baseUrl}/dashboard`);
  await page.fill('#token', token);
  await page.click('button[type=submit]');
  await waitForAttr(page, '[data-tile="status"]', 'data-value', 'loading', true);
}

interface SseStream {
  status: number;
  headers: Headers;
  /** The next frame (text up to a blank line) satisfying `match`; comments included. */
  next(match?: (frame: string) => boolean): Promise<string>;
  /** Resolves when the server ends the stream. */
  ended(): Promise<void>;
  close(): void;
}

async function openStream(url: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let done = false;
  const read = async (): Promise<boolean> => {
    if (done) return false;
    const chunk = await reader.read();
    if (chunk.done) done = true;
    else buffer += decoder.decode(chunk.value as Uint8Array, { stream: true });
    return !done;
  };
  return {
    status: res.status,
    headers: res.headers,
    async next(match = () => true) {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (match(frame)) return frame;
        } else if (!(await read())) {
          throw new Error(`stream ended before the awaited frame (left: ${JSON.stringify(buffer)})`);
        }
      }
    },
    async ended() {
      while (await read()) buffer = '';
    },
    close: () => abort.abort(),
  };
}

/** A snapshot as the health code builds it, from a summary's fields (the database up unless `database` says otherwise). */
function fakeSnapshot(summary: Partial<HealthSummary> = {}): DashboardSnapshot {
  return {
    summary: {
      status: 'ok',
      reasons: [],
      checked_at: new Date().toISOString(),
      uptime: { process_seconds: 0, deployment_seconds: null },
      database: { ok: true, latency_ms: 1 },
      queues: null,
      error_rates: null,
      scheduler: null,
      ...summary,
    },
    scaling: null,
    alerts: [],
    runs_per_minute: [],
  };
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

const isSnapshot = (frame: string) => frame.split('\n').includes('event: snapshot');
const snapshotData = (frame: string) =>
  JSON.parse(
    frame
      .split('\n')
      .find((l) => l.startsWith('data: '))!
      .slice(6),
  ) as DashboardSnapshot;

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

describe('dashboard on a real database', () => {
  let t: TestDb;
  let main: { app: FastifyInstance; baseUrl: string };
  let token: string;
  let tenantId: string;
  let workflowId: string;

  beforeAll(async () => {
    t = await openPgTestDb();
    const tenant = await makeTenant(t.db, 'dash');
    tenantId = tenant.id;
    token = (await createToken(t.db, tenant.id, 'viewer', [...SCOPES])).token;
    workflowId = (await makeWorkflow(t.db, tenant.id, { name: 'nightly-report', steps: [{ type: 'noop' }] })).id;
    // A live scheduler, six good runs and one failed one over the last half hour, a resolved alert.
    await t.db.query(
      `INSERT INTO scheduler_instances (id, hostname, pid, started_at, last_tick_at)
       VALUES ('dash-test', 'worker-1', 4242, extract(epoch FROM now()) - 5400, extract(epoch FROM now()) - 4)`,
    );
    for (const minutesAgo of [27, 21, 16, 12, 7, 3]) await insertRun(t.db, workflowId, tenantId, 'succeeded', minutesAgo);
    await insertRun(t.db, workflowId, tenantId, 'failed', 12);
    await t.db.query(
      `INSERT INTO alerts (tenant_id, kind, status, message, fired_at, resolved_at, resolved_message)
       VALUES ($1, 'failure_rate', 'resolved', 'workflow failure rate 7.5 % over the last hour (3 of 40), above 5 %',
               extract(epoch FROM now()) - 7200, extract(epoch FROM now()) - 3600,
               'workflow failure rate 2.5 % over the last hour (1 of 40), at or below 5 %')`,
      [tenantId],
    );
    main = await startApp(t.db, false);
  });

  afterAll(async () => {
    await main?.app.close();
    await t?.close();
  });

  describe('in headless Chromium', () => {
    it('shows a sign-in form, refuses a bad token with 401, and renders every tile after a good one', async () => {
      const context = await browser.newContext();
      const { page, errors } = await newPage(context);
      const first = await page.goto(`${main.baseUrl}/dashboard`);
      expect(first?.status()).toBe(200);
      expect(await page.$('form[action="/dashboard/login"] input[name="token"][type="password"]')).not.toBeNull();
      expect(await page.$('[data-tile]')).toBeNull();

      await page.fill('#token', 'lvq_not_a_real_token_0000000000000');
      const [refused] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/dashboard/login') && r.request().method() === 'POST'),
        page.click('button[type=submit]'),
      ]);
      expect(refused.status()).toBe(401);
      expect(await page.textContent('#signin-error')).toMatch(/not valid/);
      expect(await page.$('[data-tile]')).toBeNull();
      errors.length = 0; // the browser logs the refused post's 401 as a console error

      await page.fill('#token', token);
      await page.click('button[type=submit]');
      await waitForAttr(page, '[data-tile="alerts"]', 'data-value', 'loading', true);
      expect(new URL(page.url()).pathname).toBe('/dashboard');
      const cookie = (await context.cookies()).find((c) => c.name === DASHBOARD_COOKIE);
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });

      const values = await tileValues(page);
      expect(Object.keys(values).sort()).toEqual([...TILES].sort());
      for (const name of TILES) expect(values[name], name).not.toBe('loading');
      expect(values.status).toBe('ok');
      expect(Number(values.uptime)).toBeGreaterThanOrEqual(0);
      expect(Number(await fieldValue(page, 'uptime', 'deployment'))).toBeGreaterThanOrEqual(5400);
      expect(Number(values['db-latency'])).toBeGreaterThan(0);
      expect(values.queues).toBe('0');
      expect(values['error-rate']).toBe((1 / 7).toFixed(4));
      expect(await fieldValue(page, 'error-rate', 'counts_24h')).toBe('1/7');
      expect(Number(values.scheduler)).toBeLessThan(180);
      expect(await fieldValue(page, 'scheduler', 'stale')).toBe('false');
      expect(values['runs-per-minute']).toBe('7');
      expect(await page.$$('[data-tile="runs-per-minute"] svg [data-failed-bar]')).toHaveLength(1);
      expect(values.scaling).toBe('scale_down');
      expect(await fieldValue(page, 'scaling', 'replicas')).toBe('1');
      expect(values.alerts).toBe('0');
      expect(await page.$$('[data-tile="alerts"] [data-alert="failure_rate"][data-value="resolved"]')).toHaveLength(1);
      // A resolved alert says what the rule read when it resolved.
      expect(await page.textContent('[data-alert="failure_rate"] .msg')).toBe(
        'workflow failure rate 2.5 % over the last hour (1 of 40), at or below 5 %',
      );
      expect(await page.getAttribute('#conn', 'data-connection')).toBe('live');
      expect(errors).toEqual([]);
      await context.close();
    });

    it('changes the error-rate tile over server-sent events when a failed run lands, without reloading, and writes a screenshot', async () => {
      const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
      const { page, errors } = await newPage(context);
      await signIn(page, main.baseUrl, token);
      await waitForAttr(page, '#conn', 'data-connection', 'live');
      const before = await page.getAttribute('[data-tile="error-rate"]', 'data-value');
      expect(before).toBe((1 / 7).toFixed(4));

      let navigations = 0;
      page.on('framenavigated', (frame) => {
        if (frame === page.mainFrame()) navigations += 1;
      });
      await page.evaluate('window.__levqorMarker = "same-document"');

      await insertRun(t.db, workflowId, tenantId, 'failed', 0);
      await waitForAttr(page, '[data-tile="error-rate"]', 'data-value', (2 / 8).toFixed(4));
      expect(await fieldValue(page, 'error-rate', 'counts_1h')).toBe('2/8');
      expect(await page.getAttribute('[data-tile="runs-per-minute"]', 'data-value')).toBe('8');
      expect(await fieldValue(page, 'runs-per-minute', 'failed')).toBe('2');
      expect(await page.$$('[data-tile="runs-per-minute"] svg [data-failed-bar]')).toHaveLength(2);

      // An alert arrives through LISTEN/NOTIFY; its message is hostile markup and must stay text.
      await t.db.query(`INSERT INTO alerts (tenant_id, kind, status, message) VALUES ($1, 'approval_queue_depth', 'firing', $2)`, [
        tenantId,
        '<b data-injected="1">61</b> approvals pending (threshold 50) <img src=x onerror="window.__pwned=1">',
      ]);
      await t.db.query(`SELECT pg_notify('levqor_alerts', '{"kind":"approval_queue_depth","status":"firing"}')`);
      await waitForAttr(page, '[data-tile="alerts"]', 'data-value', '1');
      expect(await page.$('[data-injected], [data-tile="alerts"] img')).toBeNull();
      expect(await page.evaluate('window.__pwned')).toBeUndefined();
      expect(await page.textContent('[data-alert="approval_queue_depth"] .msg')).toContain('<b data-injected="1">61</b>');

      expect(await page.evaluate('window.__levqorMarker')).toBe('same-document');
      expect(navigations).toBe(0);
      expect(errors).toEqual([]);

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true, animations: 'disabled' });
      expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.screenshot({ path: SCREENSHOT_DARK, fullPage: true, animations: 'disabled' });
      await context.close();
    });

    it('serves the page without sign-in in public mode and shows "disconnected" when the server goes away', async () => {
      const pub = await startApp(t.db, true);
      const context = await browser.newContext();
      try {
        const { page, errors } = await newPage(context);
        const res = await page.goto(`${pub.baseUrl}/dashboard`);
        expect(res?.status()).toBe(200);
        expect(await page.$('#token')).toBeNull();
        expect(await page.$('form[action="/dashboard/logout"]')).toBeNull();
        await waitForAttr(page, '[data-tile="status"]', 'data-value', 'loading', true);
        await waitForAttr(page, '#conn', 'data-connection', 'live');
        expect((await fetch(`${pub.baseUrl}/dashboard/snapshot.json`)).status).toBe(200);
        expect(errors).toEqual([]);

        await pub.app.close(); // ends the open stream instead of waiting on it
        await waitForAttr(page, '#conn', 'data-connection', 'disconnected');
        expect(await page.textContent('#conn')).toMatch(/Disconnected/);
        expect(await page.getAttribute('[data-tile="status"]', 'data-value')).not.toBe('loading');
      } finally {
        await context.close();
        await pub.app.close();
      }
    });
  });

  describe('over HTTP', () => {
    const login = (body: string, contentType: string, extra: Record<string, string> = {}) =>
      fetch(`${main.baseUrl}/dashboard/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': contentType, ...extra },
        body,
      });

    it('refuses the stream and the snapshot without a valid session', async () => {
      for (const path of ['/dashboard/events', '/dashboard/snapshot.json']) {
        expect((await fetch(`${main.baseUrl}${path}`)).status, path).toBe(401);
        const bad = await fetch(`${main.baseUrl}${path}`, {
          headers: { cookie: `${DASHBOARD_COOKIE}=lvq_revoked_or_made_up_000000000000` },
        });
        expect(bad.status, path).toBe(401);
        expect(((await bad.json()) as { error: string }).error).toBe('unauthorized');
      }
    });

    it('signs in with a form post, streams snapshots with the session cookie, and signs out', async () => {
      const res = await login(new URLSearchParams({ token }).toString(), 'application/x-www-form-urlencoded');
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/dashboard');
      const setCookie = res.headers.get('set-cookie') ?? '';
      expect(setCookie).toMatch(new RegExp(`^${DASHBOARD_COOKIE}=`));
      for (const attr of ['HttpOnly', 'SameSite=Strict', 'Path=/;']) expect(setCookie).toContain(attr);
      const cookie = setCookie.split(';')[0]!;

      const stream = await openStream(`${main.baseUrl}/dashboard/events`, { cookie });
      try {
        expect(stream.status).toBe(200);
        expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
        const first = await stream.next((f) => !f.startsWith('retry:'));
        expect(first.split('\n')[0]).toBe('event: snapshot');
        const snap = snapshotData(first);
        expect(snap.summary.database.ok).toBe(true);
        expect(snap.runs_per_minute).toHaveLength(30);
      } finally {
        stream.close();
      }

      const json = await fetch(`${main.baseUrl}/dashboard/snapshot.json`, { headers: { cookie } });
      expect(json.status).toBe(200);
      expect(((await json.json()) as DashboardSnapshot).summary.status).toMatch(/^(ok|degraded|down)$/);
      expect((await fetch(`${main.baseUrl}/dashboard/snapshot.json`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

      const page = await fetch(`${main.baseUrl}/dashboard`, { headers: { cookie } });
      expect(page.headers.get('content-security-policy')).toMatch(/script-src 'sha256-/);
      expect(await page.text()).toContain('data-tile="error-rate"');

      const out = await fetch(`${main.baseUrl}/dashboard/logout`, { method: 'POST', redirect: 'manual', headers: { cookie } });
      expect(out.status).toBe(303);
      expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
      // The server revoked the session: a copy of the old cookie no longer works.
      expect((await fetch(`${main.baseUrl}/dashboard/snapshot.json`, { headers: { cookie } })).status).toBe(401);
    });

    it('answers a bad token with 401 and the form, an empty one with 400, and a cross-site post with 403', async () => {
      const bad = await login(JSON.stringify({ token: 'lvq_wrong_wrong_wrong_wrong_wrong' }), 'application/json');
      expect(bad.status).toBe(401);
      expect(bad.headers.get('set-cookie')).toBeNull();
      expect(await bad.text()).toMatch(/id="signin-error"[^>]*>That token is not valid/);
      expect((await login('token=', 'application/x-www-form-urlencoded')).status).toBe(400);
      const cross = await login(new URLSearchParams({ token }).toString(), 'application/x-www-form-urlencoded', {
        origin: 'https://evil.example',
      });
      expect(cross.status).toBe(403);
      expect(cross.headers.get('set-cookie')).toBeNull();
      const fetched = await login(new URLSearchParams({ token }).toString(), 'application/x-www-form-urlencoded', {
        'sec-fetch-site': 'cross-site',
      });
      expect(fetched.status).toBe(403);
    });
  });
});

describe('snapshot feed', () => {
  let app: FastifyInstance;
  let baseUrl: string;
  let snapshots = 0;
  let subscribes = 0;
  let revoked = false;
  let onChange: () => void = () => undefined;
  let subscribed: Promise<void>;
  let markSubscribed: () => void;
  let unsubscribed: Promise<void>;
  let markUnsubscribed: () => void;
  const resetSubscription = () => {
    subscribed = new Promise((resolve) => (markSubscribed = resolve));
    unsubscribed = new Promise((resolve) => (markUnsubscribed = resolve));
  };
  const auth = { authorization: 'Bearer good' };
  const counter = (frame: string) => snapshotData(frame).summary.uptime.process_seconds;

  beforeAll(async () => {
    resetSubscription();
    app = Fastify();
    registerDashboard(app, {
      isPublic: false,
      // Far longer than the test: every update seen below comes from a change, not the interval.
      intervalMs: 3_600_000,
      heartbeatMs: 25,
      auth: {
        identify: ({ bearer }) =>
          Promise.resolve(bearer === 'good' && !revoked ? { id: 't', tenant_id: 't', name: 'good', scopes: [] } : undefined),
        signIn: () => Promise.resolve(undefined),
        signOut: () => Promise.resolve(),
      },
      snapshot: () => {
        snapshots += 1;
        return Promise.resolve(fakeSnapshot({ uptime: { process_seconds: snapshots, deployment_seconds: null } }));
      },
      subscribe: (listener) => {
        subscribes += 1;
        onChange = listener;
        markSubscribed();
        return Promise.resolve(() => {
          markUnsubscribed();
          return Promise.resolve();
        });
      },
    });
    baseUrl = await listen(app);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('shares one subscription, pushes at once on a change, sends heartbeats, and unsubscribes when the last viewer leaves', async () => {
    const a = await openStream(`${baseUrl}/dashboard/events`, auth);
    const b = await openStream(`${baseUrl}/dashboard/events`, auth);
    const firstA = counter(await a.next(isSnapshot));
    const firstB = counter(await b.next(isSnapshot));
    await subscribed;
    expect(subscribes).toBe(1);

    onChange();
    expect(counter(await a.next(isSnapshot))).toBeGreaterThan(Math.max(firstA, firstB));
    expect(counter(await b.next(isSnapshot))).toBeGreaterThan(Math.max(firstA, firstB));
    expect(await a.next((f) => f.startsWith(':'))).toBe(': heartbeat');

    a.close();
    b.close();
    await unsubscribed;

    resetSubscription();
    const c = await openStream(`${baseUrl}/dashboard/events`, auth);
    await c.next(isSnapshot);
    await subscribed;
    expect(subscribes).toBe(2);
    c.close();
    await unsubscribed;
  });

  it('ends a stream whose token is revoked, and closing the server ends open streams', async () => {
    resetSubscription();
    const kept = await openStream(`${baseUrl}/dashboard/events`, auth);
    await kept.next(isSnapshot);
    revoked = true;
    await subscribed;
    onChange();
    await kept.ended();
    await unsubscribed;
    revoked = false;

    resetSubscription();
    const open = await openStream(`${baseUrl}/dashboard/events`, auth);
    await open.next(isSnapshot);
    await subscribed;
    await app.close();
    await open.ended();
    await unsubscribed;
  });
});

describe('dashboard with the database down', () => {
  it('renders "down" with the reason and placeholders for what it cannot know, without script errors', async () => {
    const app = Fastify();
    const error = 'connect ECONNREFUSED 127.0.0.1:5432';
    registerDashboard(app, {
      isPublic: true,
      auth: {
        identify: () => Promise.reject(new Error('not asked in public mode')),
        signIn: () => Promise.reject(new Error('not asked in public mode')),
        signOut: () => Promise.reject(new Error('not asked in public mode')),
      },
      subscribe: () => Promise.reject(new Error(error)),
      snapshot: () =>
        Promise.resolve(
          fakeSnapshot({
            status: 'down',
            reasons: [`database unreachable: ${error}`],
            uptime: { process_seconds: 200_000, deployment_seconds: null },
            database: { ok: false, latency_ms: null, error },
          }),
        ),
    });
    const baseUrl = await listen(app);
    const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    try {
      const { page, errors } = await newPage(context);
      await page.goto(`${baseUrl}/dashboard`);
      await waitForAttr(page, '[data-tile="status"]', 'data-value', 'down');
      expect(await tileValues(page)).toMatchObject({
        status: 'down',
        uptime: '200000',
        'db-latency': 'down',
        queues: 'unknown',
        'error-rate': 'unknown',
        scheduler: 'unknown',
        'runs-per-minute': 'unknown',
        scaling: 'unknown',
        alerts: 'unknown',
      });
      expect(await page.textContent('[data-tile="status"] [data-field="reasons"]')).toContain(error);
      expect(await page.textContent('[data-tile="uptime"] [data-field="process"]')).toBe('2 d 7 h');
      expect(errors).toEqual([]);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}dashboard-down.png`, fullPage: true, animations: 'disabled' });
    } finally {
      await context.close();
      await app.close();
    }
  });
});
