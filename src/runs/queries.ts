import type { Queryable } from '../db/types.js';
import type { EventRow, NewEvent, RunContext, RunRow, RunStatus, RunTrigger, TimelineEntry } from './types.js';

const RUN_COLUMNS = `id, tenant_id, workflow_id, status, trigger, scheduled_for, started_at, finished_at, attempt,
  step_index, context, error, lease_owner, lease_expires_at, started_by`;

/** Writes many events in one statement. */
export async function insertEvents(db: Queryable, events: readonly NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.query(
    `INSERT INTO workflow_events (tenant_id, run_id, workflow_id, type, step_index, payload, created_at)
     SELECT tenant_id, run_id, workflow_id, type, step_index, coalesce(payload, '{}'), created_at
     FROM jsonb_to_recordset($1::jsonb) AS e(tenant_id uuid, run_id uuid, workflow_id uuid, type text,
       step_index integer, payload jsonb, created_at double precision)`,
    [JSON.stringify(events)],
  );
}

export interface NewRun {
  id: string;
  tenant_id: string;
  workflow_id: string;
  status: Extract<RunStatus, 'queued' | 'running'>;
  trigger: RunTrigger;
  scheduled_for: number | null;
  started_at: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  started_by?: string | null;
  /** The run's first timeline entries (its run_started). */
  timeline?: TimelineEntry[];
}

/** Inserts runs; a slot that already has a run is skipped. Returns the ids actually inserted. */
export async function insertRuns(db: Queryable, runs: readonly NewRun[]): Promise<Set<string>> {
  if (runs.length === 0) return new Set();
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO workflow_runs (id, tenant_id, workflow_id, status, trigger, scheduled_for, started_at, lease_owner, lease_expires_at, started_by, timeline)
     SELECT id, tenant_id, workflow_id, status, trigger, scheduled_for, started_at, lease_owner, lease_expires_at, started_by, coalesce(timeline, '[]')
     FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, tenant_id uuid, workflow_id uuid, status text, trigger text,
       scheduled_for double precision, started_at double precision, lease_owner text, lease_expires_at double precision, started_by text,
       timeline jsonb)
     ON CONFLICT (workflow_id, scheduled_for) DO NOTHING
     RETURNING id`,
    [JSON.stringify(runs)],
  );
  return new Set(rows.map((r) => r.id));
}

export interface RunFinish {
  id: string;
  status: RunStatus;
  step_index: number;
  context: RunContext;
  error: string | null;
  finished_at: number | null;
  /** Timeline entries of this execution, appended to the run's row with its end. */
  timeline: TimelineEntry[];
}

/** The SET list and record columns of a run's end (shared with the scheduler's one-statement settle). */
export const FINISH_SET = `status = f.status, step_index = f.step_index, context = f.context, error = f.error,
  finished_at = f.finished_at, lease_owner = NULL, lease_expires_at = NULL, timeline = r.timeline || coalesce(f.timeline, '[]')`;
export const FINISH_COLUMNS = `id uuid, status text, step_index integer, context jsonb, error text, finished_at double precision, timeline jsonb`;

/**
 * Records where many runs ended, in one statement, only for runs this owner still holds:
 * a run whose lease was taken over by another scheduler is left alone. Returns ids written.
 */
export async function finishRuns(db: Queryable, owner: string, finishes: readonly RunFinish[]): Promise<Set<string>> {
  if (finishes.length === 0) return new Set();
  const { rows } = await db.query<{ id: string }>(
    `UPDATE workflow_runs r
     SET ${FINISH_SET}
     FROM jsonb_to_recordset($2::jsonb) AS f(${FINISH_COLUMNS})
     WHERE r.id = f.id AND r.status = 'running' AND r.lease_owner = $1
     RETURNING r.id`,
    [owner, JSON.stringify(finishes)],
  );
  return new Set(rows.map((r) => r.id));
}

/** Saves a running run's progress (and its timeline so far) so a later attempt resumes after its side effects. */
export async function checkpointRun(
  db: Queryable,
  owner: string,
  runId: string,
  stepIndex: number,
  context: RunContext,
  timeline: readonly TimelineEntry[] = [],
): Promise<boolean> {
  const res = await db.query(
    `UPDATE workflow_runs SET step_index = $3, context = $4::jsonb, timeline = timeline || $5::jsonb
     WHERE id = $2 AND status = 'running' AND lease_owner = $1`,
    [owner, runId, stepIndex, JSON.stringify(context), JSON.stringify(timeline)],
  );
  return res.rowCount === 1;
}

/** Appends to a running run's timeline (a long step shows it started while it lasts; a released run keeps what it did). */
export async function appendTimeline(db: Queryable, owner: string, runId: string, timeline: readonly TimelineEntry[]): Promise<boolean> {
  if (timeline.length === 0) return true;
  const res = await db.query(
    `UPDATE workflow_runs SET timeline = timeline || $3::jsonb WHERE id = $2 AND status = 'running' AND lease_owner = $1`,
    [owner, runId, JSON.stringify(timeline)],
  );
  return res.rowCount === 1;
}

/** Extends the leases of every run this owner is executing. */
export async function heartbeatRuns(db: Queryable, owner: string, leaseSeconds: number): Promise<number> {
  const res = await db.query(
    `UPDATE workflow_runs SET lease_expires_at = extract(epoch FROM now()) + $2
     WHERE lease_owner = $1 AND status = 'running'`,
    [owner, leaseSeconds],
  );
  return res.rowCount;
}

/** Hands this owner's unfinished runs back to the queue (graceful shutdown). */
export async function releaseRuns(db: Queryable, owner: string, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const res = await db.query(
    `UPDATE workflow_runs SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL
     WHERE id = ANY($2::uuid[]) AND status = 'running' AND lease_owner = $1`,
    [owner, ids],
  );
  return res.rowCount;
}

/** One run by id, scoped to a tenant when one is given. */
export async function getRun(db: Queryable, id: string, tenantId?: string): Promise<RunRow | undefined> {
  const { rows } = await db.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM workflow_runs WHERE id = $1 AND ($2::uuid IS NULL OR tenant_id = $2)`,
    [id, tenantId ?? null],
  );
  return rows[0];
}

