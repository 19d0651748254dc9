import type { Db } from '../../db/types.js';
import { recentAlerts, runsPerMinute, schemaReadable, type AlertRow } from '../../health/queries.js';
import type { ScalingConfig } from '../../health/scaling.js';
import { evaluateScaling, type ScalingReport } from '../../health/service.js';
import { HEALTH_TIMEOUT_MS, healthSummary, type HealthSummary, type HealthThresholds } from '../../health/summary.js';
import { createDeadline } from '../../lib/deadline.js';
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

/** Liveness, readiness, the guide's health summary, the scaling decision (KEDA metrics-api shape), alerts and /metrics. Unauthenticated: aggregates only. */
export function healthRoutes(router: ReturnType<typeof createRouter>, deps: HealthDeps): void {
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
    summary: 'Database, queues, failure rates and scheduler ticks; 503 when the database is down',
    replies: { 200: healthSummaryReply, 503: healthSummaryReply },
    handler: async ({ reply }) => {
      const summary = await healthSummary(deps.db, { ...deps.thresholds, processStartedAt: deps.processStartedAt });
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
    summary: 'Recent alerts, firing and resolved',
    replies: { 200: alertsReply },
    handler: async () => ({ alerts: await recentAlerts(deps.db) }),
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
