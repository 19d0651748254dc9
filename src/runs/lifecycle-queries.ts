// The run lifecycle, all of its SQL: runs are started (scheduled: claimed with their slot;
// manual: queued), claimed, checkpointed, parked at a Class C step, settled (finished or
// released) and recovered when their scheduler died. Every write to a run a scheduler holds
// goes through one lease guard (HELD). The hot statements (scheduled start, queued claim,
// settle) are one statement each for a whole batch: one round trip, one plan.
import { randomUUID } from 'node:crypto';
import { dbNow } from '../db/now.js';
import type { Queryable } from '../db/types.js';
import type { NewEvent, RunContext, RunRow, RunStatus, RunTrigger, TimelineEntry } from './types.js';

/** The columns of a RunRow (for RETURNING and SELECT lists). */
export const RUN_COLUMNS = `id, tenant_id, workflow_id, status, trigger, scheduled_for, started_at, finished_at, attempt,
  step_index, context, error, lease_owner, lease_expires_at, started_by`;
/** RUN_COLUMNS of a run aliased r. */
export const R_RUN_COLUMNS = RUN_COLUMNS.replace(/(\w+)/g, 'r.$1');

/**
 * The lease guard, the one place it is written: the run (aliased r) is still running and
 * held by the owner in $1. A run another scheduler took over is left alone.
 */
const HELD = `r.status = 'running' AND r.lease_owner = $1`;

/** Channel a scheduler loop listens on to re-plan its wake-up ('workflow') and pick up queued runs ('run'). */
export const SCHEDULER_CHANNEL = 'levqor_scheduler';

/** Wakes the scheduler loops when the caller's transaction commits. */
export async function notifyScheduler(tx: Queryable, reason: 'run' | 'workflow'): Promise<void> {
  await tx.query('SELECT pg_notify($1, $2)', [SCHEDULER_CHANNEL, reason]);
}

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

// ------------------------------------------------------------------------------ starting runs

/** Columns of an event in jsonb_to_recordset. */
export const EVENT_COLUMNS = `tenant_id uuid, run_id uuid, workflow_id uuid, type text, step_index integer, payload jsonb, created_at double precision`;

/** A scheduled run's run_started timeline entry, built in SQL from three SQL expressions. */
export const runStartedSql = (at: string, owner: string, slot: string): string =>
  `jsonb_build_array(jsonb_build_object('type', 'run_started', 'step_index', NULL, 'created_at', ${at},
     'payload', jsonb_build_object('trigger', 'schedule', 'scheduled_for', ${slot}, 'owner', ${owner})))`;

/**
 * Queues a run of a workflow in the caller's transaction (the run row, run_started on its
 * timeline), so it commits with whatever made it; NOTIFY (when asked) wakes the loops at
 * commit. `from` starts it at a later step with a context (a re-request), `note` is added to
 * its run_started entry. Returns the new run's id.
 */
export async function insertQueuedRun(
  tx: Queryable,
  run: {
    tenant_id: string;
    workflow_id: string;
    trigger: RunTrigger;
    actor: string;
    notify: boolean;
    from?: { step_index: number; context: RunContext };
    note?: Record<string, unknown>;
  },
): Promise<string> {
  const id = randomUUID();
  const now = await dbNow(tx);
  const started = { type: 'run_started', step_index: null, payload: { trigger: run.trigger, by: run.actor, ...run.note }, created_at: now };
  await tx.query(
    `INSERT INTO workflow_runs (id, tenant_id, workflow_id, status, trigger, started_at, started_by, timeline, step_index, context)
     VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7::jsonb, $8, $9::jsonb)`,
    [
      id,
      run.tenant_id,
      run.workflow_id,
      run.trigger,
      now,
      run.actor,
      JSON.stringify([started]),
      run.from?.step_index ?? 0,
      JSON.stringify(run.from?.context ?? {}),
    ],
  );
  if (run.notify) await notifyScheduler(tx, 'run');
  return id;
}

