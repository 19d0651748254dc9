import type { Queryable } from '../db/types.js';
import { findTenant } from '../tenants/queries.js';
import { dbNow } from '../workflows/queries.js';
import { ratio } from './format.js';
import { approvalAggregates, runAggregates, workflowNames, type ApprovalAggRow, type RunAggRow } from './queries.js';

/** Runs and approvals of one workflow, or of the whole tenant. */
interface AnalyticsRow {
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

interface WorkflowAnalytics extends AnalyticsRow {
  workflow: string;
}

export interface TenantAnalytics {
  tenant: string;
  window: { days: number; from: number; to: number };
  totals: AnalyticsRow;
  workflows: WorkflowAnalytics[];
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

function toRow(r: RunAggRow | undefined, a: ApprovalAggRow | undefined): AnalyticsRow {
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
  const tenant = await findTenant(db, opts.tenantId);
  const to = opts.now ?? (await dbNow(db));
  const from = to - opts.days * 86_400;
  const runs = await runAggregates(db, opts.tenantId, from, to);
  const approvals = await approvalAggregates(db, opts.tenantId, from, to);
  const ids = [
    ...new Set([...runs, ...approvals].filter((r) => r.grp === 0 && r.workflow_id !== null).map((r) => r.workflow_id as string)),
  ];
  const nameOf = await workflowNames(db, opts.tenantId, ids);
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
    tenant: tenant?.name ?? opts.tenantId,
    window: { days: opts.days, from, to },
    totals: toRow(
      runs.find((r) => r.grp === 1),
      approvals.find((a) => a.grp === 1),
    ),
    workflows,
  };
}
