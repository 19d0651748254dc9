import type { Queryable } from '../db/types.js';

/** Run counts and durations of one period. */
export interface RunTotals {
  runs: number;
  succeeded: number;
  failed: number;
  /** Rejected, expired or cancelled: stopped by a decision, not by an error. */
  stopped: number;
  in_progress: number;
  /** Duration of finished (succeeded or failed) runs, seconds. */
  p50_seconds: number | null;
  p95_seconds: number | null;
}

export interface WorkflowWeek {
  workflow: string;
  runs: number;
  succeeded: number;
  failed: number;
  p50_seconds: number | null;
  p95_seconds: number | null;
  max_seconds: number | null;
  last_error: string | null;
  last_failed_at: number | null;
}

export interface ApprovalWeek {
  requested: number;
  approved: number;
  rejected: number;
  expired: number;
  pending: number;
  /** Time from request to a human decision (approved or rejected), seconds. */
  median_decision_seconds: number | null;
  p95_decision_seconds: number | null;
  by_class: { A: number; B: number; C: number };
  /** Votes cast this week by people the directory knows, by display name (absent when none). */
  deciders?: { name: string; votes: number }[];
}

export interface SchedulerWeek {
  scheduled_runs: number;
  /** How late scheduled runs started after their slot, seconds. */
  lag_p50_seconds: number | null;
  lag_p95_seconds: number | null;
  lag_max_seconds: number | null;
  active_schedules: number;
}

export interface SchedulerInstance {
  id: string;
  hostname: string;
  last_tick_at: number;
  stopped_at: number | null;
}