/**
 * Claims queued runs (manual, resumed after approval, retried after a crash) for `owner`, oldest
 * first, each with its workflow's row (`W`, read in the same statement): one round trip from the
 * queue to executing. `onlyId` claims that one run (a compare-and-set: of two callers, one gets it).
 */
export async function claimQueuedRuns<W>(
  db: Queryable,
  opts: { owner: string; leaseSeconds: number; limit: number; onlyId?: string },
): Promise<{ run: RunRow; workflow: W }[]> {
  const { rows } = await db.query<RunRow & { workflow: W }>(
    `UPDATE workflow_runs r SET status = 'running', lease_owner = $1, lease_expires_at = extract(epoch FROM now()) + $2
     FROM workflows w
     WHERE r.id IN (SELECT id FROM workflow_runs WHERE status = 'queued' AND ($4::uuid IS NULL OR id = $4)
                    ORDER BY started_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       AND w.id = r.workflow_id
     RETURNING ${R_RUN_COLUMNS}, to_jsonb(w) AS workflow`,
    [opts.owner, opts.leaseSeconds, opts.limit, opts.onlyId ?? null],
  );
  return rows.map(({ workflow, ...run }) => ({ workflow, run }));
}

// ------------------------------------------------------------------- while a run executes

/** Where a running run got to: its next step, its context, and timeline entries not yet written. */
export interface RunProgress {
  id: string;
  stepIndex: number;
  context: RunContext;
  timeline?: readonly TimelineEntry[];
}

/** Writes a held run's progress; parking also lets go of the lease while the run waits for a human. */
async function writeProgress(db: Queryable, owner: string, run: RunProgress, park: boolean): Promise<boolean> {
  const res = await db.query(
    `UPDATE workflow_runs r SET ${park ? `status = 'waiting_approval', lease_owner = NULL, lease_expires_at = NULL, ` : ''}step_index = $3,
       context = $4::jsonb, timeline = r.timeline || $5::jsonb
     WHERE r.id = $2 AND ${HELD}`,
    [owner, run.id, run.stepIndex, JSON.stringify(run.context), JSON.stringify(run.timeline ?? [])],
  );
  return res.rowCount === 1;
}

/** Saves a running run's progress so a later attempt resumes after its side effects; false when the lease is lost. */
export function checkpointRun(db: Queryable, owner: string, progress: RunProgress): Promise<boolean> {
  return writeProgress(db, owner, progress, false);
}

/** Parks a run this owner holds at a Class C step until a human decides; false when the lease is lost. */
export function parkRun(db: Queryable, owner: string, progress: RunProgress): Promise<boolean> {
  return writeProgress(db, owner, progress, true);
}

/** Appends to a running run's timeline (a long step shows it started while it lasts). */
export async function appendTimeline(db: Queryable, owner: string, runId: string, timeline: readonly TimelineEntry[]): Promise<boolean> {
  if (timeline.length === 0) return true;
  const res = await db.query(`UPDATE workflow_runs r SET timeline = r.timeline || $3::jsonb WHERE r.id = $2 AND ${HELD}`, [
    owner,
    runId,
    JSON.stringify(timeline),
  ]);
  return res.rowCount === 1;
}

/**
 * Extends the leases of every run this owner holds and of the batch claims it is executing now
 * (by id, as long as lease recovery has not taken them); returns the runs renewed. Claims only
 * by id: a claim whose settle failed (a database restart mid-batch) is in no process's hands,
 * and renewing it with the owner's later ticks would keep lease recovery from ever recording its
 * runs. A claim handed to recovery by its settle (its lease set to its claim time) is not renewed.
 */
