import type { FastifyInstance } from 'fastify';
import type { Db } from '../../db/types.js';
import { recentAlerts, runsPerMinute, type AlertRow } from '../../health/queries.js';
import type { ScalingConfig } from '../../health/scaling.js';
import { evaluateScaling, type ScalingReport } from '../../health/service.js';
import { healthSummary, type HealthSummary, type HealthThresholds } from '../../health/summary.js';
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

/** Builds the dashboard snapshot; with the database down only the summary is filled. */
export async function dashboardSnapshot(deps: HealthDeps): Promise<DashboardSnapshot> {
  const summary = await healthSummary(deps.db, { ...deps.thresholds, processStartedAt: deps.processStartedAt });
  if (!summary.database.ok) return { summary, scaling: null, alerts: [], runs_per_minute: [] };
  const [scaling, alerts, rpm] = await Promise.all([
    evaluateScaling(deps.db, deps.scaling),
    recentAlerts(deps.db),
    runsPerMinute(deps.db, 30),
  ]);
  return { summary, scaling, alerts, runs_per_minute: rpm };
}

/** The guide's health summary, the scaling decision (KEDA metrics-api shape), alerts and /metrics. Unauthenticated: aggregates only. */
export function healthRoutes(app: FastifyInstance, deps: HealthDeps): void {
  app.get('/api/health/summary', async (_request, reply) => {
    const summary = await healthSummary(deps.db, { ...deps.thresholds, processStartedAt: deps.processStartedAt });
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
  app.get('/api/alerts', async () => ({ alerts: await recentAlerts(deps.db) }));
  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await deps.metrics.render();
    void reply.header('content-type', contentType);
    return body;
  });
}
