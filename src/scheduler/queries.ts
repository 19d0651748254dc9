// The scheduler's own SQL: which workflows are due, when the next one is, and each scheduler
// process's heartbeat row. The runs a claim starts are written by src/runs/queries.ts.
import type { Queryable } from '../db/types.js';
import type { WorkflowRow } from '../workflows/queries.js';

/** A due workflow, locked for this claim, with the database's now() and whether a run of it is still in progress. */
export type DueWorkflowRow = WorkflowRow & { busy: boolean; now: number };

/**
 * The due scan (also run by bench/ to measure it): up to $1 active, enabled workflows whose
 * slot has come (and, when $2 is set, came by then), oldest slot first, each locked; rows
 * another replica holds are skipped. Busy: a run of it is in progress, as a row or in a batch
 * claim (the claims are few: one hashed list for the whole scan).
 */
export const DUE_WORKFLOWS_SQL = `SELECT w.id, w.tenant_id, w.name, w.description, w.steps, w.impact_class, w.max_run_attempts, w.is_active,
            w.schedule_config, w.last_run_at, w.next_run_at, w.created_at, w.updated_at, w.updated_by,
            extract(epoch FROM now())::float8 AS now,
            (EXISTS (SELECT 1 FROM workflow_runs r
                     WHERE r.workflow_id = w.id AND r.status IN ('queued', 'running', 'waiting_approval'))
             OR w.id IN (SELECT unnest(c.workflow_ids) FROM scheduler_claims c)) AS busy
     FROM workflows w
     WHERE w.is_active AND (w.schedule_config ->> 'enabled') = 'true'
       AND w.next_run_at <= extract(epoch FROM now()) AND ($2::float8 IS NULL OR w.next_run_at <= $2)
     ORDER BY w.next_run_at
     LIMIT $1
     FOR UPDATE OF w SKIP LOCKED`;

/** Locks up to `limit` due workflows (in the claim's transaction); see DUE_WORKFLOWS_SQL. */
export async function lockDueWorkflows(tx: Queryable, limit: number, dueBefore: number | null): Promise<DueWorkflowRow[]> {
  const { rows } = await tx.query<DueWorkflowRow>(DUE_WORKFLOWS_SQL, [limit, dueBefore]);
  return rows;
}

/** Seconds until the earliest slot (negative when one is overdue), or null when none is scheduled. */
export async function secondsUntilNextDue(db: Queryable): Promise<number | null> {
  const { rows } = await db.query<{ wait: number | null }>(
    `SELECT (min(next_run_at) - extract(epoch FROM now()))::float8 AS wait FROM workflows
     WHERE is_active AND (schedule_config ->> 'enabled') = 'true'`,
  );
  return rows[0]?.wait ?? null;
}

/** Records a scheduler process's heartbeat row (doctor and health read it); an empty summary keeps the last one. */
export async function recordInstance(
  db: Queryable,
  instance: { id: string; hostname: string; pid: number; startedAt: number; summary: object | null; stopped: boolean },
): Promise<void> {
  await db.query(
    `INSERT INTO scheduler_instances (id, hostname, pid, started_at, last_tick_at, stopped_at, last_summary)
     VALUES ($1, $2, $3, $4, extract(epoch FROM now()), CASE WHEN $5 THEN extract(epoch FROM now()) END, $6::jsonb)
     ON CONFLICT (id) DO UPDATE SET last_tick_at = excluded.last_tick_at, stopped_at = excluded.stopped_at,
       last_summary = CASE WHEN $6::jsonb = '{}'::jsonb THEN scheduler_instances.last_summary ELSE excluded.last_summary END`,
    [instance.id, instance.hostname, instance.pid, instance.startedAt, instance.stopped, JSON.stringify(instance.summary ?? {})],
  );
}
