import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantAnalytics } from '../src/reports/analytics.js';
import { tenantAnalytics } from '../src/reports/analytics.js';
import { collectWeeklyData } from '../src/reports/weekly.js';
import { startApi, makeApiTenant, type ApiTenant, type TestApi } from './helpers/api.js';
import { openPgTestDb, useTestDb, type TestDb } from './helpers/db.js';
import { seedReportFixture } from './report-fixture.js';

describe('GET /api/analytics and POST /api/events', () => {
  let t: TestDb;
  let api: TestApi;
  let a: ApiTenant;
  let b: ApiTenant;
  beforeAll(async () => {
    t = await openPgTestDb();
    api = await startApi(t.db);
    a = await makeApiTenant(t.db, { ops: 'all', reader: ['analytics:read'], runsOnly: ['runs:read'] });
    b = await makeApiTenant(t.db, { ops: 'all' });
    const wf = await t.db.query<{ id: string }>(`INSERT INTO workflows (tenant_id, name, steps) VALUES ($1, 'sync', '[]') RETURNING id`, [
      a.tenant.id,
    ]);
    // 20 runs in the last day: 3 failed, durations 1 … 20 s.
    await t.db.query(
      `INSERT INTO workflow_runs (tenant_id, workflow_id, status, trigger, started_at, finished_at)
       SELECT $1, $2, CASE WHEN i % 7 = 0 THEN 'failed' ELSE 'succeeded' END, 'manual', extract(epoch FROM now()) - 3600 - i, extract(epoch FROM now()) - 3600
       FROM generate_series(1, 20) AS i`,
      [a.tenant.id, wf.rows[0]?.id],
    );
  });
  afterAll(async () => {
    await api.close();
    await t.close();
  });

  it('returns per-workflow and tenant totals that match independent counts', async () => {
    const res = await api.request<TenantAnalytics>('GET', '/api/analytics?days=7', { token: a.token('reader') });
    expect(res.status).toBe(200);
    expect(res.json.window.days).toBe(7);
    expect(res.json.totals).toMatchObject({
      runs: 20,
      succeeded: 18,
      failed: 2,
      failure_rate: 0.1,
      success_rate: 0.9,
      p50_duration_seconds: 10.5,
    });
    expect(res.json.totals.p95_duration_seconds).toBeCloseTo(19.05, 6);
    expect(res.json.workflows.map((w) => [w.workflow, w.runs])).toEqual([['sync', 20]]);
  });

  it('sees only its own tenant', async () => {
    const res = await api.request<TenantAnalytics>('GET', '/api/analytics', { token: b.token('ops') });
    expect(res.status).toBe(200);
    expect(res.json.totals.runs).toBe(0);
    expect(res.json.workflows).toEqual([]);
  });

  it('needs a token with the analytics:read scope, and names a bad parameter', async () => {
    expect((await api.request('GET', '/api/analytics')).status).toBe(401);
    const forbidden = await api.request('GET', '/api/analytics', { token: a.token('runsOnly') });
    expect(forbidden.status).toBe(403);
    expect(forbidden.json.message).toContain('analytics:read');
    const bad = await api.request('GET', '/api/analytics?days=0', { token: a.token('reader') });
    expect(bad.status).toBe(400);
    expect(bad.json.message).toMatch(/query\.days/);
    expect((await api.request('GET', '/api/analytics?days=7&tenant=x', { token: a.token('reader') })).status).toBe(400);
  });

  it('stores a batch of events for the token tenant; a retried event_id is not stored twice', async () => {
    const events = [
      { user_id: 'ann@a.example', event: 'login', event_id: 'e1' },
      { user_id: 'bob@a.example', event: 'workflow.edit', properties: { workflow: 'sync' }, event_id: 'e2' },
      { user_id: 'ann@a.example', event: 'dashboard.view' },
    ];
    const first = await api.request<{ accepted: number; duplicates: number }>('POST', '/api/events', {
      token: a.token('ops'),
      body: { events },
    });
    expect(first.status).toBe(202);
    expect(first.json).toEqual({ accepted: 3, duplicates: 0 });
    const retry = await api.request<{ accepted: number; duplicates: number }>('POST', '/api/events', {
      token: a.token('ops'),
      body: { events: events.slice(0, 2) },
    });
    expect(retry.json).toEqual({ accepted: 0, duplicates: 2 });
    // Tenant B may use the same event ids: they are its own.
    const other = await api.request<{ accepted: number }>('POST', '/api/events', {
      token: b.token('ops'),
      body: { events: events.slice(0, 1) },
    });
    expect(other.json.accepted).toBe(1);
    const { rows } = await t.db.query<{ tenant_id: string; n: number }>(
      'SELECT tenant_id, count(*)::int AS n FROM engagement_events GROUP BY 1 ORDER BY 2',
    );
    expect(rows).toEqual([
      { tenant_id: b.tenant.id, n: 1 },
      { tenant_id: a.tenant.id, n: 3 },
    ]);
  });

  it.each([
    [
      {
        events: [
          { user_id: 'u', event: 'ok' },
          { user_id: 'u', event: 'bad event!' },
        ],
      },
      'body.events[1].event',
    ],
    [{ events: [{ event: 'login' }] }, 'body.events[0].user_id'],
    [{ events: [] }, 'body.events'],
    [{ events: Array.from({ length: 501 }, () => ({ user_id: 'u', event: 'e' })) }, 'body.events'],
    [{ events: [{ user_id: 'u', event: 'e', extra: 1 }] }, 'extra'],
    [{ events: [{ user_id: 'u', event: 'e', created_at: 1 }] }, 'body.events[0].created_at'],
    [{ events: [{ user_id: 'u', event: 'e', properties: { blob: 'x'.repeat(9_000) } }] }, 'body.events[0].properties'],
  ])('refuses bad batch %#, naming the field, and stores nothing', async (body, field) => {
    const before = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM engagement_events');
    const res = await api.request('POST', '/api/events', { token: a.token('ops'), body });
    expect(res.status).toBe(400);
    expect(res.json.message).toContain(field);
    const after = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM engagement_events');
    expect(after.rows[0]?.n).toBe(before.rows[0]?.n);
  });

  it('accepts 500 events in one batch, and needs events:write', async () => {
    const events = Array.from({ length: 500 }, (_, i) => ({ user_id: `u${i % 50}@a.example`, event: 'login' }));
    const res = await api.request<{ accepted: number }>('POST', '/api/events', { token: a.token('ops'), body: { events } });
    expect(res.json.accepted).toBe(500);
    expect((await api.request('POST', '/api/events', { token: a.token('reader'), body: { events: events.slice(0, 1) } })).status).toBe(403);
  });
});

