import type { Queryable } from '../db/types.js';
import { CLAIMED_RUNS_SQL } from '../runs/claim-queries.js';

// The health capability's SQL: alerts, request buckets, the scaling state, the facts behind
// the summary and /metrics, and the approval-queue checks of `levqor doctor approvals`.

/** Channel on which fired and resolved alerts are announced. */
export const ALERTS_CHANNEL = 'levqor_alerts';

export type AlertKind = 'scheduler_stale' | 'approval_queue_depth' | 'failure_rate';

export interface AlertRow {
  id: string;
  tenant_id: string;
  kind: AlertKind;
  status: 'firing' | 'resolved';
  /** What the rule measured when the alert fired. */
  message: string;
  detail: Record<string, unknown>;
  fired_at: number;
  resolved_at: number | null;
  /** What the rule measured when the alert resolved (null while firing). */
  resolved_message: string | null;
  resolved_detail: Record<string, unknown> | null;
}

const ALERT_COLUMNS =
  'id::text AS id, tenant_id::text AS tenant_id, kind, status, message, detail, fired_at, resolved_at, resolved_message, resolved_detail';

/** Fires a tenant's alert unless one of its kind is already firing (a partial unique index is the last guard). */
export async function insertFiringAlert(
  db: Queryable,
  tenantId: string,
  a: { kind: AlertKind; message: string; detail: Record<string, unknown> },
): Promise<AlertRow | undefined> {
  const { rows } = await db.query<AlertRow>(
    `INSERT INTO alerts (tenant_id, kind, status, message, detail) VALUES ($1, $2, 'firing', $3, $4::jsonb)
     ON CONFLICT (tenant_id, kind) WHERE status = 'firing' DO NOTHING RETURNING ${ALERT_COLUMNS}`,
    [tenantId, a.kind, a.message, JSON.stringify(a.detail)],
  );
  return rows[0];
}

/** Resolves the tenant's firing alert of a kind, recording what the rule measures now; undefined when none fires. */
export async function resolveAlert(
  db: Queryable,
  tenantId: string,
  a: { kind: AlertKind; message: string; detail: Record<string, unknown> },
): Promise<AlertRow | undefined> {
  const { rows } = await db.query<AlertRow>(
    `UPDATE alerts SET status = 'resolved', resolved_at = extract(epoch FROM now()), resolved_message = $3, resolved_detail = $4::jsonb
     WHERE tenant_id = $1 AND kind = $2 AND status = 'firing' RETURNING ${ALERT_COLUMNS}`,
    [tenantId, a.kind, a.message, JSON.stringify(a.detail)],
  );
  return rows[0];
}

/** Announces a fired or resolved alert on ALERTS_CHANNEL (inside a transaction: at commit). */
export async function notifyAlert(db: Queryable, a: Pick<AlertRow, 'id' | 'tenant_id' | 'kind' | 'status'>): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [
    ALERTS_CHANNEL,
    JSON.stringify({ id: a.id, tenant_id: a.tenant_id, kind: a.kind, status: a.status }),
  ]);
}

/** A tenant's firing alerts, and those resolved in the last day. */
export async function recentAlerts(db: Queryable, tenantId: string): Promise<AlertRow[]> {
  const { rows } = await db.query<AlertRow>(
    `SELECT ${ALERT_COLUMNS} FROM alerts
     WHERE tenant_id = $1 AND (status = 'firing' OR resolved_at >= extract(epoch FROM now()) - 86400)
     ORDER BY fired_at DESC, id DESC LIMIT 50`,
    [tenantId],
  );
  return rows;
}

/** A tenant's alerts, newest first: `levqor alerts history`. */
export async function alertHistory(db: Queryable, tenantId: string, limit: number): Promise<AlertRow[]> {
  const { rows } = await db.query<AlertRow>(
    `SELECT ${ALERT_COLUMNS} FROM alerts WHERE tenant_id = $1 ORDER BY fired_at DESC, id DESC LIMIT $2`,
    [tenantId, limit],
  );
  return rows;
}

