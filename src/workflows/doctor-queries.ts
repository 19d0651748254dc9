// What `levqor doctor WORKFLOW` reads: the database clock, the last scheduler tick, the
// workflow's last run, last failure and runs in progress.
import { dbNow } from '../db/now.js';
import type { Queryable } from '../db/types.js';
import { CLAIMED_RUNS_SQL } from '../runs/claim-queries.js';

/** The facts the "Workflow Not Running" checklist is evaluated on. */
export interface DoctorFacts {
  now: number;
  lastTick: { id: string; last_tick_at: number; stopped_at: number | null } | undefined;
  lastRun: { status: string; started_at: number; error: string | null } | undefined;
  lastFailure: { started_at: number; error: string | null } | undefined;
  active: { status: string; n: number }[];
}

/** Reads the facts for one workflow. */
export async function readDoctorFacts(db: Queryable, workflowId: string): Promise<DoctorFacts> {
  const now = await dbNow(db);
  const lastTick = (
    await db.query<NonNullable<DoctorFacts['lastTick']>>(
      'SELECT id, last_tick_at, stopped_at FROM scheduler_instances ORDER BY last_tick_at DESC LIMIT 1',
    )
  ).rows[0];
  const lastRun = (
    await db.query<NonNullable<DoctorFacts['lastRun']>>(
      'SELECT status, started_at, error FROM workflow_runs WHERE workflow_id = $1 ORDER BY started_at DESC LIMIT 1',
      [workflowId],
    )
  ).rows[0];
  const lastFailure = (
    await db.query<NonNullable<DoctorFacts['lastFailure']>>(
      `SELECT started_at, error FROM workflow_runs WHERE workflow_id = $1 AND status = 'failed' ORDER BY started_at DESC LIMIT 1`,
      [workflowId],
    )
  ).rows[0];
  const active = (
    await db.query<{ status: string; n: number }>(
      // Claimed runs not written yet are in flight too.
      `SELECT status, count(*)::int AS n
       FROM (SELECT status FROM workflow_runs WHERE workflow_id = $1 AND status IN ('queued', 'running', 'waiting_approval')
             UNION ALL SELECT status FROM (${CLAIMED_RUNS_SQL}) claimed WHERE workflow_id = $1) r
       GROUP BY status ORDER BY status`,
      [workflowId],
    )
  ).rows;
  return { now, lastTick, lastRun, lastFailure, active };
}
