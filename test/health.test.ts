import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPgDb } from '../src/db/pg.js';
import type { Db, Queryable } from '../src/db/types.js';
import { healthSummary, type HealthSummary, type HealthThresholds } from '../src/health/summary.js';
import { buildTestApp } from './helpers/api.js';
import { createReplyChecker, type OpenApiDocument } from './helpers/openapi.js';
import { createMetrics } from '../src/http/metrics.js';
import { dashboardSnapshot } from '../src/http/routes/health.js';
import { DEFAULT_SCALING } from '../src/health/scaling.js';
import { killRunningClis, parseJson, runCli } from './helpers/cli.js';
import { BACKENDS, openPgTestDb, type TestDb } from './helpers/db.js';

/** Checks an injected reply against the app's own OpenAPI document (status, media type, body). */
async function expectDocumented(app: FastifyInstance, method: string, url: string, res: LightMyRequestResponse): Promise<void> {
  const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json<OpenApiDocument>();
  createReplyChecker(doc)(method, url, {
    status: res.statusCode,
    headers: { get: (name) => res.headers[name.toLowerCase()]?.toString() ?? null },
    text: res.body,
  });
}

// GET /api/health/summary, healthSummary and `levqor health`: the facts counted from real
// rows on both backends, and a truthful 'down' within the 2 s promise when Postgres refuses
// connections or accepts them and never answers.

const THRESHOLDS: HealthThresholds = { schedulerIntervalSeconds: 60, pendingApprovalsHigh: 50, minRunsForRate: 20 };
const CLOSED_PORT_URL = 'postgres://postgres@127.0.0.1:1/levqor';
/** The product promise: the summary answers within 2 s whatever Postgres does (its own timeout is 1.5 s). */
const PROMISE_MS = 2_000;

const summaryOf = (db: Db, t: Partial<HealthThresholds> = {}, processStartedAt = Date.now() / 1000) =>
  healthSummary(db, { ...THRESHOLDS, ...t, processStartedAt });

async function resetTables(db: Queryable): Promise<void> {
  await db.exec(
    'TRUNCATE tenants, workflows, workflow_runs, workflow_events, approval_queue, scheduler_instances, request_buckets, scaling_state, alerts CASCADE',
  );
}

async function seedTenantAndWorkflow(db: Queryable): Promise<{ tenant: string; workflow: string }> {
  const t = await db.query<{ id: string }>("INSERT INTO tenants (name) VALUES ('health') RETURNING id");
  const tenant = t.rows[0]!.id;
  const w = await db.query<{ id: string }>("INSERT INTO workflows (tenant_id, name, steps) VALUES ($1, 'base', '[]') RETURNING id", [
    tenant,
  ]);
  return { tenant, workflow: w.rows[0]!.id };
}

/** `n` runs with `status`, started and finished `agoSeconds` before the database's now (finished only for terminal states). */
async function insertRuns(
  db: Queryable,
  ids: { tenant: string; workflow: string },
  status: string,
  n: number,
  agoSeconds = 60,
): Promise<void> {
  await db.query(
    `INSERT INTO workflow_runs (tenant_id, workflow_id, status, trigger, started_at, finished_at)
     SELECT $1, $2, $3, 'manual', extract(epoch FROM now()) - $4 - 5,
       CASE WHEN $3 IN ('succeeded', 'failed', 'rejected', 'expired', 'cancelled') THEN extract(epoch FROM now()) - $4 END
     FROM generate_series(1, $5::int)`,
    [ids.tenant, ids.workflow, status, agoSeconds, n],
  );
}

async function insertApprovals(
  db: Queryable,
  tenant: string,
  status: 'pending' | 'approved' | 'rejected' | 'expired',
  n: number,
): Promise<void> {
  await db.query(
    `INSERT INTO approval_queue (tenant_id, action_type, impact_class, summary, payload, payload_hash, status, requested_by, expires_at, processed_at)
     SELECT $1, 'email', 'C', 'send', '{}', 'h', $2, 'test', extract(epoch FROM now()) + 3600,
       CASE WHEN $2 = 'pending' THEN NULL ELSE extract(epoch FROM now()) END
     FROM generate_series(1, $3::int)`,
    [tenant, status, n],
  );
}

