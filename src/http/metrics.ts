import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from '../db/types.js';
import { metricCounts } from '../health/queries.js';

/**
 * Prometheus metrics of one API process: request counts and latencies per route (recorded
 * here), and runs, approvals, queue depths and scheduler tick age (read from Postgres on scrape).
 */
export function createMetrics(db: Db) {
  const registry = new Registry();
  const requests = new Counter({
    name: 'levqor_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'levqor_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['method', 'route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const runs = new Gauge({
    name: 'levqor_runs',
    help: 'Workflow runs started in the last 24 h by status',
    labelNames: ['status'],
    registers: [registry],
  });
  const approvals = new Gauge({
    name: 'levqor_approvals',
    help: 'Approval requests by status (processed ones: last 30 days)',
    labelNames: ['status'],
    registers: [registry],
  });
  const queues = new Gauge({ name: 'levqor_queue_depth', help: 'Queue depths', labelNames: ['queue'], registers: [registry] });
  const tickAge = new Gauge({
    name: 'levqor_scheduler_tick_age_seconds',
    help: 'Seconds since the most recent scheduler tick (-1: never)',
    registers: [registry],
  });

  async function collect(): Promise<void> {
    const rows = await metricCounts(db);
    runs.reset();
    approvals.reset();
    for (const status of ['queued', 'running', 'waiting_approval', 'succeeded', 'failed', 'rejected', 'expired', 'cancelled'])
      runs.set({ status }, 0);
    for (const status of ['pending', 'approved', 'rejected', 'expired']) approvals.set({ status }, 0);
    for (const r of rows) {
      if (r.kind === 'run') runs.set({ status: r.key }, r.n);
      else if (r.kind === 'approval') approvals.set({ status: r.key }, r.n);
      else if (r.kind === 'queue') queues.set({ queue: r.key }, r.n);
      else tickAge.set(r.n);
    }
  }

  return {
    registry,
    observe(method: string, route: string, status: number, seconds: number): void {
      requests.inc({ method, route, status: String(status) });
      latency.observe({ method, route }, seconds);
    },
    async render(): Promise<{ contentType: string; body: string }> {
      await collect();
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
