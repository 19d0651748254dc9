import type { Queryable } from '../db/types.js';
import { ratio } from './format.js';

/** Runs and approvals of one workflow, or of the whole tenant. */
export interface AnalyticsRow {
  runs: number;
  succeeded: number;
  failed: number;
  /** succeeded / (succeeded + failed); null without finished runs. */
  success_rate: number | null;
  failure_rate: number | null;
  p50_duration_seconds: number | null;
  p95_duration_seconds: number | null;
  approvals_requested: number;
  approvals_approved: number;
  approvals_rejected: number;
  approvals_expired: number;
  approvals_pending: number;
  median_decision_seconds: number | null;
}

export interface WorkflowAnalytics extends AnalyticsRow {
  workflow: string;
}

export interface TenantAnalytics {
  tenant: string;
  window: { days: number; from: number; to: number };
  totals: AnalyticsRow;
  workflows: WorkflowAnalytics[];
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

interface RunAgg {
  workflow_id: string | null;
  grp: number;
  runs: number;
  succeeded: number;
  failed: number;
  p50: unknown;
  p95: unknown;
}
interface ApprovalAgg {
  workflow_id: string | null;
  grp: number;
  requested: number;
  approved: number;
  rejected: number;
  expired: number;
  pending: number;
  median_d: unknown;
}

/** Runs started in [from, to) by workflow, and in total (the grouping set with grp = 1). */
async function runAggregates(db: Queryable, tenantId: string, from: number, to: number): Promise<RunAgg[]> {
  const { rows } = await db.query<RunAgg>(
    `SELECT workflow_id, GROUPING(workflow_id)::int AS grp, count(*)::int AS runs,
       count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
       count(*) FILTER (WHERE status = 'failed')::int AS failed,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY finished_at - started_at)
         FILTER (WHERE status IN ('succeeded', 'failed') AND finished_at IS NOT NULL) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY finished_at - started_at)
         FILTER (WHERE status IN ('succeeded', 'failed') AND finished_at IS NOT NULL) AS p95
     FROM workflow_runs WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3
     GROUP BY GROUPING SETS ((workflow_id), ())`,
    [tenantId, from, to],
  );
  return rows;
}

/** Class C requests made in [from, to) by workflow (submitted actions have none), and in total. */
async function approvalAggregates(db: Queryable, tenantId: string, from: number, to: number): Promise<ApprovalAgg[]> {
  const { rows } = await db.query<ApprovalAgg>(
    `SELECT workflow_id, GROUPING(workflow_id)::int AS grp, count(*)::int AS requested,
       count(*) FILTER (WHERE status = 'approved')::int AS approved,
       count(*) FILTER (WHERE status = 'rejected')::int AS rejected,
       count(*) FILTER (WHERE status = 'expired')::int AS expired,
       count(*) FILTER (WHERE status = 'pending')::int AS pending,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY processed_at - requested_at)
         FILTER (WHERE status IN ('approved', 'rejected')) AS median_d
     FROM approval_queue WHERE tenant_id = $1 AND impact_class = 'C' AND requested_at >= $2 AND requested_at < $3
     GROUP BY GROUPING SETS ((workflow_id), ())`,
    [tenantId, from, to],
  );
  return rows;
}

function toRow(r: RunAgg | undefined, a: ApprovalAgg | undefined): AnalyticsRow {
  const succeeded = r?.succeeded ?? 0;
  const failed = r?.failed ?? 0;
  return {
    runs: r?.runs ?? 0,
    succeeded,
    failed,
    success_rate: ratio(succeeded, succeeded + failed),
    failure_rate: ratio(failed, succeeded + failed),
    p50_duration_seconds: num(r?.p50),
    p95_duration_seconds: num(r?.p95),
    approvals_requested: a?.requested ?? 0,
    approvals_approved: a?.approved ?? 0,
    approvals_rejected: a?.rejected ?? 0,
    approvals_expired: a?.expired ?? 0,
    approvals_pending: a?.pending ?? 0,
    median_decision_seconds: num(a?.median_d),
  };
}

/**
 * A tenant's analytics over the last `days` days before `now` (default: the database's
 * clock): totals and one row per workflow that ran or asked for approval, by name.
 * Computed with SQL aggregates; rows are never loaded into JavaScript.
 */
export async function tenantAnalytics(db: Queryable, opts: { tenantId: string; days: number; now?: number }): Promise<TenantAnalytics> {
  const { rows: meta } = await db.query<{ name: string; now: number }>(
    'SELECT name, extract(epoch FROM now())::float8 AS now FROM tenants WHERE id = $1',
    [opts.tenantId],
  );
  const to = opts.now ?? Number(meta[0]?.now ?? 0);
  const from = to - opts.days * 86_400;
  const runs = await runAggregates(db, opts.tenantId, from, to);
  const approvals = await approvalAggregates(db, opts.tenantId, from, to);
  const ids = [
    ...new Set([...runs, ...approvals].filter((r) => r.grp === 0 && r.workflow_id !== null).map((r) => r.workflow_id as string)),
  ];
  const { rows: names } = await db.query<{ id: string; name: string }>(
    'SELECT id, name FROM workflows WHERE tenant_id = $1 AND id = ANY($2::uuid[])',
    [opts.tenantId, ids],
  );
  const nameOf = new Map(names.map((n) => [n.id, n.name]));
  const workflows = ids
    .map((id) => ({
      workflow: nameOf.get(id) ?? id,
      ...toRow(
        runs.find((r) => r.grp === 0 && r.workflow_id === id),
        approvals.find((a) => a.grp === 0 && a.workflow_id === id),
      ),
    }))
    .sort((a, b) => (a.workflow < b.workflow ? -1 : a.workflow > b.workflow ? 1 : 0));
  return {
    tenant: meta[0]?.name ?? opts.tenantId,
    window: { days: opts.days, from, to },
    totals: toRow(
      runs.find((r) => r.grp === 1),
      approvals.find((a) => a.grp === 1),
    ),
    workflows,
  };
}