/** Alerts of every tenant fired or resolved after `since` (epoch seconds), oldest first. */
export async function alertsChangedSince(db: Queryable, since: number): Promise<AlertRow[]> {
  const { rows } = await db.query<AlertRow>(
    `SELECT ${ALERT_COLUMNS} FROM alerts WHERE fired_at > $1 OR resolved_at > $1 ORDER BY fired_at, id`,
    [since],
  );
  return rows;
}

/** Health's own bookkeeping: only the last day of request buckets and a month of resolved alerts are kept. */
export async function pruneHealthBookkeeping(db: Queryable): Promise<void> {
  await db.query('DELETE FROM request_buckets WHERE minute < floor(extract(epoch FROM now()) / 60) - 1440');
  await db.query("DELETE FROM alerts WHERE status = 'resolved' AND resolved_at < extract(epoch FROM now()) - 2592000");
}

/** One minute of one replica's API requests: counts and the latency histogram. */
export interface RequestBucket {
  minute: number;
  requests: number;
  errors: number;
  hist: number[];
}

/** Adds counts to the shared per-minute rows of this instance. */
export async function addRequestBuckets(db: Queryable, instance: string, buckets: readonly RequestBucket[]): Promise<void> {
  if (buckets.length === 0) return;
  await db.query(
    `INSERT INTO request_buckets (minute, instance, requests, errors, latency_hist)
     SELECT b.minute, $1, b.requests, b.errors, ARRAY(SELECT jsonb_array_elements_text(b.hist)::int)
     FROM jsonb_to_recordset($2::jsonb) AS b(minute bigint, requests int, errors int, hist jsonb)
     ON CONFLICT (minute, instance) DO UPDATE SET
       requests = request_buckets.requests + excluded.requests,
       errors = request_buckets.errors + excluded.errors,
       latency_hist = ARRAY(SELECT a + b FROM unnest(request_buckets.latency_hist, excluded.latency_hist) AS t(a, b))`,
    [instance, JSON.stringify(buckets)],
  );
}

interface RequestLoadRow {
  /** Requests in the last complete minute, summed across replicas. */
  requests: number;
  /** Their latency histogram, summed per bucket; null without requests. */
  hist: number[] | null;
  /** Replicas that counted in the last two minutes. */
  replicas: number;
}

/** The last complete minute's requests across every API replica. */
export async function lastMinuteLoad(db: Queryable): Promise<RequestLoadRow | undefined> {
  const { rows } = await db.query<RequestLoadRow>(
    `WITH m AS (SELECT floor(extract(epoch FROM now()) / 60)::bigint AS current)
     SELECT
       coalesce((SELECT sum(requests)::int FROM request_buckets, m WHERE minute = m.current - 1), 0) AS requests,
       (SELECT array_agg(s ORDER BY i) FROM (
          SELECT i, sum(v)::int AS s FROM request_buckets, m, unnest(latency_hist) WITH ORDINALITY AS u(v, i)
          WHERE minute = m.current - 1 GROUP BY i) h) AS hist,
       (SELECT count(DISTINCT instance)::int FROM request_buckets, m WHERE minute >= m.current - 1) AS replicas`,
  );
  return rows[0];
}

interface ScalingInputsRow {
  now: number;
  /** Pending approvals + due-but-unclaimed workflows + queued runs. */
  queue: number;
  level: 'low' | 'normal' | 'high' | 'critical' | null;
  changed_at: number | null;
}

/** The database clock, the queue depth and the shared scaling state, locked until the transaction ends. */
export async function lockScalingInputs(tx: Queryable): Promise<ScalingInputsRow> {
  const { rows } = await tx.query<ScalingInputsRow>(
    `SELECT extract(epoch FROM now())::float8 AS now,
       (SELECT count(*)::int FROM approval_queue WHERE status = 'pending')
         + (SELECT count(*)::int FROM workflows WHERE is_active AND (schedule_config ->> 'enabled') = 'true'
              AND next_run_at <= extract(epoch FROM now()))
         + (SELECT count(*)::int FROM workflow_runs WHERE status = 'queued') AS queue,
       s.level, s.changed_at
     FROM (SELECT 1) one LEFT JOIN (SELECT level, changed_at FROM scaling_state WHERE id = 1 FOR UPDATE) s ON true`,
  );
  return rows[0] as ScalingInputsRow;
}

