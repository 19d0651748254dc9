// The scheduler's bulk writes, each one statement (one round trip, one plan) for a whole
// batch: a claim's runs + schedule advances + events, and a batch's run ends (each with its
// timeline) + events. A Class A run writes no workflow_events row at all.
// Events keep the order they were produced in (ROWS FROM … WITH ORDINALITY), so a run's
// timeline reads in order by event id.
import type { Queryable } from '../db/types.js';
import { FINISH_COLUMNS, FINISH_SET, type RunFinish } from '../runs/queries.js';
import type { NewEvent, RunRow } from '../runs/types.js';
import type { WorkflowRow } from '../workflows/queries.js';
import type { ClaimedRun } from './claim.js';

/** A scheduled run to insert: the claim's shared fields (status running, trigger schedule, lease) come separately. */
export interface ScheduledRun {
  id: string;
  tenant_id: string;
  workflow_id: string;
  scheduled_for: number;
}

export interface ScheduleAdvance {
  id: string;
  /** The slot the claim saw: the advance applies only if it is still the workflow's next_run_at. */
  due: number;
  next: number | null;
  last: number | null;
}

const EVENT_COLUMNS = `tenant_id uuid, run_id uuid, workflow_id uuid, type text, step_index integer, payload jsonb, created_at double precision`;

/**
 * Inserts a claim's runs (a slot that already has a run is skipped), each with its run_started
 * timeline entry, the claim's events (slots skipped), and advances the schedules, in one
 * statement. Returns the ids of the runs inserted.
 */
export async function writeClaim(
  tx: Queryable,
  claim: { now: number; owner: string; leaseSeconds: number; runs: ScheduledRun[]; advances: ScheduleAdvance[]; events: NewEvent[] },
): Promise<Set<string>> {
  const { rows } = await tx.query<{ id: string }>(
    `WITH src AS MATERIALIZED (
       SELECT * FROM ROWS FROM (jsonb_to_recordset($1::jsonb)
         AS (id uuid, tenant_id uuid, workflow_id uuid, scheduled_for double precision)) WITH ORDINALITY
         AS s(id, tenant_id, workflow_id, scheduled_for, ord)
     ), runs AS (
       INSERT INTO workflow_runs (id, tenant_id, workflow_id, status, trigger, scheduled_for, started_at, lease_owner, lease_expires_at, timeline)
       SELECT id, tenant_id, workflow_id, 'running', 'schedule', scheduled_for, $2::float8, $3::text, $2::float8 + $4::float8,
              jsonb_build_array(jsonb_build_object('type', 'run_started', 'step_index', NULL, 'created_at', $2::float8,
                'payload', jsonb_build_object('trigger', 'schedule', 'scheduled_for', scheduled_for, 'owner', $3::text)))
       FROM src
       ON CONFLICT (workflow_id, scheduled_for) DO NOTHING
       RETURNING id
     ), advanced AS (
       UPDATE workflows w SET next_run_at = a.next, last_run_at = coalesce(a.last, w.last_run_at)
       FROM jsonb_to_recordset($5::jsonb) AS a(id uuid, due double precision, next double precision, last double precision)
       WHERE w.id = a.id AND w.next_run_at = a.due
     ), events AS (
       INSERT INTO workflow_events (tenant_id, run_id, workflow_id, type, step_index, payload, created_at)
       SELECT e.tenant_id, e.run_id, e.workflow_id, e.type, e.step_index, coalesce(e.payload, '{}'), e.created_at
       FROM ROWS FROM (jsonb_to_recordset($6::jsonb) AS (${EVENT_COLUMNS})) WITH ORDINALITY
         AS e(tenant_id, run_id, workflow_id, type, step_index, payload, created_at, ord)
       ORDER BY e.ord
     )
     SELECT id FROM runs`,
    [JSON.stringify(claim.runs), claim.now, claim.owner, claim.leaseSeconds, JSON.stringify(claim.advances), JSON.stringify(claim.events)],
  );
  return new Set(rows.map((r) => r.id));
}

/**
 * Records where runs ended (with their timelines), only for runs this owner still holds, and the
 * workflow_events of the runs written (with their run's tenant and workflow), in one statement (autocommit: no transaction round trips). Returns the ids written.
 */
export async function writeFinishes(
  db: Queryable,
  owner: string,
  finishes: readonly RunFinish[],
  events: readonly NewEvent[],
): Promise<Set<string>> {
  if (finishes.length === 0) return new Set();
  const { rows } = await db.query<{ id: string }>(
    `WITH done AS (
       UPDATE workflow_runs r SET ${FINISH_SET}
       FROM jsonb_to_recordset($2::jsonb) AS f(${FINISH_COLUMNS})
       WHERE r.id = f.id AND r.status = 'running' AND r.lease_owner = $1
       RETURNING r.id, r.tenant_id, r.workflow_id
     ), events AS (
       INSERT INTO workflow_events (tenant_id, run_id, workflow_id, type, step_index, payload, created_at)
       SELECT done.tenant_id, e.run_id, done.workflow_id, e.type, e.step_index, coalesce(e.payload, '{}'), e.created_at
       FROM ROWS FROM (jsonb_to_recordset($3::jsonb)
           AS (run_id uuid, type text, step_index integer, payload jsonb, created_at double precision)) WITH ORDINALITY
         AS e(run_id, type, step_index, payload, created_at, ord)
       JOIN done ON done.id = e.run_id
       ORDER BY e.ord
     )
     SELECT id FROM done`,
    // An event's tenant and workflow are its run's: taken from the rows written, not sent again.
    [
      owner,
      JSON.stringify(finishes),
      JSON.stringify(
        events.map((e) => ({ run_id: e.run_id, type: e.type, step_index: e.step_index, payload: e.payload, created_at: e.created_at })),
      ),
    ],
  );
  return new Set(rows.map((r) => r.id));
}

const WORKFLOW_FIELDS = [
  'id',
  'tenant_id',
  'name',
  'description',
  'steps',
  'impact_class',
  'max_run_attempts',
  'is_active',
  'schedule_config',
  'last_run_at',
  'next_run_at',
  'created_at',
  'updated_at',
  'updated_by',
];

/**
 * Claims queued runs (manual, resumed after approval, retried after a crash) for this owner,
 * each with its workflow, in one statement: a woken loop starts a run one round trip sooner.
 */
export async function claimQueuedWithWorkflows(db: Queryable, owner: string, leaseSeconds: number, limit: number): Promise<ClaimedRun[]> {
  const { rows } = await db.query<RunRow & { workflow: WorkflowRow }>(
    `UPDATE workflow_runs r SET status = 'running', lease_owner = $1, lease_expires_at = extract(epoch FROM now()) + $2
     FROM workflows w
     WHERE r.id IN (SELECT id FROM workflow_runs WHERE status = 'queued' ORDER BY started_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       AND w.id = r.workflow_id
     RETURNING r.id, r.tenant_id, r.workflow_id, r.status, r.trigger, r.scheduled_for, r.started_at, r.finished_at, r.attempt,
       r.step_index, r.context, r.error, r.lease_owner, r.lease_expires_at, r.started_by,
       jsonb_build_object(${WORKFLOW_FIELDS.map((f) => `'${f}', w.${f}`).join(', ')}) AS workflow`,
    [owner, leaseSeconds, limit],
  );
  return rows.map(({ workflow, ...run }) => ({ workflow, run }));
}