export async function heartbeatRuns(db: Queryable, owner: string, leaseSeconds: number, claimIds: readonly string[]): Promise<number> {
  const res = await db.query(
    `WITH claims AS (
       UPDATE scheduler_claims SET lease_expires_at = extract(epoch FROM now()) + $2
       WHERE id = ANY($3::uuid[]) AND owner = $1 AND lease_expires_at > claimed_at
     )
     UPDATE workflow_runs r SET lease_expires_at = extract(epoch FROM now()) + $2 WHERE ${HELD}`,
    [owner, leaseSeconds, claimIds],
  );
  return res.rowCount;
}

// -------------------------------------------------------------------------- ending runs

/** Where a run ended. */
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

/** A run handed back to the queue unfinished (shutdown), with the timeline of what it did. */
export interface RunRelease {
  id: string;
  timeline: TimelineEntry[];
}

/** A claimed run that ended (or was handed back, status queued) within its batch: inserted by the settle. */
export interface ClaimedRunEnd {
  id: string;
  tenant_id: string;
  workflow_id: string;
  scheduled_for: number;
  started_at: number;
  status: RunStatus;
  step_index: number;
  context: RunContext;
  error: string | null;
  finished_at: number | null;
  timeline: readonly TimelineEntry[];
}

/** A batch claim's part of a settle: its runs that ended within the batch, and whether some were lost mid-batch. */
export interface ClaimSettle {
  id: string;
  /** Inserted once, already ended (status queued: handed back on shutdown). */
  ends: ClaimedRunEnd[];
  /** Some of the claim's runs were lost mid-batch, unwritten: the claim's lease ends and lease recovery records them. */
  keep: boolean;
}

/**
 * Settles runs this owner holds, in one statement (autocommit: no transaction round trips):
 * finished runs get their end (with their timelines), released runs go back to the queue
 * (keeping what they did on their timelines), a batch claim's runs that ended are inserted
 * once, already ended, with the claim row deleted (or, with runs lost mid-batch, its lease
 * ended for lease recovery), and the events of the runs written are inserted in order, each
 * with its run's tenant and workflow. A run whose lease was taken over (or whose claim was) is
 * left alone, and so are its events. Returns the ids finished and the number released.
 */
export async function settleRuns(
  db: Queryable,
  owner: string,
  settle: { finishes: readonly RunFinish[]; releases?: readonly RunRelease[]; events: readonly NewEvent[]; claim?: ClaimSettle },
): Promise<{ finished: Set<string>; released: number }> {
  const releases = settle.releases ?? [];
  const claim = settle.claim;
  if (settle.finishes.length === 0 && releases.length === 0 && !claim) return { finished: new Set(), released: 0 };
  // Releases happen on shutdown only: the common statement has no released CTE to plan.
  const params: unknown[] = [
    owner,
    JSON.stringify(settle.finishes),
    // An event's tenant and workflow are its run's: taken from the rows written, not sent again.
    JSON.stringify(
      settle.events.map((e) => ({
        run_id: e.run_id,
        type: e.type,
        step_index: e.step_index,
        payload: e.payload,
        created_at: e.created_at,
      })),
    ),
  ];
  const param = (value: unknown) => `$${params.push(value)}`;
  const ctes: string[] = [];
  const written = ['SELECT id, tenant_id, workflow_id, status FROM done'];
  if (releases.length > 0) {
    ctes.push(`released AS (
       UPDATE workflow_runs r SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL,
         timeline = r.timeline || coalesce(x.timeline, '[]')
       FROM jsonb_to_recordset(${param(JSON.stringify(releases))}::jsonb) AS x(id uuid, timeline jsonb)
       WHERE r.id = x.id AND ${HELD}
       RETURNING r.id, r.tenant_id, r.workflow_id, r.status
     )`);
    written.push('SELECT * FROM released');
  }
  if (claim) {
    ctes.push(
      settleClaimSql({
        claimId: `${param(claim.id)}::uuid`,
        keep: `${param(claim.keep)}::boolean`,
        ends: param(JSON.stringify(claim.ends)),
      }),
    );
    written.push('SELECT * FROM inserted');
  }
  const { rows } = await db.query<{ id: string; status: string }>(
    `WITH done AS (
       UPDATE workflow_runs r SET status = f.status, step_index = f.step_index, context = f.context, error = f.error,
         finished_at = f.finished_at, lease_owner = NULL, lease_expires_at = NULL, timeline = r.timeline || coalesce(f.timeline, '[]')
       FROM jsonb_to_recordset($2::jsonb)
         AS f(id uuid, status text, step_index integer, context jsonb, error text, finished_at double precision, timeline jsonb)
       WHERE r.id = f.id AND ${HELD}
       RETURNING r.id, r.tenant_id, r.workflow_id, r.status
     ),${ctes.map((c) => ` ${c},`).join('')} written AS (${written.join(' UNION ALL ')}),
     events AS (
       INSERT INTO workflow_events (tenant_id, run_id, workflow_id, type, step_index, payload, created_at)
       SELECT w.tenant_id, e.run_id, w.workflow_id, e.type, e.step_index, coalesce(e.payload, '{}'), e.created_at
       FROM ROWS FROM (jsonb_to_recordset($3::jsonb)
           AS (run_id uuid, type text, step_index integer, payload jsonb, created_at double precision)) WITH ORDINALITY
         AS e(run_id, type, step_index, payload, created_at, ord)
       JOIN written w ON w.id = e.run_id
       ORDER BY e.ord
     )
     SELECT id, status FROM written`,
    params,
  );
  const finished = new Set(rows.filter((r) => r.status !== 'queued').map((r) => r.id));
  return { finished, released: rows.length - finished.size };
}

