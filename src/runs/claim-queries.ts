// Claims per batch (issue 28): a tick's claim writes one scheduler_claims row for its batch
// (owner, lease, the (workflow, slot) pairs it took) instead of a `running` row per run. A
// claimed run is written once: inserted already finished by the batch's settle
// (lifecycle-queries.ts settleRuns), or, when it must be seen or resumed before it ends (it
// parks, waits, retries, lasts), inserted as `running` by writeClaimedRun. Every insert of a
// claimed pair is ON CONFLICT DO NOTHING: UNIQUE(workflow_id, scheduled_for) stays the last
// guard of exactly-once. Lease recovery turns the unsettled pairs of a dead claim into runs.
import type { Queryable } from '../db/types.js';
import { EVENT_COLUMNS, R_RUN_COLUMNS, runStartedSql as RUN_STARTED } from './lifecycle-queries.js';
import type { NewEvent, RunRow } from './types.js';

/** A scheduled run to claim: the claim's shared fields (owner, lease, start time) come separately. */
export interface ScheduledRun {
  id: string;
  tenant_id: string;
  workflow_id: string;
  scheduled_for: number;
}

/** A claimed workflow's schedule moved on: applied only if `due` is still its next_run_at. */
export interface ScheduleAdvance {
  id: string;
  due: number;
  next: number | null;
  last: number | null;
}

/** A claimed run not written yet: the claim that holds it and when it started. */
export interface ClaimedSlot {
  claimId: string;
  startedAt: number;
  /** Set once the run's `running` row is written: from then on it is settled like any held run. */
  written: boolean;
}

/**
 * Claims a batch's slots for `owner` in one statement, inside the claim's transaction: moves the
 * locked workflows' schedules on (a compare-and-set on next_run_at), writes one claim row with
 * the pairs of the workflows advanced whose slot has no run yet, and the claim's events (slots
 * skipped, in order). Returns the ids of the runs claimed.
 */
export async function claimSlots(
  tx: Queryable,
  claim: {
    id: string;
    now: number;
    owner: string;
    leaseSeconds: number;
    runs: ScheduledRun[];
    advances: ScheduleAdvance[];
    events: NewEvent[];
  },
): Promise<Set<string>> {
  const { rows } = await tx.query<{ id: string }>(
    `WITH src AS MATERIALIZED (
       SELECT * FROM ROWS FROM (jsonb_to_recordset($1::jsonb)
         AS (id uuid, tenant_id uuid, workflow_id uuid, scheduled_for double precision)) WITH ORDINALITY
         AS s(id, tenant_id, workflow_id, scheduled_for, ord)
     ), advanced AS (
       UPDATE workflows w SET next_run_at = a.next, last_run_at = coalesce(a.last, w.last_run_at)
       FROM jsonb_to_recordset($5::jsonb) AS a(id uuid, due double precision, next double precision, last double precision)
       WHERE w.id = a.id AND w.next_run_at = a.due
       RETURNING w.id
     ), claim AS (
       INSERT INTO scheduler_claims (id, owner, claimed_at, lease_expires_at, run_ids, tenant_ids, workflow_ids, slots)
       SELECT $7::uuid, $3::text, $2::float8, $2::float8 + $4::float8, array_agg(s.id ORDER BY s.ord),
              array_agg(s.tenant_id ORDER BY s.ord), array_agg(s.workflow_id ORDER BY s.ord), array_agg(s.scheduled_for ORDER BY s.ord)
       FROM src s
       WHERE s.workflow_id IN (SELECT id FROM advanced)
         AND NOT EXISTS (SELECT 1 FROM workflow_runs r WHERE r.workflow_id = s.workflow_id AND r.scheduled_for = s.scheduled_for)
       HAVING count(*) > 0
       RETURNING run_ids
     ), events AS (
       INSERT INTO workflow_events (tenant_id, run_id, workflow_id, type, step_index, payload, created_at)
       SELECT e.tenant_id, e.run_id, e.workflow_id, e.type, e.step_index, coalesce(e.payload, '{}'), e.created_at
       FROM ROWS FROM (jsonb_to_recordset($6::jsonb) AS (${EVENT_COLUMNS})) WITH ORDINALITY
         AS e(tenant_id, run_id, workflow_id, type, step_index, payload, created_at, ord)
       ORDER BY e.ord
     )
     SELECT unnest(run_ids) AS id FROM claim`,
    [
      JSON.stringify(claim.runs),
      claim.now,
      claim.owner,
      claim.leaseSeconds,
      JSON.stringify(claim.advances),
      JSON.stringify(claim.events),
      claim.id,
    ],
  );
  return new Set(rows.map((r) => r.id));
}