export interface RunListFilter {
  tenantId?: string;
  workflowId?: string;
  status?: RunStatus;
  limit: number;
}

/** Recent runs, newest first. */
export async function listRuns(db: Queryable, f: RunListFilter): Promise<(RunRow & { workflow_name: string })[]> {
  const { rows } = await db.query<RunRow & { workflow_name: string }>(
    `SELECT ${RUN_COLUMNS.replace(/(\w+)/g, 'r.$1')}, w.name AS workflow_name
     FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id
     WHERE ($1::uuid IS NULL OR r.tenant_id = $1) AND ($2::uuid IS NULL OR r.workflow_id = $2)
       AND ($3::text IS NULL OR r.status = $3)
     ORDER BY r.started_at DESC, r.id
     LIMIT $4`,
    [f.tenantId ?? null, f.workflowId ?? null, f.status ?? null, f.limit],
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

/** Parks a run this owner holds at a Class C step until a human decides. */
export async function parkRun(
  db: Queryable,
  owner: string,
  runId: string,
  stepIndex: number,
  context: RunContext,
  timeline: readonly TimelineEntry[] = [],
): Promise<boolean> {
  const res = await db.query(
    `UPDATE workflow_runs SET status = 'waiting_approval', step_index = $3, context = $4::jsonb, lease_owner = NULL, lease_expires_at = NULL,
       timeline = timeline || $5::jsonb
     WHERE id = $2 AND status = 'running' AND lease_owner = $1`,
    [owner, runId, stepIndex, JSON.stringify(context), JSON.stringify(timeline)],
  );
  return res.rowCount === 1;
}

/** Moves a waiting run on after its approval was decided: approved → queued, otherwise ended. */
export async function settleWaitingRun(
  db: Queryable,
  runId: string,
  outcome: 'queued' | 'rejected' | 'expired',
  error: string | null,
): Promise<RunRow | undefined> {
  const { rows } = await db.query<RunRow>(
    `UPDATE workflow_runs SET status = $2, error = $3,
       finished_at = CASE WHEN $2 = 'queued' THEN NULL ELSE extract(epoch FROM now()) END
     WHERE id = $1 AND status = 'waiting_approval' RETURNING ${RUN_COLUMNS}`,
    [runId, outcome, error],
  );
  return rows[0];
}

/** Claims queued runs (manual, resumed after approval, retried after a crash) for this owner. */
export async function claimQueuedRuns(
  db: Queryable,
  owner: string,
  leaseSeconds: number,
  limit: number,
  onlyId?: string,
): Promise<RunRow[]> {
  const { rows } = await db.query<RunRow>(
    `UPDATE workflow_runs r SET status = 'running', lease_owner = $1, lease_expires_at = extract(epoch FROM now()) + $2
     WHERE r.id IN (SELECT id FROM workflow_runs WHERE status = 'queued' AND ($4::uuid IS NULL OR id = $4)
                    ORDER BY started_at LIMIT $3 FOR UPDATE SKIP LOCKED)
     RETURNING ${RUN_COLUMNS.replace(/(\w+)/g, 'r.$1')}`,
    [owner, leaseSeconds, limit, onlyId ?? null],
  );
  return rows;
}

/**
 * Finds runs whose scheduler stopped renewing their lease (killed, lost its network) and
 * requeues them for another attempt or fails them when attempts are used up.
 */
export async function recoverExpiredRuns(db: Queryable, limit = 500): Promise<RunRow[]> {
  const { rows } = await db.query<RunRow>(
    `WITH expired AS (
       SELECT r.id FROM workflow_runs r
       WHERE r.status = 'running' AND r.lease_expires_at < extract(epoch FROM now())
       ORDER BY r.lease_expires_at LIMIT $1 FOR UPDATE SKIP LOCKED
     )
     UPDATE workflow_runs r SET
       status = CASE WHEN r.attempt < w.max_run_attempts THEN 'queued' ELSE 'failed' END,
       attempt = CASE WHEN r.attempt < w.max_run_attempts THEN r.attempt + 1 ELSE r.attempt END,
       finished_at = CASE WHEN r.attempt < w.max_run_attempts THEN NULL ELSE extract(epoch FROM now()) END,
       error = 'lease expired: the scheduler running it (' || coalesce(r.lease_owner, '?') || ') stopped before the run finished'
               || CASE WHEN r.attempt < w.max_run_attempts THEN '; retrying' ELSE '' END,
       lease_owner = NULL, lease_expires_at = NULL
     FROM expired e, workflows w
     WHERE r.id = e.id AND w.id = r.workflow_id
     RETURNING ${RUN_COLUMNS.replace(/(\w+)/g, 'r.$1')}`,
    [limit],
  );
  return rows;
}
