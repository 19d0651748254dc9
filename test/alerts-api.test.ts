import { beforeAll, describe, expect, it } from 'vitest';
import { defaultAlertThresholds } from '../src/health/alert-rules.js';
import { evaluateAllAlerts, setAlertRule } from '../src/health/alerts.js';
import type { AlertRow } from '../src/health/queries.js';
import type { HealthSummary } from '../src/health/summary.js';
import { makeApiTenant, useTestApi, type ApiTenant } from './helpers/api.js';
import { BACKENDS } from './helpers/db.js';

// What answers without a token (liveness, readiness, the aggregate health summary the guide
// curls, /api/scaling for KEDA, /metrics for Prometheus, the OpenAPI document) and what is the
// token's tenant's: /api/alerts, the summary with a token, the dashboard snapshot.

const DEFAULTS = defaultAlertThresholds({ schedulerIntervalSeconds: 60, pendingApprovalsHigh: 50 });

interface OpenApiDoc {
  paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>>;
}

describe.each(BACKENDS)('public and tenant-scoped endpoints on $name', ({ open }) => {
  const { t, api } = useTestApi(open);
  let a: ApiTenant;
  let b: ApiTenant;

  beforeAll(async () => {
    a = await makeApiTenant(t.db);
    b = await makeApiTenant(t.db);
    await t.db.query(
      "INSERT INTO scheduler_instances (id, hostname, pid, started_at, last_tick_at) VALUES ('s', 'h', 1, extract(epoch FROM now()), extract(epoch FROM now()))",
    );
    for (const [x, n] of [
      [a, 3],
      [b, 5],
    ] as const) {
      await setAlertRule(t.db, x.tenant.id, 'approval_queue_depth', { threshold: 2, by: 'test' }, DEFAULTS);
      await t.db.query(
        `INSERT INTO approval_queue (tenant_id, action_type, impact_class, summary, payload, payload_hash, status, requested_by, expires_at)
         SELECT $1, 'email', 'C', 'send', '{}', 'h', 'pending', 'test', extract(epoch FROM now()) + 3600 FROM generate_series(1, $2::int)`,
        [x.tenant.id, n],
      );
    }
    await evaluateAllAlerts(t.db, { defaults: DEFAULTS, by: 'test' });
  });

  it.each([
    ['/healthz', 200],
    ['/readyz', 200],
    ['/api/health/summary', 200],
    ['/api/scaling', 200],
    ['/metrics', 200],
    ['/api/openapi.json', 200],
    ['/api/alerts', 401],
    ['/dashboard/snapshot.json', 401],
  ])('GET %s without a token answers %i', async (path, status) => {
    expect((await api.request('GET', path)).status).toBe(status);
  });

  it('every operation of the OpenAPI document that declares security refuses a request without a token (401)', async () => {
    const doc = (await api.request<OpenApiDoc>('GET', '/api/openapi.json')).json;
    const secured = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        // Secured: every alternative names the bearer scheme ([] is public; a {} alternative makes the token optional).
        .filter(([, op]) => !!op.security?.length && op.security.every((s) => 'bearer' in s))
        .map(([method, _op]) => ({ method: method.toUpperCase(), path: path.replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000') })),
    );
    expect(secured.length).toBeGreaterThan(10);
    for (const op of secured) expect((await api.request(op.method, op.path)).status, `${op.method} ${op.path}`).toBe(401);
  });

  it("tenant A's token sees A's alerts only, with A's count; B's token B's", async () => {
    for (const [x, message] of [
      [a, '3 approvals pending (threshold 2)'],
      [b, '5 approvals pending (threshold 2)'],
    ] as const) {
      const res = await api.request<{ alerts: AlertRow[] }>('GET', '/api/alerts', { token: x.token('ops') });
      expect(res.status, res.text).toBe(200);
      expect(res.json.alerts.map((al) => [al.tenant_id, al.kind, al.status, al.message])).toEqual([
        [x.tenant.id, 'approval_queue_depth', 'firing', message],
      ]);
    }
    expect((await api.request('GET', '/api/alerts', { token: 'lvq_not-a-token' })).status).toBe(401);
  });

  it("the health summary with a token counts the token's tenant; without one, the aggregate over all tenants", async () => {
    const pending = async (token?: string) => {
      const res = await api.request<HealthSummary>('GET', '/api/health/summary', token ? { token } : {});
      expect(res.status, res.text).toBe(200);
      return res.json.queues?.pending_approvals;
    };
    expect(await pending(a.token('ops'))).toBe(3);
    expect(await pending(b.token('ops'))).toBe(5);
    expect(await pending()).toBe(8);
    // A tenant's summary judges by its rules (threshold 2), as its alerts do; the aggregate by the configuration (50).
    const mine = await api.request<HealthSummary>('GET', '/api/health/summary', { token: a.token('ops') });
    expect(mine.json.reasons).toContain('3 approvals pending (threshold 2): approvers may be a bottleneck');
    const all = await api.request<HealthSummary>('GET', '/api/health/summary');
    expect(all.json.reasons.filter((r) => r.includes('approvals pending'))).toEqual([]);
    // A bad token is refused, not read as "no token".
    expect((await api.request('GET', '/api/health/summary', { token: 'lvq_not-a-token' })).status).toBe(401);
  });

  it("the dashboard snapshot is the viewer's tenant's", async () => {
    const res = await api.request<{ summary: HealthSummary; alerts: AlertRow[] }>('GET', '/dashboard/snapshot.json', {
      token: a.token('ops'),
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json.summary.queues?.pending_approvals).toBe(3);
    expect(res.json.alerts.map((al) => al.tenant_id)).toEqual([a.tenant.id]);
  });
});
