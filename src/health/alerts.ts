import { insertAudit } from '../audit/queries.js';
import type { Db, Queryable } from '../db/types.js';
import { AppError } from '../lib/errors.js';
import { listTenants } from '../tenants/queries.js';
import { listAlertRules, lockAlertEvaluation, seedAlertRules, updateAlertRule } from './alert-queries.js';
import { parseAlertRule, readAlertRules, type AlertFacts, type AlertRule, type RuleReading } from './alert-rules.js';
import { healthFacts, insertFiringAlert, notifyAlert, resolveAlert, type AlertKind, type AlertRow } from './queries.js';

/** Where a process's rule defaults come from and who it is. */
export interface AlertEvaluationOptions {
  /** Starting values for rules a tenant does not have yet (defaultAlertThresholds). */
  defaults: Record<AlertKind, number>;
  /** This process, recorded on the evaluation row. */
  by: string;
}

export interface TenantAlertChanges {
  tenant_id: string;
  fired: AlertRow[];
  resolved: AlertRow[];
}

/** Who wrote a tenant's starting rules. */
export const DEFAULT_RULES_BY = 'levqor:defaults';

/** A tenant's rules, storing the starting values of any it does not have yet. */
export async function tenantAlertRules(db: Queryable, tenantId: string, defaults: Record<AlertKind, number>): Promise<AlertRule[]> {
  await seedAlertRules(db, tenantId, defaults, DEFAULT_RULES_BY);
  return listAlertRules(db, tenantId);
}

/**
 * Changes one of a tenant's rules (the one truth every process evaluates next) and records
 * the change in audit_log. Unset fields keep their value.
 */
export async function setAlertRule(
  db: Db,
  tenantId: string,
  rule: string,
  change: { threshold?: number; enabled?: boolean; by: string },
  defaults: Record<AlertKind, number>,
): Promise<AlertRule> {
  const kind = parseAlertRule(rule, change.threshold);
  if (change.threshold === undefined && change.enabled === undefined)
    throw new AppError('bad_input', 'nothing to change: pass --threshold N, --enable or --disable');
  return db.transaction(async (tx) => {
    await seedAlertRules(tx, tenantId, defaults, DEFAULT_RULES_BY);
    const before = (await listAlertRules(tx, tenantId)).find((r) => r.rule === kind);
    const after = await updateAlertRule(tx, tenantId, kind, change);
    if (!after) throw new AppError('not_found', `alert rule ${kind} not found`);
    await insertAudit(tx, {
      tenant_id: tenantId,
      actor: change.by,
      action: 'alert_rule.set',
      subject: kind,
      detail: {
        before: before && { threshold: before.threshold, enabled: before.enabled },
        after: { threshold: after.threshold, enabled: after.enabled },
      },
    });
    return after;
  });
}

/**
 * Brings a tenant's alerts in line with the readings: a rule that holds fires once (a partial
 * unique index is the last guard), one that no longer holds resolves once with the value it
 * reads now. Each change is NOTIFYed on ALERTS_CHANNEL.
 */
export async function reconcileTenantAlerts(
  db: Queryable,
  tenantId: string,
  readings: readonly RuleReading[],
): Promise<{ fired: AlertRow[]; resolved: AlertRow[] }> {
  const fired: AlertRow[] = [];
  const resolved: AlertRow[] = [];
  for (const r of readings) {
    if (r.active) {
      const row = await insertFiringAlert(db, tenantId, r);
      if (row) fired.push(row);
    } else {
      const row = await resolveAlert(db, tenantId, r);
      if (row) resolved.push(row);
    }
  }
  for (const a of [...fired, ...resolved]) await notifyAlert(db, a);
  return { fired, resolved };
}

async function tenantFacts(db: Queryable, tenantId: string): Promise<AlertFacts> {
  const f = await healthFacts(db, tenantId);
  const latest = f.schedulers[0];
  return {
    pending_approvals: f.pending_approvals,
    tick_age_seconds: latest ? Math.max(0, f.now - latest.last_tick_at) : null,
    runs_1h: { total: f.total_1h, failed: f.failed_1h },
  };
}

/**
 * Evaluates one tenant's rules under its evaluation lock: null when another replica is
 * evaluating it at this moment. Facts are read after the lock, so a replica never resolves
 * with an older reading what another has just fired.
 */
export async function evaluateTenantAlerts(db: Db, tenantId: string, opts: AlertEvaluationOptions): Promise<TenantAlertChanges | null> {
  return db.transaction(async (tx) => {
    if (!(await lockAlertEvaluation(tx, tenantId, opts.by))) return null;
    const rules = await tenantAlertRules(tx, tenantId, opts.defaults);
    const readings = readAlertRules(rules, await tenantFacts(tx, tenantId));
    return { tenant_id: tenantId, ...(await reconcileTenantAlerts(tx, tenantId, readings)) };
  });
}

/** Evaluates every tenant's rules once (tenants another replica is evaluating are left to it). */
export async function evaluateAllAlerts(db: Db, opts: AlertEvaluationOptions): Promise<TenantAlertChanges[]> {
  const out: TenantAlertChanges[] = [];
  for (const t of await listTenants(db)) {
    const r = await evaluateTenantAlerts(db, t.id, opts);
    if (r) out.push(r);
  }
  return out;
}