/**
 * A batch claim's part of a settle (CTEs claim_done, claim_kept, inserted): the claim row is
 * deleted, or, when some of its runs were lost mid-batch (keep), its lease ends (set to its
 * claim time: the heartbeat leaves it alone) so that lease recovery records those; the runs
 * that ended are inserted, already ended, only while the claim is still this owner's ($1) and
 * their workflow still exists.
 */
function settleClaimSql(p: { claimId: string; keep: string; ends: string }): string {
  return `claim_done AS (
       DELETE FROM scheduler_claims c WHERE c.id = ${p.claimId} AND c.owner = $1 AND NOT ${p.keep}
       RETURNING c.id, c.owner
     ), claim_kept AS (
       UPDATE scheduler_claims c SET lease_expires_at = c.claimed_at
       WHERE c.id = ${p.claimId} AND c.owner = $1 AND ${p.keep}
       RETURNING c.id, c.owner
     ), inserted AS (
       INSERT INTO workflow_runs (id, tenant_id, workflow_id, status, trigger, scheduled_for, started_at, finished_at,
         step_index, context, error, timeline)
       SELECT f.id, f.tenant_id, f.workflow_id, f.status, 'schedule', f.scheduled_for, f.started_at, f.finished_at,
              f.step_index, f.context, f.error,
              ${runStartedSql('f.started_at', 'h.owner', 'f.scheduled_for')} || coalesce(f.timeline, '[]')
       FROM jsonb_to_recordset(${p.ends}::jsonb)
         AS f(id uuid, tenant_id uuid, workflow_id uuid, scheduled_for double precision, started_at double precision,
              status text, step_index integer, context jsonb, error text, finished_at double precision, timeline jsonb),
         (SELECT * FROM claim_done UNION ALL SELECT * FROM claim_kept) h
       -- A workflow deleted mid-batch takes its run with it (as its runs' rows cascade): its end
       -- is not inserted, and the rest of the batch settles.
       WHERE EXISTS (SELECT 1 FROM workflows w WHERE w.id = f.workflow_id)
       ON CONFLICT DO NOTHING
       RETURNING id, tenant_id, workflow_id, status
     )`;
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
     RETURNING ${R_RUN_COLUMNS}`,
    [limit],
  );
  return rows;
}
