import type { Queryable } from '../db/types.js';
import type { HealthSummary } from './summary.js';

export type AlertKind = 'scheduler_stale' | 'approval_queue_depth' | 'failure_rate';

export interface ActiveCondition {
  kind: AlertKind;
  message: string;
  detail: Record<string, unknown>;
}

export interface AlertRow {
  id: string;
  kind: AlertKind;
  status: 'firing' | 'resolved';
  message: string;
  detail: Record<string, unknown>;
  fired_at: number;
  resolved_at: number | null;
}

/** Channel on which fired and resolved alerts are announced. */
export const ALERTS_CHANNEL = 'levqor_alerts';

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

const COLUMNS = 'id::text AS id, kind, status, message, detail, fired_at, resolved_at';

/**
 * Brings the alerts table in line with the active conditions: a new condition fires once
 * (a partial unique index keeps replicas from firing it twice), a cleared one resolves once.
 */
export async function reconcileAlerts(db: Queryable, active: ActiveCondition[]): Promise<{ fired: AlertRow[]; resolved: AlertRow[] }> {
  const fired: AlertRow[] = [];
  for (const c of active) {
    const { rows } = await db.query<AlertRow>(
      `INSERT INTO alerts (kind, status, message, detail) VALUES ($1, 'firing', $2, $3::jsonb)
       ON CONFLICT (kind) WHERE status = 'firing' DO NOTHING RETURNING ${COLUMNS}`,
      [c.kind, c.message, JSON.stringify(c.detail)],
    );
    if (rows[0]) fired.push(rows[0]);
  }
  const { rows: resolved } = await db.query<AlertRow>(
    `UPDATE alerts SET status = 'resolved', resolved_at = extract(epoch FROM now())
     WHERE status = 'firing' AND NOT (kind = ANY($1::text[])) RETURNING ${COLUMNS}`,
    [active.map((c) => c.kind)],
  );
  for (const a of [...fired, ...resolved]) {
    await db.query('SELECT pg_notify($1, $2)', [ALERTS_CHANNEL, JSON.stringify({ id: a.id, kind: a.kind, status: a.status })]);
  }
  return { fired, resolved };
}

/** Firing alerts, and those resolved in the last day. */
export async function recentAlerts(db: Queryable): Promise<AlertRow[]> {
  const { rows } = await db.query<AlertRow>(
    `SELECT ${COLUMNS} FROM alerts WHERE status = 'firing' OR resolved_at >= extract(epoch FROM now()) - 86400
     ORDER BY fired_at DESC LIMIT 50`,
  );
  return rows;
}