async function insertWorkflow(
  db: Queryable,
  tenant: string,
  name: string,
  opts: { active: boolean; enabled: boolean; dueInSeconds: number },
): Promise<void> {
  await db.query(
    `INSERT INTO workflows (tenant_id, name, steps, is_active, schedule_config, next_run_at)
     VALUES ($1, $2, '[]', $3, jsonb_build_object('enabled', $4::boolean, 'interval_minutes', 5), extract(epoch FROM now()) + $5)`,
    [tenant, name, opts.active, opts.enabled, opts.dueInSeconds],
  );
}

async function insertScheduler(
  db: Queryable,
  id: string,
  opts: { tickAgo: number; startedAgo?: number; stopped?: boolean },
): Promise<void> {
  await db.query(
    `INSERT INTO scheduler_instances (id, hostname, pid, started_at, last_tick_at, stopped_at)
     VALUES ($1, 'host', 42, extract(epoch FROM now()) - $3, extract(epoch FROM now()) - $2, CASE WHEN $4::boolean THEN extract(epoch FROM now()) END)`,
    [id, opts.tickAgo, opts.startedAgo ?? opts.tickAgo + 60, opts.stopped ?? false],
  );
}

/** The summary without the fields that change between two calls a moment apart. */
function stable(s: HealthSummary): Omit<HealthSummary, 'checked_at' | 'uptime' | 'database' | 'scheduler'> & { scheduler: unknown } {
  const { checked_at: _c, uptime: _u, database: _d, scheduler, ...rest } = s;
  return { ...rest, scheduler: scheduler && { ...scheduler, age_seconds: undefined, instances: scheduler.instances.map((i) => i.id) } };
}