/** Stores the scaling decision every replica reads next. */
export async function saveScalingState(
  tx: Queryable,
  s: { level: string; changedAt: number; decidedAt: number; decision: Record<string, unknown> },
): Promise<void> {
  await tx.query(
    `INSERT INTO scaling_state (id, level, changed_at, decided_at, decision) VALUES (1, $1, $2, $3, $4::jsonb)
     ON CONFLICT (id) DO UPDATE SET level = excluded.level, changed_at = excluded.changed_at,
       decided_at = excluded.decided_at, decision = excluded.decision`,
    [s.level, s.changedAt, s.decidedAt, JSON.stringify(s.decision)],
  );
}

/** Runs per minute over the last `minutes` minutes, oldest first, zeros included: one tenant's, or (no tenant) all. */
export async function runsPerMinute(
  db: Queryable,
  minutes = 30,
  tenantId: string | null = null,
): Promise<{ minute: number; runs: number; failed: number }[]> {
  const { rows } = await db.query<{ minute: number; runs: number; failed: number }>(
    `WITH m AS (SELECT floor(extract(epoch FROM now()) / 60)::bigint AS current)
     SELECT g.minute * 60 AS minute, coalesce(c.runs, 0)::int AS runs, coalesce(c.failed, 0)::int AS failed
     FROM m, generate_series(m.current - $1 + 1, m.current) AS g(minute)
     LEFT JOIN (
       SELECT floor(started_at / 60)::bigint AS minute, count(*) AS runs, count(*) FILTER (WHERE status = 'failed') AS failed
       FROM workflow_runs, m WHERE started_at >= (m.current - $1 + 1) * 60 AND ($2::uuid IS NULL OR tenant_id = $2)
       GROUP BY 1
     ) c ON c.minute = g.minute
     ORDER BY g.minute`,
    [minutes, tenantId],
  );
  return rows;
}

/** A scheduler instance as the summary lists it. */
export interface SchedulerInstanceRow {
  id: string;
  hostname: string;
  pid: number;
  started_at: number;
  last_tick_at: number;
  stopped_at: number | null;
}

interface HealthFactsRow {
  now: number;
  pending_approvals: number;
  due_unclaimed_workflows: number;
  queued_runs: number;
  running_runs: number;
  waiting_approval_runs: number;
  total_1h: number;
  failed_1h: number;
  total_24h: number;
  failed_24h: number;
  schedulers: SchedulerInstanceRow[];
}

/** Everything the health summary needs, in one round trip: one tenant's queues and runs, or (null) all of them. */
export async function healthFacts(db: Queryable, tenantId: string | null = null): Promise<HealthFactsRow> {
  const { rows } = await db.query<HealthFactsRow>(
    `WITH t AS (SELECT $1::uuid AS id)
     SELECT extract(epoch FROM now())::float8 AS now,
      (SELECT count(*)::int FROM approval_queue, t WHERE (t.id IS NULL OR tenant_id = t.id) AND status = 'pending') AS pending_approvals,
      (SELECT count(*)::int FROM workflows, t WHERE (t.id IS NULL OR tenant_id = t.id) AND is_active
         AND (schedule_config ->> 'enabled') = 'true' AND next_run_at <= extract(epoch FROM now())) AS due_unclaimed_workflows,
      (SELECT count(*)::int FROM workflow_runs, t WHERE (t.id IS NULL OR tenant_id = t.id) AND status = 'queued') AS queued_runs,
      (SELECT count(*)::int FROM (SELECT tenant_id FROM workflow_runs WHERE status = 'running'
         UNION ALL SELECT tenant_id FROM (${CLAIMED_RUNS_SQL}) claimed) r, t WHERE (t.id IS NULL OR tenant_id = t.id)) AS running_runs,
      (SELECT count(*)::int FROM workflow_runs, t WHERE (t.id IS NULL OR tenant_id = t.id) AND status = 'waiting_approval') AS waiting_approval_runs,
      (SELECT count(*)::int FROM workflow_runs, t WHERE (t.id IS NULL OR tenant_id = t.id)
         AND finished_at >= extract(epoch FROM now()) - 3600 AND status IN ('succeeded', 'failed')) AS total_1h,
      (SELECT count(*)::int FROM workflow_runs, t WHERE (t.id IS NULL OR tenant_id = t.id)
         AND finished_at >= extract(epoch FROM now()) - 3600 AND status = 'failed') AS failed_1h,
      (SELECT count(*)::int FROM workflow_runs, t WHERE (t.id IS NULL OR tenant_id = t.id)
         AND finished_at >= extract(epoch FROM now()) - 86400 AND status IN ('succeeded', 'failed')) AS total_24h,
      (SELECT count(*)::int FROM workflow_runs, t WHERE (t.id IS NULL OR tenant_id = t.id)
         AND finished_at >= extract(epoch FROM now()) - 86400 AND status = 'failed') AS failed_24h,
      (SELECT coalesce(json_agg(s ORDER BY s.last_tick_at DESC), '[]'::json) FROM (
         SELECT id, hostname, pid, started_at, last_tick_at, stopped_at FROM scheduler_instances
         WHERE last_tick_at >= extract(epoch FROM now()) - 7 * 86400 ORDER BY last_tick_at DESC LIMIT 20) s) AS schedulers`,
    [tenantId],
  );
  return rows[0] as HealthFactsRow;
}