/**
 * Writes a claimed run's `running` row (with its run_started entry and its claim's lease), held
 * by `owner`, in the caller's transaction: before anything else refers to the run (a checkpoint,
 * a parked approval, a long wait, a retry, a run that lasts). False when the claim is no longer
 * this owner's or the slot already has a run (lease recovery got there first): the run is then
 * not this owner's to go on with.
 */
export async function writeClaimedRun(
  tx: Queryable,
  owner: string,
  run: Pick<RunRow, 'id' | 'tenant_id' | 'workflow_id' | 'scheduled_for' | 'started_at'>,
  claimId: string,
): Promise<boolean> {
  const res = await tx.query(
    `INSERT INTO workflow_runs (id, tenant_id, workflow_id, status, trigger, scheduled_for, started_at, lease_owner, lease_expires_at, timeline)
     SELECT $2, $3, $4, 'running', 'schedule', $5::float8, $6::float8, $1::text, c.lease_expires_at,
            ${RUN_STARTED('$6::float8', '$1::text', '$5::float8')}
     FROM scheduler_claims c WHERE c.id = $7 AND c.owner = $1
     ON CONFLICT DO NOTHING`,
    [owner, run.id, run.tenant_id, run.workflow_id, run.scheduled_for, run.started_at, claimId],
  );
  return res.rowCount === 1;
}

/**
 * Turns the pairs of claims whose lease ran out (their scheduler died mid-batch) into runs as
 * lease recovery records them: queued for another attempt while max_run_attempts allows, failed
 * otherwise; a pair that already has a run (written, or settled before the crash) is left
 * alone, and so is one whose workflow was deleted. The claims are deleted in the same statement.
 */
export async function recoverExpiredClaims(db: Queryable, limit = 50): Promise<RunRow[]> {
  const { rows } = await db.query<RunRow>(
    `WITH gone AS (
       DELETE FROM scheduler_claims c
       WHERE c.id IN (SELECT id FROM scheduler_claims WHERE lease_expires_at < extract(epoch FROM now())
                      ORDER BY lease_expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING c.owner, c.claimed_at, c.run_ids, c.tenant_ids, c.workflow_ids, c.slots
     ), r AS (
       INSERT INTO workflow_runs (id, tenant_id, workflow_id, status, trigger, scheduled_for, started_at, finished_at, attempt, error, timeline)
       SELECT p.id, p.tenant_id, p.workflow_id,
              CASE WHEN 1 < w.max_run_attempts THEN 'queued' ELSE 'failed' END, 'schedule', p.slot, g.claimed_at,
              CASE WHEN 1 < w.max_run_attempts THEN NULL ELSE extract(epoch FROM now()) END,
              CASE WHEN 1 < w.max_run_attempts THEN 2 ELSE 1 END,
              'lease expired: the scheduler running it (' || g.owner || ') stopped before the run finished'
                || CASE WHEN 1 < w.max_run_attempts THEN '; retrying' ELSE '' END,
              ${RUN_STARTED('g.claimed_at', 'g.owner', 'p.slot')}
       FROM gone g, unnest(g.run_ids, g.tenant_ids, g.workflow_ids, g.slots) AS p(id, tenant_id, workflow_id, slot)
         JOIN workflows w ON w.id = p.workflow_id
       ON CONFLICT DO NOTHING
       RETURNING *
     )
     SELECT ${R_RUN_COLUMNS} FROM r`,
    [limit],
  );
  return rows;
}

/**
 * Runs claimed and not written yet, as `running` rows (alias: claimed): in-flight work that
 * runs lists, run lookups and health show beside the rows of workflow_runs.
 */
export const CLAIMED_RUNS_SQL = `SELECT p.id, p.tenant_id, p.workflow_id, 'running'::text AS status, 'schedule'::text AS trigger,
    p.slot AS scheduled_for, c.claimed_at AS started_at, NULL::float8 AS finished_at, 1 AS attempt, 0 AS step_index,
    '{}'::jsonb AS context, NULL::text AS error, c.owner AS lease_owner, c.lease_expires_at, NULL::text AS started_by
  FROM scheduler_claims c, unnest(c.run_ids, c.tenant_ids, c.workflow_ids, c.slots) AS p(id, tenant_id, workflow_id, slot)
  WHERE NOT EXISTS (SELECT 1 FROM workflow_runs x WHERE x.id = p.id)`;