describe.each(BACKENDS)('health summary on $name', ({ open }) => {
  let t: TestDb;
  let ids: { tenant: string; workflow: string };
  beforeAll(async () => {
    t = await open();
  });
  afterAll(async () => {
    await t.close();
  });
  beforeEach(async () => {
    await resetTables(t.db);
    ids = await seedTenantAndWorkflow(t.db);
  });

  it('an empty database: database ok, zero queues, no rates, degraded only because no scheduler ever ticked', async () => {
    const s = await summaryOf(t.db, {}, Date.now() / 1000 - 120);
    expect(s.status).toBe('degraded');
    expect(s.reasons).toEqual(['no scheduler has ever ticked against this database']);
    expect(s.database.ok).toBe(true);
    expect(s.database.error).toBeUndefined();
    expect(s.database.latency_ms).toBeGreaterThanOrEqual(0);
    expect(s.uptime.process_seconds).toBeGreaterThanOrEqual(119);
    expect(s.uptime.process_seconds).toBeLessThanOrEqual(125);
    expect(s.uptime.deployment_seconds).toBeNull();
    expect(s.queues).toEqual({
      pending_approvals: 0,
      due_unclaimed_workflows: 0,
      queued_runs: 0,
      running_runs: 0,
      waiting_approval_runs: 0,
    });
    expect(s.error_rates).toEqual([
      { window: '1h', total: 0, failed: 0, rate: null, target: 0.05, ok: true },
      { window: '24h', total: 0, failed: 0, rate: null, target: 0.05, ok: true },
    ]);
    expect(s.scheduler).toEqual({ last_tick_at: null, age_seconds: null, stale: true, instances: [] });
    expect(Date.parse(s.checked_at)).not.toBeNaN();
  });

  it('counts queue depths from the rows: pending approvals, due enabled active workflows, queued/running/waiting runs', async () => {
    await insertApprovals(t.db, ids.tenant, 'pending', 3);
    await insertApprovals(t.db, ids.tenant, 'approved', 2);
    await insertApprovals(t.db, ids.tenant, 'rejected', 1);
    await insertWorkflow(t.db, ids.tenant, 'due-1', { active: true, enabled: true, dueInSeconds: -10 });
    await insertWorkflow(t.db, ids.tenant, 'due-2', { active: true, enabled: true, dueInSeconds: -3600 });
    await insertWorkflow(t.db, ids.tenant, 'later', { active: true, enabled: true, dueInSeconds: 600 });
    await insertWorkflow(t.db, ids.tenant, 'disabled', { active: true, enabled: false, dueInSeconds: -10 });
    await insertWorkflow(t.db, ids.tenant, 'inactive', { active: false, enabled: true, dueInSeconds: -10 });
    await insertRuns(t.db, ids, 'queued', 4);
    await insertRuns(t.db, ids, 'running', 2);
    await insertRuns(t.db, ids, 'waiting_approval', 1);
    await insertRuns(t.db, ids, 'succeeded', 5);
    await insertScheduler(t.db, 'sched-a', { tickAgo: 5, startedAgo: 3600 });
    const s = await summaryOf(t.db);
    expect(s.queues).toEqual({
      pending_approvals: 3,
      due_unclaimed_workflows: 2,
      queued_runs: 4,
      running_runs: 2,
      waiting_approval_runs: 1,
    });
    expect(s).toMatchObject({ status: 'ok', reasons: [] });
    expect(s.uptime.deployment_seconds).toBeGreaterThanOrEqual(3599);
    expect(s.uptime.deployment_seconds).toBeLessThanOrEqual(3605);
  });

  it('1 failed of 40 finished in the last hour is ok (2.5 %); 5 of 40 is degraded, naming 12.5 %', async () => {
    await insertScheduler(t.db, 'sched-a', { tickAgo: 1 });
    await insertRuns(t.db, ids, 'failed', 1);
    await insertRuns(t.db, ids, 'succeeded', 39);
    await insertRuns(t.db, ids, 'running', 7); // unfinished: not in the rate
    const ok = await summaryOf(t.db);
    expect(ok.status).toBe('ok');
    expect(ok.error_rates).toEqual([
      { window: '1h', total: 40, failed: 1, rate: 0.025, target: 0.05, ok: true },
      { window: '24h', total: 40, failed: 1, rate: 0.025, target: 0.05, ok: true },
    ]);

    await t.db.query(
      "UPDATE workflow_runs SET status = 'failed' WHERE id IN (SELECT id FROM workflow_runs WHERE status = 'succeeded' LIMIT 4)",
    );
    const bad = await summaryOf(t.db);
    expect(bad.status).toBe('degraded');
    expect(bad.error_rates?.[0]).toEqual({ window: '1h', total: 40, failed: 5, rate: 0.125, target: 0.05, ok: false });
    expect(bad.reasons).toEqual([
      'workflow failure rate over 1h is 12.5 % (5 of 40), above the 5 % target',
      'workflow failure rate over 24h is 12.5 % (5 of 40), above the 5 % target',
    ]);
  });

  it('separates the hour from the day: older runs count in 24 h only, runs over a day old in neither', async () => {
    await insertScheduler(t.db, 'sched-a', { tickAgo: 1 });
    await insertRuns(t.db, ids, 'succeeded', 40, 60);
    await insertRuns(t.db, ids, 'failed', 6, 3 * 3600);
    await insertRuns(t.db, ids, 'succeeded', 24, 3 * 3600);
    await insertRuns(t.db, ids, 'failed', 50, 25 * 3600);
    const s = await summaryOf(t.db);
    expect(s.error_rates?.map((e) => [e.window, e.failed, e.total, e.ok])).toEqual([
      ['1h', 0, 40, true],
      ['24h', 6, 70, false],
    ]);
    expect(s.reasons).toEqual(['workflow failure rate over 24h is 8.6 % (6 of 70), above the 5 % target']);
  });

  it('fewer finished runs than minRunsForRate say nothing about the rate', async () => {
    await insertScheduler(t.db, 'sched-a', { tickAgo: 1 });
    await insertRuns(t.db, ids, 'failed', 3);
    await insertRuns(t.db, ids, 'succeeded', 7);
    const few = await summaryOf(t.db, { minRunsForRate: 20 });
    expect(few.status).toBe('ok');
    expect(few.error_rates?.[0]).toMatchObject({ total: 10, failed: 3, rate: 0.3, ok: true });
    const enough = await summaryOf(t.db, { minRunsForRate: 10 });
    expect(enough.status).toBe('degraded');
    expect(enough.error_rates?.[0]).toMatchObject({ total: 10, rate: 0.3, ok: false });
    expect(enough.reasons[0]).toContain('30.0 % (3 of 10)');
  });

  it('a scheduler tick within 3 intervals is fresh; older is stale and says for how long', async () => {
    await insertScheduler(t.db, 'sched-old', { tickAgo: 200 });
    const stale = await summaryOf(t.db);
    expect(stale.status).toBe('degraded');
    expect(stale.scheduler).toMatchObject({
      stale: true,
      instances: [expect.objectContaining({ id: 'sched-old', hostname: 'host', pid: 42 })],
    });
    expect(stale.scheduler?.age_seconds).toBeGreaterThanOrEqual(200);
    expect(stale.reasons).toEqual([expect.stringMatching(/^no scheduler tick for 20\d s \(more than 3 intervals of 60 s\)$/)]);
    expect(stale.uptime.deployment_seconds).toBeNull();
    // The same tick is fresh with a longer interval.
    expect((await summaryOf(t.db, { schedulerIntervalSeconds: 120 })).status).toBe('ok');

    await insertScheduler(t.db, 'sched-new', { tickAgo: 10 });
    const fresh = await summaryOf(t.db);
    expect(fresh).toMatchObject({ status: 'ok', reasons: [], scheduler: { stale: false } });
    expect(fresh.scheduler?.instances.map((i) => i.id)).toEqual(['sched-new', 'sched-old']);
    expect(fresh.scheduler?.age_seconds).toBeLessThan(15);
    const { rows } = await t.db.query<{ last_tick_at: number }>("SELECT last_tick_at FROM scheduler_instances WHERE id = 'sched-new'");
    expect(fresh.scheduler?.last_tick_at).toBe(rows[0]?.last_tick_at);
  });

  it('more pending approvals than the threshold degrade the status', async () => {
    await insertScheduler(t.db, 'sched-a', { tickAgo: 1 });
    await insertApprovals(t.db, ids.tenant, 'pending', 3);
    expect((await summaryOf(t.db, { pendingApprovalsHigh: 3 })).status).toBe('ok');
    const s = await summaryOf(t.db, { pendingApprovalsHigh: 2 });
    expect(s.status).toBe('degraded');
    expect(s.reasons).toEqual(['3 approvals pending (threshold 2): approvers may be a bottleneck']);
  });

  it('the dashboard snapshot carries the summary, the scaling decision, alerts and 30 minutes of runs', async () => {
    await insertScheduler(t.db, 'sched-a', { tickAgo: 1 });
    await insertRuns(t.db, ids, 'failed', 2, 30);
    await insertRuns(t.db, ids, 'succeeded', 3, 30);
    const snap = await dashboardSnapshot(
      { db: t.db, thresholds: THRESHOLDS, scaling: DEFAULT_SCALING, processStartedAt: Date.now() / 1000, metrics: createMetrics(t.db) },
      ids.tenant,
    );
    expect(snap.summary.status).toBe('ok');
    expect(snap.scaling).toMatchObject({ level: 'low', action: 'scale_down' });
    expect(snap.alerts).toEqual([]);
    expect(snap.runs_per_minute).toHaveLength(30);
    expect(snap.runs_per_minute.reduce((n, m) => n + m.runs, 0)).toBe(5);
    expect(snap.runs_per_minute.reduce((n, m) => n + m.failed, 0)).toBe(2);
    const minutes = snap.runs_per_minute.map((m) => m.minute);
    expect(minutes.every((m, i) => i === 0 || m - minutes[i - 1]! === 60)).toBe(true);
  });

  it('GET /api/health/summary returns the same summary as healthSummary', async () => {
    await insertScheduler(t.db, 'sched-a', { tickAgo: 1 });
    await insertRuns(t.db, ids, 'failed', 5);
    await insertRuns(t.db, ids, 'succeeded', 35);
    await insertApprovals(t.db, ids.tenant, 'pending', 2);
    const app = await buildTestApp(t.db, { startedAt: Date.now() / 1000 - 30 });
    try {
      const res = await app.inject({ method: 'GET', url: '/api/health/summary' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const body = res.json<HealthSummary>();
      const direct = await summaryOf(t.db);
      expect(Object.keys(body).sort()).toEqual(Object.keys(direct).sort());
      expect(stable(body)).toEqual(stable(direct));
      expect(body.status).toBe('degraded');
      expect(body.database).toMatchObject({ ok: true });
      expect(body.uptime.process_seconds).toBeGreaterThanOrEqual(30);
    } finally {
      await app.close();
    }
  });
});

/** A TCP server that accepts connections and never answers: Postgres hung, or a black-holed network path. */
async function startBlackHole(): Promise<{ url: string; accepted: () => number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/levqor`,
    accepted: () => accepted,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - started };
}

function expectDown(s: HealthSummary): void {
  expect(s.status).toBe('down');
  expect(s.database.ok).toBe(false);
  expect(s.database.latency_ms).toBeNull();
  expect(s.database.error).toEqual(expect.any(String));
  expect(s.database.error?.length).toBeGreaterThan(0);
  expect(s.reasons).toEqual([`database unreachable: ${s.database.error ?? ''}`]);
  expect(s).toMatchObject({ queues: null, error_rates: null, scheduler: null });
}

describe('health summary with Postgres unreachable', () => {
  let hole: Awaited<ReturnType<typeof startBlackHole>> | undefined;
  const dbs: Db[] = [];
  afterEach(async () => {
    await hole?.close();
    hole = undefined;
    await Promise.all(dbs.splice(0).map((db) => db.close()));
  });

  it('connection refused (a closed port): down, with the error, well within 2 s', async () => {
    const db = createPgDb({ connectionString: CLOSED_PORT_URL });
    dbs.push(db);
    const { value, ms } = await timed(() => summaryOf(db));
    expect(ms).toBeLessThan(PROMISE_MS);
    expectDown(value);
    expect(value.database.error).toMatch(/ECONNREFUSED/);
    expect(value.uptime.deployment_seconds).toBeNull();
  });

  it('a server that accepts and never answers: down within 2 s (the summary gives up at its 1.5 s timeout)', async () => {
    hole = await startBlackHole();
    // The pool would wait 10 s for the connection; the summary must not.
    const db = createPgDb({ connectionString: hole.url, connectTimeoutMs: 10_000 });
    dbs.push(db);
    const { value, ms } = await timed(() => summaryOf(db));
    expect(ms).toBeLessThan(PROMISE_MS);
    expect(hole.accepted()).toBeGreaterThanOrEqual(1);
    expectDown(value);
    expect(value.database.error).toBe('no answer within 1500 ms');
  });

  it('the dashboard snapshot with the database refused: the down summary only, within 2 s', async () => {
    const db = createPgDb({ connectionString: CLOSED_PORT_URL });
    dbs.push(db);
    const { value, ms } = await timed(() =>
      dashboardSnapshot(
        { db, thresholds: THRESHOLDS, scaling: DEFAULT_SCALING, processStartedAt: Date.now() / 1000, metrics: createMetrics(db) },
        undefined,
      ),
    );
    expect(ms).toBeLessThan(PROMISE_MS);
    expectDown(value.summary);
    expect(value).toMatchObject({ scaling: null, alerts: [], runs_per_minute: [] });
  });

  it('GET /api/health/summary answers 503 down within 2 s when the connection is refused', async () => {
    const db = createPgDb({ connectionString: CLOSED_PORT_URL });
    dbs.push(db);
    const app = await buildTestApp(db);
    try {
      await app.ready();
      const { value: res, ms } = await timed(() => app.inject({ method: 'GET', url: '/api/health/summary' }));
      expect(ms).toBeLessThan(PROMISE_MS);
      expect(res.statusCode).toBe(503);
      expectDown(res.json<HealthSummary>());
      await expectDocumented(app, 'GET', '/api/health/summary', res);
    } finally {
      await app.close();
    }
  });

  // /readyz used to wait for the pool's connect timeout (10 s) here.
  it.each([
    {
      url: '/api/health/summary',
      token: undefined,
      check: (body: HealthSummary) => {
        expectDown(body);
        expect(body.database.error).toBe('no answer within 1500 ms');
      },
    },
    // With a token the database must first check it: that wait shares the same bound.
    { url: '/api/health/summary', token: `lvq_${'a'.repeat(43)}`, check: (body: HealthSummary) => expectDown(body) },
    { url: '/readyz', token: undefined, check: (body: unknown) => expect(body).toEqual({ ok: false, error: 'no answer within 1500 ms' }) },
  ])('GET $url (token: $token) answers 503 within 2 s when the server hangs', async ({ url, token, check }) => {
    hole = await startBlackHole();
    // A short pool connect timeout only so that the app's start-up bucket flush gives up quickly.
    const db = createPgDb({ connectionString: hole.url, connectTimeoutMs: 2_500 });
    dbs.push(db);
    const app = await buildTestApp(db);
    try {
      await app.ready();
      const before = hole.accepted();
      const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
      const { value: res, ms } = await timed(() => app.inject({ method: 'GET', url, headers }));
      expect(ms).toBeLessThan(PROMISE_MS);
      // (The token check waits in the pool's queue behind the hung start-up connection: no new one is opened.)
      if (token === undefined) expect(hole.accepted()).toBeGreaterThan(before);
      expect(res.statusCode).toBe(503);
      check(res.json<HealthSummary>());
      await expectDocumented(app, 'GET', url, res);
    } finally {
      await hole.close();
      await app.close();
    }
  });
});

describe('levqor health (CLI)', () => {
  let t: TestDb;
  let hole: Awaited<ReturnType<typeof startBlackHole>> | undefined;
  beforeAll(async () => {
    t = await openPgTestDb();
  });
  afterAll(async () => {
    await t.close();
  });
  afterEach(async () => {
    await killRunningClis();
    await hole?.close();
    hole = undefined;
  });

  it('--json on a fresh database: degraded (no scheduler ever ticked), exit 1, the same shape as the API', async () => {
    const r = await runCli(['health', '--json'], { env: { DATABASE_URL: t.url! } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const s = parseJson<HealthSummary>(r);
    expect(s.status).toBe('degraded');
    expect(s.reasons).toEqual(['no scheduler has ever ticked against this database']);
    expect(s.database.ok).toBe(true);
    expect(s.queues).toEqual({
      pending_approvals: 0,
      due_unclaimed_workflows: 0,
      queued_runs: 0,
      running_runs: 0,
      waiting_approval_runs: 0,
    });
    expect(Object.keys(s).sort()).toEqual(['checked_at', 'database', 'error_rates', 'queues', 'reasons', 'scheduler', 'status', 'uptime']);
  });

  it('exit 0 and status ok once a scheduler ticks; the text form names the tick', async () => {
    await insertScheduler(t.db, 'cli-sched', { tickAgo: 2 });
    try {
      const r = await runCli(['health'], { env: { DATABASE_URL: t.url! } });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^status: ok\n/);
      expect(r.stdout).toMatch(/^database: ok \([\d.]+ ms\)$/m);
      expect(r.stdout).toMatch(/^scheduler: last tick \d+ s ago$/m);
    } finally {
      await t.db.query("DELETE FROM scheduler_instances WHERE id = 'cli-sched'");
    }
  });

  it('an unreachable DATABASE_URL: prints status down as JSON and exits 1 at once', async () => {
    // A connect timeout of a minute: finishing in seconds shows nothing waited for it.
    const env = { DATABASE_URL: CLOSED_PORT_URL, LEVQOR_DB_CONNECT_TIMEOUT_MS: '60000' };
    const { value: r, ms } = await timed(() => runCli(['health', '--json'], { env }));
    expect(r.code).toBe(1);
    const s = parseJson<{ status: string; reasons: string[]; database: { ok: boolean; error: string } }>(r);
    expect(s.status).toBe('down');
    expect(s.database.ok).toBe(false);
    expect(s.database.error).toMatch(/ECONNREFUSED/);
    expect(ms).toBeLessThan(10_000);
    const text = await runCli(['health'], { env });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^status: down\n {2}database unreachable: .*ECONNREFUSED/);
  });

  it('a DATABASE_URL whose server never answers: prints status down and exits 1 within the health timeout', async () => {
    hole = await startBlackHole();
    const { value: r, ms } = await timed(() => runCli(['health', '--json'], { env: { DATABASE_URL: hole!.url } }));
    expect(r.code).toBe(1);
    expect(parseJson<{ status: string }>(r).status).toBe('down');
    // The summary gives up after 1.5 s; allow for Node's start-up, but not for the 10 s connect timeout.
    expect(ms).toBeLessThan(8_000);
  });
});
