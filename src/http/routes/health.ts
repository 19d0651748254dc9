import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TokenIdentity } from '../../auth/tokens.js';
import type { Db } from '../../db/types.js';
import { recentAlerts, runsPerMinute, type AlertRow } from '../../health/queries.js';
import type { ScalingConfig } from '../../health/scaling.js';
import { evaluateScaling, type ScalingReport } from '../../health/service.js';
import { HEALTH_TIMEOUT_MS, healthSummary, type HealthSummary, type HealthThresholds } from '../../health/summary.js';
import { createDeadline } from '../../lib/deadline.js';
import { AppError } from '../../lib/errors.js';
import type { createMetrics } from '../metrics.js';

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
 * The guide's health summary, the scaling decision (KEDA metrics-api shape), alerts and /metrics.
 * Public (no token): the summary summed over all tenants, /api/scaling and /metrics: aggregates
 * that name no tenant. With a token, the summary is the token's tenant's; /api/alerts needs one
 * (alerts belong to a tenant).
 */
export function healthRoutes(
  app: FastifyInstance,
  deps: HealthDeps,
  authenticate: (request: FastifyRequest) => Promise<TokenIdentity>,
): void {
  app.get('/api/health/summary', async (request, reply) => {
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
  });
  app.get('/api/scaling', async () => {
    const r = await evaluateScaling(deps.db, deps.scaling);
    return {
      recommendedReplicas: r.recommendedReplicas,
      decision: r.action,
      level: r.level,
      reasons: r.reasons,
      inputs: r.inputs,
      decided_at: r.decided_at,
    };
  });
  app.get('/api/alerts', async (request) => ({ alerts: await recentAlerts(deps.db, (await authenticate(request)).tenant_id) }));
  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await deps.metrics.render();
    void reply.header('content-type', contentType);
    return body;
  });
}
