import type { FastifyRequest } from 'fastify';
import type { TokenIdentity } from '../../auth/tokens.js';
import type { Db } from '../../db/types.js';
import { recentAlerts, runsPerMinute, schemaReadable, type AlertRow } from '../../health/queries.js';
import type { ScalingConfig } from '../../health/scaling.js';
import { evaluateScaling, type ScalingReport } from '../../health/service.js';
import { HEALTH_TIMEOUT_MS, healthSummary, type HealthSummary, type HealthThresholds } from '../../health/summary.js';
import { createDeadline } from '../../lib/deadline.js';
import { AppError } from '../../lib/errors.js';
import type { createMetrics } from '../metrics.js';
import { alertsReply, healthSummaryReply, livenessReply, metricsReply, notReadyReply, readyReply, scalingReply } from '../responses.js';
import type { createRouter } from '../route.js';

export interface HealthDeps {
  db: Db;
  thresholds: HealthThresholds;
  scaling: ScalingConfig;
  processStartedAt: number;
  metrics: ReturnType<typeof createMetrics>;
}

/** What the dashboard shows, in one object. */
export interface DashboardSnapshot {
  summary: HealthSummary;
  scaling: ScalingReport | null;
  alerts: AlertRow[];
  runs_per_minute: { minute: number; runs: number; failed: number }[];
}

/**
 * Builds the dashboard snapshot of one tenant; without a tenant (a public dashboard) the
 * aggregate over all tenants, and no alerts (they are a tenant's). With the database down
 * only the summary is filled.
 */
export async function dashboardSnapshot(deps: HealthDeps, tenantId: string | undefined): Promise<DashboardSnapshot> {
  const summary = await healthSummary(deps.db, { ...deps.thresholds, processStartedAt: deps.processStartedAt, tenantId });
  if (!summary.database.ok) return { summary, scaling: null, alerts: [], runs_per_minute: [] };
  const [scaling, alerts, rpm] = await Promise.all([
    evaluateScaling(deps.db, deps.scaling),
    tenantId === undefined ? [] : recentAlerts(deps.db, tenantId),
    runsPerMinute(deps.db, 30, tenantId ?? null),
  ]);
  return { summary, scaling, alerts, runs_per_minute: rpm };
}

/**
 * Liveness, readiness, the guide's health summary, the scaling decision (KEDA metrics-api shape),
 * alerts and /metrics. Public (no token): the probes, the summary summed over all tenants,
 * /api/scaling and /metrics: aggregates that name no tenant. With a token, the summary is the
 * token's tenant's; /api/alerts needs one (alerts belong to a tenant).
 */
export function healthRoutes(
  router: ReturnType<typeof createRouter>,
  deps: HealthDeps,
  authenticate: (request: FastifyRequest) => Promise<TokenIdentity>,
): void {
  router.add({
    method: 'GET',
    url: '/healthz',
    operationId: 'liveness',
    tag: 'health',
    summary: 'Liveness: the process answers (no database call)',
    replies: { 200: livenessReply },
    handler: () => Promise.resolve({ ok: true as const, uptime_seconds: Math.round(process.uptime()) }),
  });
  router.add({
    method: 'GET',
    url: '/readyz',
    operationId: 'readiness',
    tag: 'health',
    summary: 'Readiness: the database answers and its schema is readable, within 1.5 s',
    replies: { 200: readyReply, 503: notReadyReply },
    handler: async ({ reply }) => {
      // A hung database (connections accepted, nothing answered) must not hang the probe.
      const deadline = createDeadline(HEALTH_TIMEOUT_MS);
      try {
        await deadline.race(schemaReadable(deps.db));
        return { ok: true as const };
      } catch (err) {
        void reply.status(503);
        return { ok: false as const, error: (err as Error).message };
      } finally {
        deadline.clear();
      }
    },
  });
  router.add({
    method: 'GET',
    url: '/api/health/summary',
    operationId: 'getHealthSummary',
    tag: 'health',
    summary:
      "Database, queues, failure rates and scheduler ticks; 503 when the database is down. Without a token summed over all tenants; with one, the token's tenant's, judged by its alert rules",
    token: 'optional',
    replies: { 200: healthSummaryReply, 503: healthSummaryReply },
    handler: async ({ request, reply }) => {
      // The guide's `curl …/api/health/summary` sends no token: it gets the aggregate form.
      const started = Date.now();
      let tenantId: string | undefined;
      if (request.headers.authorization !== undefined) {
        const deadline = createDeadline(HEALTH_TIMEOUT_MS);
        try {
          tenantId = (await deadline.race(authenticate(request))).tenant_id;
        } catch (err) {
          // A bad token is refused; a database that cannot check one leaves the aggregate, which then says "down" in time.
          if (err instanceof AppError && err.code === 'unauthorized') throw err;
        } finally {
          deadline.clear();
        }
      }
      const timeoutMs = Math.max(100, HEALTH_TIMEOUT_MS - (Date.now() - started));
      const summary = await healthSummary(deps.db, { ...deps.thresholds, processStartedAt: deps.processStartedAt, tenantId, timeoutMs });
      void reply.status(summary.status === 'down' ? 503 : 200);
      return summary;
    },
  });
  router.add({
    method: 'GET',
    url: '/api/scaling',
    operationId: 'getScaling',
    tag: 'health',
    summary: 'The replica count recommended across all replicas (KEDA metrics-api shape), with its reasons and inputs',
    replies: { 200: scalingReply },
    handler: async () => {
      const r = await evaluateScaling(deps.db, deps.scaling);
      return {
        recommendedReplicas: r.recommendedReplicas,
        decision: r.action,
        level: r.level,
        reasons: r.reasons,
        inputs: r.inputs,
        decided_at: r.decided_at,
      };
    },
  });
  router.add({
    method: 'GET',
    url: '/api/alerts',
    operationId: 'listAlerts',
    tag: 'health',
    summary: "The token's tenant's alerts: firing, and resolved in the last day (any valid token)",
    token: 'required',
    replies: { 200: alertsReply },
    handler: async ({ auth }) => ({ alerts: await recentAlerts(deps.db, auth.tenant_id) }),
  });
  router.add({
    method: 'GET',
    url: '/metrics',
    operationId: 'metrics',
    tag: 'health',
    summary: 'Prometheus metrics of this process (requests, latencies) and of the database (runs, approvals, queues)',
    replies: { 200: metricsReply },
    contentType: 'text/plain',
    handler: async ({ reply }) => {
      const { contentType, body } = await deps.metrics.render();
      void reply.header('content-type', contentType);
      return body;
    },
  });
}
