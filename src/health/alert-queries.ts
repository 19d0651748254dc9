import type { Queryable } from '../db/types.js';
import type { AlertRule } from './alert-rules.js';
import type { AlertKind } from './queries.js';

// The SQL of tenant alert rules and of the per-tenant evaluation lock.

const RULE_COLUMNS = 'rule, threshold, enabled, updated_at, updated_by';

/** Stores the starting values of any rule the tenant does not have yet (existing rules keep theirs). */
export async function seedAlertRules(db: Queryable, tenantId: string, thresholds: Record<AlertKind, number>, by: string): Promise<void> {
  await db.query(
    `INSERT INTO alert_rules (tenant_id, rule, threshold, updated_by)
     SELECT $1, r.key, r.value::float8, $3 FROM jsonb_each_text($2::jsonb) AS r
     ON CONFLICT (tenant_id, rule) DO NOTHING`,
    [tenantId, JSON.stringify(thresholds), by],
  );
}

/** A tenant's stored rules in evaluation order. */
export async function listAlertRules(db: Queryable, tenantId: string): Promise<AlertRule[]> {
  const { rows } = await db.query<AlertRule>(
    `SELECT ${RULE_COLUMNS} FROM alert_rules WHERE tenant_id = $1
     ORDER BY array_position(ARRAY['scheduler_stale', 'approval_queue_depth', 'failure_rate'], rule)`,
    [tenantId],
  );
  return rows;
}

/** Changes a tenant's rule (unset fields keep their value); undefined when the rule is not stored. */
export async function updateAlertRule(
  db: Queryable,
  tenantId: string,
  rule: AlertKind,
  change: { threshold?: number; enabled?: boolean; by: string },
): Promise<AlertRule | undefined> {
  const { rows } = await db.query<AlertRule>(
    `UPDATE alert_rules SET threshold = coalesce($3, threshold), enabled = coalesce($4, enabled),
       updated_at = extract(epoch FROM now()), updated_by = $5
     WHERE tenant_id = $1 AND rule = $2 RETURNING ${RULE_COLUMNS}`,
    [tenantId, rule, change.threshold ?? null, change.enabled ?? null, change.by],
  );
  return rows[0];
}

/**
 * Takes the tenant's evaluation lock for the transaction, or returns false when another
 * replica holds it (it is evaluating this tenant right now: its result stands).
 */
export async function lockAlertEvaluation(tx: Queryable, tenantId: string, by: string): Promise<boolean> {
  const locked = await tx.query(
    `UPDATE alert_evaluations SET evaluated_at = extract(epoch FROM now()), evaluated_by = $2
     WHERE tenant_id = (SELECT tenant_id FROM alert_evaluations WHERE tenant_id = $1 FOR UPDATE SKIP LOCKED)`,
    [tenantId, by],
  );
  if (locked.rowCount > 0) return true;
  // No row yet (first evaluation), or a locked one: the insert holds the new row; a taken one is skipped.
  const inserted = await tx.query(
    `INSERT INTO alert_evaluations (tenant_id, evaluated_by) VALUES ($1, $2) ON CONFLICT (tenant_id) DO NOTHING`,
    [tenantId, by],
  );
  return inserted.rowCount > 0;
}
