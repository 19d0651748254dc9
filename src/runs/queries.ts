// Reading runs: one run, recent runs, a run's timeline. Every write to a run is in
// lifecycle-queries.ts.
import type { Queryable } from '../db/types.js';
import { CLAIMED_RUNS_SQL } from './claim-queries.js';
import { R_RUN_COLUMNS, RUN_COLUMNS } from './lifecycle-queries.js';
import type { EventRow, RunRow, RunStatus } from './types.js';

/**
 * Runs as rows: workflow_runs, and the runs of batch claims not written yet (in flight, shown
 * as running: see src/runs/claim-queries.ts).
 */
const ALL_RUNS = `(SELECT ${RUN_COLUMNS} FROM workflow_runs UNION ALL ${CLAIMED_RUNS_SQL})`;

/** One run by id, scoped to a tenant when one is given (a claimed run in flight, too). */
export async function getRun(db: Queryable, id: string, tenantId?: string): Promise<RunRow | undefined> {
  const { rows } = await db.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM workflow_runs WHERE id = $1 AND ($2::uuid IS NULL OR tenant_id = $2)
     UNION ALL
     SELECT * FROM (${CLAIMED_RUNS_SQL}) claimed WHERE id = $1 AND ($2::uuid IS NULL OR tenant_id = $2)
     LIMIT 1`,
    [id, tenantId ?? null],
  );
  return rows[0];
}

interface RunListFilter {
  tenantId?: string;
  workflowId?: string;
  status?: RunStatus;
  limit: number;
  /** Only runs older than this one (started_at, then id): the next page of a newest-first list. */
  before?: { started_at: number; id: string };
}

/** Recent runs, newest first (claimed runs in flight among them). */
export async function listRuns(db: Queryable, f: RunListFilter): Promise<(RunRow & { workflow_name: string })[]> {
  const { rows } = await db.query<RunRow & { workflow_name: string }>(
    `SELECT ${R_RUN_COLUMNS}, w.name AS workflow_name
     FROM ${ALL_RUNS} r JOIN workflows w ON w.id = r.workflow_id
     WHERE ($1::uuid IS NULL OR r.tenant_id = $1) AND ($2::uuid IS NULL OR r.workflow_id = $2)
       AND ($3::text IS NULL OR r.status = $3)
       AND ($5::float8 IS NULL OR (r.started_at, r.id) < ($5, $6::uuid))
     ORDER BY r.started_at DESC, r.id DESC
     LIMIT $4`,
    [f.tenantId ?? null, f.workflowId ?? null, f.status ?? null, f.limit, f.before?.started_at ?? null, f.before?.id ?? null],
  );
  return rows;
}

/**
 * A run's whole timeline in order: the entries on its row (its start, Class A steps, its end;
 * ids "t1", "t2"…) merged by time with its workflow_events (Class B/C steps, approvals, errors,
 * retries, recoveries; numeric ids). The one reader: CLI, API, dashboard and console use it.
 */
export async function getRunEvents(db: Queryable, runId: string): Promise<EventRow[]> {
  const { rows } = await db.query<EventRow>(
    `SELECT id, run_id, workflow_id, type, step_index, payload, created_at FROM (
       SELECT 't' || t.ord AS id, r.id AS run_id, r.workflow_id, t.e ->> 'type' AS type, (t.e ->> 'step_index')::int AS step_index,
              coalesce(t.e -> 'payload', '{}') AS payload, (t.e ->> 'created_at')::float8 AS created_at, 0 AS source, t.ord AS seq
       FROM workflow_runs r, jsonb_array_elements(r.timeline) WITH ORDINALITY AS t(e, ord)
       WHERE r.id = $1
       UNION ALL
       SELECT e.id::text, e.run_id, e.workflow_id, e.type, e.step_index, e.payload, e.created_at, 1, e.id
       FROM workflow_events e WHERE e.run_id = $1
     ) x
     ORDER BY created_at, source, seq`,
    [runId],
  );
  return rows;
}

/** A run started to ask again for this approval that has not asked yet (its link is still in its context). */
export async function runAskingAgain(db: Queryable, tenantId: string, approvalId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM workflow_runs WHERE tenant_id = $1 AND context -> 'rerequest_of' ->> 'approval_id' = $2`,
    [tenantId, approvalId],
  );
  return rows[0]?.id;
}
