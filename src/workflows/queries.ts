import { dbNow } from '../db/now.js';
import type { Queryable } from '../db/types.js';
import { AppError } from '../lib/errors.js';
import { notifyScheduler } from '../runs/lifecycle-queries.js';
import { canonicalJson } from '../lib/canonical-json.js';
import type { ImpactClass } from '../lib/impact.js';
import type { ScheduleConfig, Step, WorkflowSpec } from './schema.js';
import { firstRunAt } from './schedule.js';

export interface WorkflowRow {
  id: string;
  tenant_id: string;
  name: string;
  description: string | null;
  steps: Step[];
  impact_class: ImpactClass | null;
  max_run_attempts: number;
  is_active: boolean;
  schedule_config: ScheduleConfig;
  last_run_at: number | null;
  next_run_at: number | null;
  created_at: number;
  updated_at: number;
  /** Who last applied it ("cli:alice", "token:ops"); approvals for its runs are requested in their name. */
  updated_by: string | null;
}

const COLUMNS = `id, tenant_id, name, description, steps, impact_class, max_run_attempts, is_active,
  schedule_config, last_run_at, next_run_at, created_at, updated_at, updated_by`;

// Callers above the engine (faces, reports) read the database clock from here.
export { dbNow };

function scheduledNext(schedule: ScheduleConfig, isActive: boolean, now: number, lastRunAt: number | null): number | null {
  return isActive && schedule.enabled ? firstRunAt(schedule, now, lastRunAt) : null;
}

type ApplyOutcome = 'created' | 'updated' | 'unchanged';

/** Creates or updates a workflow by (tenant, name); a changed schedule is planned afresh. */
export async function applyWorkflow(
  tx: Queryable,
  tenantId: string,
  spec: WorkflowSpec,
  actor: string | null = null,
): Promise<{ workflow: WorkflowRow; outcome: ApplyOutcome }> {
  const now = await dbNow(tx);
  const { rows: existing } = await tx.query<WorkflowRow>(`SELECT ${COLUMNS} FROM workflows WHERE tenant_id = $1 AND name = $2 FOR UPDATE`, [
    tenantId,
    spec.name,
  ]);
  const old = existing[0];
  const values = [
    spec.description ?? null,
    JSON.stringify(spec.steps),
    spec.impact_class ?? null,
    spec.max_run_attempts,
    spec.is_active,
    JSON.stringify(spec.schedule_config),
  ];
  if (!old) {
    const next = scheduledNext(spec.schedule_config, spec.is_active, now, null);
    const { rows } = await tx.query<WorkflowRow>(
      `INSERT INTO workflows (tenant_id, name, description, steps, impact_class, max_run_attempts, is_active, schedule_config,
         next_run_at, created_at, updated_at, updated_by)
       VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8::jsonb, $9, $10, $10, $11) RETURNING ${COLUMNS}`,
      [tenantId, spec.name, ...values, next, now, actor],
    );
    await notifyScheduler(tx, 'workflow');
    return { workflow: rows[0] as WorkflowRow, outcome: 'created' };
  }
  const sameDefinition =
    canonicalJson([old.description, old.steps, old.impact_class, old.max_run_attempts, old.is_active, old.schedule_config]) ===
    canonicalJson([
      spec.description ?? null,
      spec.steps,
      spec.impact_class ?? null,
      spec.max_run_attempts,
      spec.is_active,
      spec.schedule_config,
    ]);
  if (sameDefinition) return { workflow: old, outcome: 'unchanged' };
  const sameSchedule = old.is_active === spec.is_active && canonicalJson(old.schedule_config) === canonicalJson(spec.schedule_config);
  const next = sameSchedule ? old.next_run_at : scheduledNext(spec.schedule_config, spec.is_active, now, old.last_run_at);
  const { rows } = await tx.query<WorkflowRow>(
    `UPDATE workflows SET description = $2, steps = $3::jsonb, impact_class = $4, max_run_attempts = $5, is_active = $6,
       schedule_config = $7::jsonb, next_run_at = $8, updated_at = $9, updated_by = $10
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [old.id, ...values, next, now, actor],
  );
  await notifyScheduler(tx, 'workflow');
  return { workflow: rows[0] as WorkflowRow, outcome: 'updated' };
}

/** Activates or pauses a workflow; activating plans its next slot. Returns the row, or undefined if absent. */
export async function setWorkflowActive(tx: Queryable, tenantId: string, name: string, active: boolean): Promise<WorkflowRow | undefined> {
  const { rows } = await tx.query<WorkflowRow>(`SELECT ${COLUMNS} FROM workflows WHERE tenant_id = $1 AND name = $2 FOR UPDATE`, [
    tenantId,
    name,
  ]);
  const wf = rows[0];
  if (!wf) return undefined;
  if (wf.is_active === active) return wf;
  const now = await dbNow(tx);
  const next = scheduledNext(wf.schedule_config, active, now, wf.last_run_at);
  const updated = await tx.query<WorkflowRow>(
    `UPDATE workflows SET is_active = $2, next_run_at = $3, updated_at = $4 WHERE id = $1 RETURNING ${COLUMNS}`,
    [wf.id, active, next, now],
  );
  return updated.rows[0];
}

/** A tenant's workflow by name. */
export async function getWorkflowByName(db: Queryable, tenantId: string, name: string): Promise<WorkflowRow | undefined> {
  const { rows } = await db.query<WorkflowRow>(`SELECT ${COLUMNS} FROM workflows WHERE tenant_id = $1 AND name = $2`, [tenantId, name]);
  return rows[0];
}

/** Like getWorkflowByName, but a missing workflow is an error naming it. */
export async function requireWorkflow(db: Queryable, tenantId: string, name: string): Promise<WorkflowRow> {
  const wf = await getWorkflowByName(db, tenantId, name);
  if (!wf) throw new AppError('not_found', `workflow "${name}" not found (levqor workflow list shows them)`);
  return wf;
}

/** Workflows by id. */
export async function getWorkflowsByIds(db: Queryable, ids: readonly string[]): Promise<Map<string, WorkflowRow>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<WorkflowRow>(`SELECT ${COLUMNS} FROM workflows WHERE id = ANY($1::uuid[])`, [ids]);
  return new Map(rows.map((r) => [r.id, r]));
}

/** A tenant's workflows (or everyone's) by name. */
export async function listWorkflows(db: Queryable, tenantId?: string): Promise<WorkflowRow[]> {
  const { rows } = await db.query<WorkflowRow>(
    `SELECT ${COLUMNS} FROM workflows WHERE ($1::uuid IS NULL OR tenant_id = $1) ORDER BY name`,
    [tenantId ?? null],
  );
  return rows;
}
