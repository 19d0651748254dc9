import type { Queryable } from '../db/types.js';
import { insertFiringAlert, notifyAlert, resolveAlertsExcept, type AlertKind, type AlertRow } from './queries.js';
import type { HealthSummary } from './summary.js';

export interface ActiveCondition {
  kind: AlertKind;
  message: string;
  detail: Record<string, unknown>;
}

/** The guide's "Monitoring Best Practices" as conditions over a health summary (pure). */
export function alertConditions(summary: HealthSummary, t: { pendingApprovalsHigh: number; minRunsForRate: number }): ActiveCondition[] {
  const out: ActiveCondition[] = [];
  if (summary.scheduler?.stale) {
    out.push({
      kind: 'scheduler_stale',
      message:
        summary.scheduler.last_tick_at === null
          ? 'no scheduler has ever ticked'
          : `no scheduler tick for ${Math.round(summary.scheduler.age_seconds ?? 0)} s`,
      detail: { last_tick_at: summary.scheduler.last_tick_at },
    });
  }
  const pending = summary.queues?.pending_approvals ?? 0;
  if (pending > t.pendingApprovalsHigh) {
    out.push({
      kind: 'approval_queue_depth',
      message: `${pending} approvals pending (threshold ${t.pendingApprovalsHigh})`,
      detail: { pending, threshold: t.pendingApprovalsHigh },
    });
  }
  const hour = summary.error_rates?.find((e) => e.window === '1h');
  if (hour && hour.rate !== null && hour.total >= t.minRunsForRate && hour.rate > hour.target) {
    out.push({
      kind: 'failure_rate',
      message: `workflow failure rate ${(hour.rate * 100).toFixed(1)} % over the last hour (${hour.failed} of ${hour.total}), above 5 %`,
      detail: { rate: hour.rate, failed: hour.failed, total: hour.total },
    });
  }
  return out;
}

/**
 * Brings the alerts table in line with the active conditions: a new condition fires once
 * (a partial unique index keeps replicas from firing it twice), a cleared one resolves once.
 */
export async function reconcileAlerts(db: Queryable, active: ActiveCondition[]): Promise<{ fired: AlertRow[]; resolved: AlertRow[] }> {
  const fired: AlertRow[] = [];
  for (const c of active) {
    const row = await insertFiringAlert(db, c);
    if (row) fired.push(row);
  }
  const resolved = await resolveAlertsExcept(
    db,
    active.map((c) => c.kind),
  );
  for (const a of [...fired, ...resolved]) await notifyAlert(db, a);
  return { fired, resolved };
}