describe('a 1,000,000-run history', () => {
  const t = useTestDb();

  it('aggregates to the same numbers as independent count queries', async () => {
    const tenant = await seedReportFixture(t.db, 'big');
    const now = Date.UTC(2025, 9, 28, 9) / 1000;
    const { rows: wfs } = await t.db.query<{ id: string }>('SELECT id FROM workflows WHERE tenant_id = $1 ORDER BY name', [tenant.id]);
    // 1,000,000 runs spread over the 8 weeks before `now`, across the fixture's workflows.
    await t.db.query(
      `INSERT INTO workflow_runs (tenant_id, workflow_id, status, trigger, started_at, finished_at, error)
       SELECT $1, ($2::uuid[])[1 + i % array_length($2::uuid[], 1)],
         CASE WHEN i % 23 = 0 THEN 'failed' WHEN i % 101 = 0 THEN 'rejected' ELSE 'succeeded' END, 'manual',
         $3::float8 - 4838400 + i * 4.8384, $3::float8 - 4838400 + i * 4.8384 + (i % 1000) / 100.0,
         CASE WHEN i % 23 = 0 THEN 'boom ' || (i % 5) END
       FROM generate_series(0, 999999) AS i`,
      [tenant.id, wfs.map((w) => w.id), now],
    );
    const { rows: all } = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM workflow_runs WHERE tenant_id = $1', [tenant.id]);
    expect(all[0]?.n).toBeGreaterThanOrEqual(1_000_000);

    const data = await collectWeeklyData(t.db, { tenantId: tenant.id, week: '2025-W43' });
    const count = async (where: string) =>
      (
        await t.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM workflow_runs WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3 AND ${where}`,
          [tenant.id, data.from, data.to],
        )
      ).rows[0]?.n;
    expect(data.runs.runs).toBe(await count('true'));
    expect(data.runs.failed).toBe(await count(`status = 'failed'`));
    expect(data.runs.succeeded).toBe(await count(`status = 'succeeded'`));
    expect(data.workflows.reduce((n, w) => n + w.runs, 0)).toBe(data.runs.runs);
    expect(data.runs.runs).toBeGreaterThan(100_000);

    const analytics = await tenantAnalytics(t.db, { tenantId: tenant.id, days: 28, now });
    const { rows: direct } = await t.db.query<{ n: number; failed: number }>(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE status = 'failed')::int AS failed FROM workflow_runs WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3`,
      [tenant.id, now - 28 * 86_400, now],
    );
    expect(analytics.totals.runs).toBe(direct[0]?.n);
    expect(analytics.totals.failed).toBe(direct[0]?.failed);
    expect(analytics.workflows.reduce((n, w) => n + w.runs, 0)).toBe(direct[0]?.n);
  }, 300_000);
});
