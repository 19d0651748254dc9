import type { Queryable } from '../db/types.js';
import { AppError } from '../lib/errors.js';
import { findTenant, type TenantRow } from '../tenants/queries.js';
import { dbNow } from '../workflows/queries.js';
import {
  approvalWeek,
  rejectReasons,
  runTotals,
  schedulerInstances,
  schedulerWeek,
  workflowWeeks,
  type ApprovalWeek,
  type RunTotals,
  type SchedulerInstance,
  type SchedulerWeek,
  type WorkflowWeek,
} from './weekly-queries.js';
import { formatIsoWeek, parseIsoWeek, previousIsoWeek, weekBefore, weekBounds } from './week.js';

/** Everything a weekly report shows, as plain values: rendering is a pure function of it. */
export interface WeeklyData {
  tenant: string;
  timezone: string;
  week: string;
  /** [from, to) in epoch seconds: Monday 00:00 to the next Monday 00:00 in the tenant's time zone. */
  from: number;
  to: number;
  previous_week: string;
  /** The instant the report describes the scheduler at: now, or the week's end when that is earlier. */
  as_of: number;
  runs: RunTotals;
  previous_runs: RunTotals;
  workflows: WorkflowWeek[];
  approvals: ApprovalWeek;
  previous_approvals: ApprovalWeek;
  reject_reasons: { reason: string; count: number }[];
  scheduler: SchedulerWeek;
  scheduler_instances: SchedulerInstance[];
}

export interface WeeklyOptions {
  tenantId: string;
  /** "YYYY-Www"; default: the last complete week before `now` in the tenant's time zone. */
  week?: string;
  /** Epoch seconds (default: the database's clock). */
  now?: number;
}

async function tenantOf(db: Queryable, tenantId: string): Promise<TenantRow> {
  const tenant = await findTenant(db, tenantId);
  if (!tenant) throw new AppError('not_found', `tenant ${tenantId} not found`);
  return tenant;
}

/** Gathers a tenant's week (and the week before, for the change) with SQL aggregates. */
export async function collectWeeklyData(db: Queryable, opts: WeeklyOptions): Promise<WeeklyData> {
  const tenant = await tenantOf(db, opts.tenantId);
  const now = opts.now ?? (await dbNow(db));
  const week = opts.week ? parseIsoWeek(opts.week) : previousIsoWeek(now, tenant.timezone);
  const prev = weekBefore(week);
  const cur = weekBounds(week, tenant.timezone);
  const before = weekBounds(prev, tenant.timezone);
  // One query at a time: the caller's Queryable may be a single connection or transaction.
  const runs = await runTotals(db, opts.tenantId, cur);
  const previousRuns = await runTotals(db, opts.tenantId, before);
  return {
    tenant: tenant.name,
    timezone: tenant.timezone,
    week: formatIsoWeek(week),
    from: cur.from,
    to: cur.to,
    previous_week: formatIsoWeek(prev),
    as_of: Math.min(now, cur.to),
    runs,
    previous_runs: previousRuns,
    workflows: await workflowWeeks(db, opts.tenantId, cur),
    approvals: await approvalWeek(db, opts.tenantId, cur, runs.runs),
    previous_approvals: await approvalWeek(db, opts.tenantId, before, previousRuns.runs),
    reject_reasons: await rejectReasons(db, opts.tenantId, cur),
    scheduler: await schedulerWeek(db, opts.tenantId, cur),
    scheduler_instances: await schedulerInstances(db, cur.from),
  };
}