type Range = { from: number; to: number };

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** Run totals of a tenant for the runs started in [from, to). */
export async function runTotals(db: Queryable, tenantId: string, r: Range): Promise<RunTotals> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT count(*)::int AS runs,
       count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
       count(*) FILTER (WHERE status = 'failed')::int AS failed,
       count(*) FILTER (WHERE status IN ('rejected', 'expired', 'cancelled'))::int AS stopped,
       count(*) FILTER (WHERE status IN ('queued', 'running', 'waiting_approval'))::int AS in_progress,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY finished_at - started_at)
         FILTER (WHERE status IN ('succeeded', 'failed') AND finished_at IS NOT NULL) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY finished_at - started_at)
         FILTER (WHERE status IN ('succeeded', 'failed') AND finished_at IS NOT NULL) AS p95
     FROM workflow_runs WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3`,
    [tenantId, r.from, r.to],
  );
  const row = rows[0] ?? {};
  return {
    runs: Number(row.runs ?? 0),
    succeeded: Number(row.succeeded ?? 0),
    failed: Number(row.failed ?? 0),
    stopped: Number(row.stopped ?? 0),
    in_progress: Number(row.in_progress ?? 0),
    p50_seconds: num(row.p50),
    p95_seconds: num(row.p95),
  };
}

/** Per-workflow counts and durations for runs started in [from, to), with each workflow's last error. */
export async function workflowWeeks(db: Queryable, tenantId: string, r: Range): Promise<WorkflowWeek[]> {
  const { rows } = await db.query<Record<string, unknown>>(
    `WITH agg AS (
       SELECT workflow_id,
         count(*)::int AS runs,
         count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
         count(*) FILTER (WHERE status = 'failed')::int AS failed,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY finished_at - started_at)
           FILTER (WHERE status IN ('succeeded', 'failed') AND finished_at IS NOT NULL) AS p50,
         percentile_cont(0.95) WITHIN GROUP (ORDER BY finished_at - started_at)
           FILTER (WHERE status IN ('succeeded', 'failed') AND finished_at IS NOT NULL) AS p95,
         max(finished_at - started_at) FILTER (WHERE status IN ('succeeded', 'failed')) AS max_d
       FROM workflow_runs WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3
       GROUP BY workflow_id
     )
     SELECT w.name AS workflow, agg.*, last.error AS last_error, last.started_at AS last_failed_at
     FROM agg JOIN workflows w ON w.id = agg.workflow_id AND w.tenant_id = $1
     LEFT JOIN LATERAL (
       SELECT error, started_at FROM workflow_runs f
       WHERE f.workflow_id = agg.workflow_id AND f.tenant_id = $1 AND f.status = 'failed'
         AND f.started_at >= $2 AND f.started_at < $3
       ORDER BY f.started_at DESC, f.id DESC LIMIT 1
     ) last ON agg.failed > 0
     ORDER BY w.name`,
    [tenantId, r.from, r.to],
  );
  return rows.map((row) => ({
    workflow: String(row.workflow),
    runs: Number(row.runs),
    succeeded: Number(row.succeeded),
    failed: Number(row.failed),
    p50_seconds: num(row.p50),
    p95_seconds: num(row.p95),
    max_seconds: num(row.max_d),
    last_error: typeof row.last_error === 'string' ? row.last_error : null,
    last_failed_at: num(row.last_failed_at),
  }));
}

/**
 * Approval requests made in [from, to): outcomes, time to decision and the class mix
 * (A: runs started plus Class A actions; B: audited changes plus Class B actions; C: requests).
 */
export async function approvalWeek(db: Queryable, tenantId: string, r: Range, runsStarted: number): Promise<ApprovalWeek> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT count(*) FILTER (WHERE impact_class = 'C')::int AS requested,
       count(*) FILTER (WHERE impact_class = 'C' AND status = 'approved')::int AS approved,
       count(*) FILTER (WHERE impact_class = 'C' AND status = 'rejected')::int AS rejected,
       count(*) FILTER (WHERE impact_class = 'C' AND status = 'expired')::int AS expired,
       count(*) FILTER (WHERE impact_class = 'C' AND status = 'pending')::int AS pending,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY processed_at - requested_at)
         FILTER (WHERE impact_class = 'C' AND status IN ('approved', 'rejected')) AS median_d,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY processed_at - requested_at)
         FILTER (WHERE impact_class = 'C' AND status IN ('approved', 'rejected')) AS p95_d,
       count(*) FILTER (WHERE impact_class = 'A')::int AS class_a,
       count(*) FILTER (WHERE impact_class = 'B')::int AS class_b
     FROM approval_queue WHERE tenant_id = $1 AND requested_at >= $2 AND requested_at < $3`,
    [tenantId, r.from, r.to],
  );
  // Class B work is what audit_log records as it happens: B steps and B actions.
  const { rows: audit } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM audit_log
     WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3
       AND (action LIKE 'step.%' OR action IN ('workflow.activate', 'workflow.pause'))`,
    [tenantId, r.from, r.to],
  );
  const row = rows[0] ?? {};
  const deciders = await votesByPerson(db, tenantId, r);
  return {
    ...(deciders.length > 0 ? { deciders } : {}),
    requested: Number(row.requested ?? 0),
    approved: Number(row.approved ?? 0),
    rejected: Number(row.rejected ?? 0),
    expired: Number(row.expired ?? 0),
    pending: Number(row.pending ?? 0),
    median_decision_seconds: num(row.median_d),
    p95_decision_seconds: num(row.p95_d),
    by_class: {
      A: runsStarted + Number(row.class_a ?? 0),
      B: Number(audit[0]?.n ?? 0) + Number(row.class_b ?? 0),
      C: Number(row.requested ?? 0),
    },
  };
}

/** Votes cast in [from, to) by people of the directory, by their display name (the handle once they are removed). */
async function votesByPerson(db: Queryable, tenantId: string, r: Range): Promise<{ name: string; votes: number }[]> {
  const { rows } = await db.query<{ name: string; votes: number }>(
    `SELECT coalesce(p.display_name, v.person) AS name, count(*)::int AS votes
     FROM approval_votes v LEFT JOIN people p ON p.tenant_id = v.tenant_id AND p.handle = v.person
     WHERE v.tenant_id = $1 AND v.person IS NOT NULL AND v.created_at >= $2 AND v.created_at < $3
     GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10`,
    [tenantId, r.from, r.to],
  );
  return rows;
}

/** The most frequent rejection reasons of requests made in [from, to). */
export async function rejectReasons(db: Queryable, tenantId: string, r: Range, limit = 5): Promise<{ reason: string; count: number }[]> {
  const { rows } = await db.query<{ reason: string; count: number }>(
    `SELECT coalesce(nullif(btrim(reason), ''), '(no reason)') AS reason, count(*)::int AS count
     FROM approval_queue
     WHERE tenant_id = $1 AND status = 'rejected' AND requested_at >= $2 AND requested_at < $3
     GROUP BY 1 ORDER BY count DESC, reason LIMIT $4`,
    [tenantId, r.from, r.to, limit],
  );
  return rows;
}

/** How punctually the tenant's schedules ran in [from, to). */
export async function schedulerWeek(db: Queryable, tenantId: string, r: Range): Promise<SchedulerWeek> {
  const { rows } = await db.query<Record<string, unknown>>(
    `SELECT count(*)::int AS n,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY greatest(started_at - scheduled_for, 0)) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY greatest(started_at - scheduled_for, 0)) AS p95,
       max(greatest(started_at - scheduled_for, 0)) AS max_lag,
       (SELECT count(*)::int FROM workflows
          WHERE tenant_id = $1 AND is_active AND (schedule_config ->> 'enabled') = 'true') AS active_schedules
     FROM workflow_runs
     WHERE tenant_id = $1 AND trigger = 'schedule' AND scheduled_for IS NOT NULL
       AND started_at >= $2 AND started_at < $3`,
    [tenantId, r.from, r.to],
  );
  const row = rows[0] ?? {};
  return {
    scheduled_runs: Number(row.n ?? 0),
    lag_p50_seconds: num(row.p50),
    lag_p95_seconds: num(row.p95),
    lag_max_seconds: num(row.max_lag),
    active_schedules: Number(row.active_schedules ?? 0),
  };
}

/** Scheduler processes that ticked since `from` (shared by every tenant; names only). */
export async function schedulerInstances(db: Queryable, from: number): Promise<SchedulerInstance[]> {
  const { rows } = await db.query<SchedulerInstance>(
    `SELECT id, hostname, last_tick_at, stopped_at FROM scheduler_instances
     WHERE last_tick_at >= $1 ORDER BY id LIMIT 20`,
    [from],
  );
  return rows.map((r) => ({ ...r, last_tick_at: Number(r.last_tick_at), stopped_at: num(r.stopped_at) }));
}