/** The cheapest round trip: does the database answer at all? */
export async function pingDatabase(db: Queryable): Promise<void> {
  await db.query('SELECT 1');
}

/** Readiness: the database answers and its schema is there. */
export async function schemaReadable(db: Queryable): Promise<void> {
  await db.query('SELECT 1 FROM levqor_migrations LIMIT 1');
}

/** One sample of /metrics: runs (last 24 h) and approvals (pending, last 30 days) by status, queue depths, tick age. */
interface MetricRow {
  kind: 'run' | 'approval' | 'queue' | 'tick';
  key: string;
  n: number;
}

/** The gauges /metrics reads from Postgres on each scrape, in one statement. */
export async function metricCounts(db: Queryable): Promise<MetricRow[]> {
  const { rows } = await db.query<MetricRow>(
    `SELECT 'run' AS kind, status AS key, count(*)::float8 AS n
       FROM (SELECT status, started_at FROM workflow_runs UNION ALL SELECT status, started_at FROM (${CLAIMED_RUNS_SQL}) claimed) r
       WHERE started_at >= extract(epoch FROM now()) - 86400 GROUP BY status
     UNION ALL SELECT 'approval', status, count(*)::float8 FROM approval_queue
       WHERE status = 'pending' OR processed_at >= extract(epoch FROM now()) - 2592000 GROUP BY status
     UNION ALL SELECT 'queue', 'due_workflows', count(*)::float8 FROM workflows
       WHERE is_active AND (schedule_config ->> 'enabled') = 'true' AND next_run_at <= extract(epoch FROM now())
     UNION ALL SELECT 'queue', 'queued_runs', count(*)::float8 FROM workflow_runs WHERE status = 'queued'
     UNION ALL SELECT 'queue', 'running_runs', count(*)::float8
       FROM (SELECT id FROM workflow_runs WHERE status = 'running' UNION ALL SELECT id FROM (${CLAIMED_RUNS_SQL}) claimed) r
     UNION ALL SELECT 'queue', 'waiting_approval_runs', count(*)::float8 FROM workflow_runs WHERE status = 'waiting_approval'
     UNION ALL SELECT 'tick', 'age', coalesce(extract(epoch FROM now()) - max(last_tick_at), -1)::float8 FROM scheduler_instances`,
  );
  return rows;
}

/** Approval requests counted by tenant (name) and status. */
export async function approvalCountsByTenant(db: Queryable): Promise<{ tenant: string; status: string; n: number }[]> {
  const { rows } = await db.query<{ tenant: string; status: string; n: number }>(
    `SELECT t.name AS tenant, a.status, count(*)::int AS n FROM approval_queue a JOIN tenants t ON t.id = a.tenant_id
     GROUP BY t.name, a.status ORDER BY t.name, a.status`,
  );
  return rows;
}

/** Runs waiting for approval without a pending request (a scheduler tick settles them). */
export async function countOrphanedWaitingRuns(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM workflow_runs r WHERE r.status = 'waiting_approval'
     AND NOT EXISTS (SELECT 1 FROM approval_queue a WHERE a.run_id = r.id AND a.status = 'pending')`,
  );
  return rows[0]?.n ?? 0;
}
