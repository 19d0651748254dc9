import { createHash } from 'node:crypto';
import type { Queryable } from '../db/types.js';
import { canonicalJson } from '../lib/canonical-json.js';
import type { ApprovalPolicy, ApprovalRoute, ApprovalRow, ApprovalStatus } from './types.js';

const COLUMNS = `id, tenant_id, run_id, workflow_id, step_index, action_type, impact_class, summary, payload, payload_hash,
  status, requested_by, requested_at, expires_at, processed_at, processed_by, reason, execution_started_at, execution_finished_at,
  required_approvals, approvals_count, reminded_at, previous_id, source, route, stage, reminders_sent`;

// The statements of the API's read routes, exported so that bench/api measures a bare server that
// sends exactly these (getApproval, listApprovals, listVotes).
/** One request by id ($1), scoped to tenant $2 when it is not null. */
export const GET_APPROVAL_SQL = `SELECT ${COLUMNS} FROM approval_queue WHERE id = $1 AND ($2::uuid IS NULL OR tenant_id = $2)`;
/** Tenant $1's requests in status $2, oldest first, at most $3, after the cursor ($4 requested_at, $5 id) when $4 is set. */
export const LIST_APPROVALS_SQL = `SELECT ${COLUMNS} FROM approval_queue
     WHERE tenant_id = $1 AND status = $2 AND ($4::float8 IS NULL OR (requested_at, id) > ($4::float8, $5::uuid))
     ORDER BY requested_at, id LIMIT $3`;
/** The votes on request $1, in order. */
export const LIST_VOTES_SQL = `SELECT v.actor, v.person, p.display_name AS person_name, v.channel, v.vote, v.reason, v.created_at
  FROM approval_votes v LEFT JOIN people p ON p.tenant_id = v.tenant_id AND p.handle = v.person WHERE v.approval_id = $1 ORDER BY v.id`;

/** Channel on which new requests and decisions are announced (the row is the record; this is the nudge). */
export const APPROVALS_CHANNEL = 'levqor_approvals';

/** The hash an approval is bound to: the exact payload, whatever its key order. */
export function payloadHash(payload: unknown): string {
  return createHash('sha256').update(canonicalJson(payload)).digest('hex');
}

type NewApproval = Pick<
  ApprovalRow,
  'tenant_id' | 'run_id' | 'workflow_id' | 'step_index' | 'action_type' | 'impact_class' | 'summary' | 'payload' | 'requested_by'
> & {
  ttl_seconds: number;
  required_approvals?: number;
  source?: string;
  previous_id?: string | null;
};

/** Records a request for a human decision and announces it. */
export async function insertApproval(tx: Queryable, a: NewApproval): Promise<ApprovalRow> {
  const { rows } = await tx.query<ApprovalRow>(
    `INSERT INTO approval_queue (tenant_id, run_id, workflow_id, step_index, action_type, impact_class, summary, payload,
       payload_hash, requested_by, expires_at, required_approvals, source, previous_id, route)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, extract(epoch FROM now()) + $11, $12, $13, $14,
       -- The tenant's route for this action type, else its catch-all: a snapshot, so later edits change no waiting request.
       (SELECT jsonb_build_object('stages', stages, 'remind_every_seconds', remind_every_seconds, 'remind_at_fraction', remind_at_fraction)
        FROM approval_routes WHERE tenant_id = $1 AND action_type IN ($5, '*') ORDER BY action_type = '*' LIMIT 1))
     RETURNING ${COLUMNS}`,
    [
      a.tenant_id,
      a.run_id,
      a.workflow_id,
      a.step_index,
      a.action_type,
      a.impact_class,
      a.summary,
      JSON.stringify(a.payload),
      payloadHash(a.payload),
      a.requested_by,
      a.ttl_seconds,
      a.required_approvals ?? 1,
      a.source ?? 'workflow',
      a.previous_id ?? null,
    ],
  );
  const row = rows[0] as ApprovalRow;
  await publishApprovalEvent(tx, row, 'requested', { summary: row.summary, expires_at: row.expires_at });
  return row;
}

/** One request, scoped to a tenant when one is given. */
export async function getApproval(db: Queryable, id: string, tenantId?: string): Promise<ApprovalRow | undefined> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return undefined;
  const { rows } = await db.query<ApprovalRow>(GET_APPROVAL_SQL, [id, tenantId ?? null]);
  return rows[0];
}

/** The id of the request that asked again for this one (rerequested), if any. */
export async function nextRequestOf(db: Queryable, id: string): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM approval_queue WHERE previous_id = $1', [id]);
  return rows[0]?.id;
}

/** What a dispatch sends of a decided request. */
export type DispatchRow = Pick<
  ApprovalRow,
  'id' | 'tenant_id' | 'action_type' | 'summary' | 'payload' | 'processed_by' | 'status' | 'reason'
>;

/** Decided (approved, rejected or expired), not yet dispatched requests that ask for a GitHub dispatch (all tenants: a system sweep, like expiry). */
export async function dueDispatches(db: Queryable, limit: number): Promise<DispatchRow[]> {
  const { rows } = await db.query<DispatchRow>(
    `SELECT id, tenant_id, action_type, summary, payload, processed_by, status, reason FROM approval_queue
     WHERE status IN ('approved', 'rejected', 'expired') AND run_id IS NULL AND execution_started_at IS NULL AND payload ? 'dispatch'
       -- A "no" is news for a day: an upgrade (or a long outage) must not announce old rejections.
       AND (status = 'approved' OR processed_at >= extract(epoch FROM now()) - 86400)
     ORDER BY processed_at LIMIT $1`,
    [limit],
  );
  return rows;
}

/** The newest request a run made for a step. */
export async function latestApprovalForStep(db: Queryable, runId: string, stepIndex: number): Promise<ApprovalRow | undefined> {
  const { rows } = await db.query<ApprovalRow>(
    `SELECT ${COLUMNS} FROM approval_queue WHERE run_id = $1 AND step_index = $2 ORDER BY requested_at DESC, id LIMIT 1`,
    [runId, stepIndex],
  );
  return rows[0];
}

/** Requests of a tenant in one status, oldest first, after an optional (requested_at, id) cursor. */
export async function listApprovals(
  db: Queryable,
  tenantId: string,
  status: ApprovalStatus,
  limit: number,
  after?: { requested_at: number; id: string },
): Promise<ApprovalRow[]> {
  const { rows } = await db.query<ApprovalRow>(LIST_APPROVALS_SQL, [
    tenantId,
    status,
    limit,
    after?.requested_at ?? null,
    after?.id ?? null,
  ]);
  return rows;
}

/** Decided (or expired) requests of a tenant in one status, newest decision first. */
export async function listDecidedApprovals(
  db: Queryable,
  tenantId: string,
  status: Exclude<ApprovalStatus, 'pending'>,
  limit: number,
): Promise<ApprovalRow[]> {
  const { rows } = await db.query<ApprovalRow>(
    `SELECT ${COLUMNS} FROM approval_queue WHERE tenant_id = $1 AND status = $2 ORDER BY processed_at DESC NULLS LAST, id LIMIT $3`,
    [tenantId, status, limit],
  );
  return rows;
}

/** The requests a run made, oldest first. */
export async function listRunApprovals(db: Queryable, runId: string, tenantId: string): Promise<ApprovalRow[]> {
  const { rows } = await db.query<ApprovalRow>(
    `SELECT ${COLUMNS} FROM approval_queue WHERE run_id = $1 AND tenant_id = $2 ORDER BY requested_at, id`,
    [runId, tenantId],
  );
  return rows;
}

type ApprovalEventType = 'requested' | 'vote' | 'approved' | 'rejected' | 'expired' | 'reminder' | 'escalated';

export interface ApprovalEventRow {
  id: string;
  tenant_id: string;
  approval_id: string;
  type: ApprovalEventType;
  payload: Record<string, unknown>;
  created_at: number;
}

/** Records an approval event and announces it on NOTIFY; listeners catch up by id. */
export async function publishApprovalEvent(
  tx: Queryable,
  approval: Pick<ApprovalRow, 'id' | 'tenant_id'>,
  type: ApprovalEventType,
  payload: Record<string, unknown> = {},
): Promise<string> {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO approval_events (tenant_id, approval_id, type, payload) VALUES ($1, $2, $3, $4::jsonb) RETURNING id::text AS id`,
    [approval.tenant_id, approval.id, type, JSON.stringify(payload)],
  );
  const id = rows[0]?.id ?? '0';
  await tx.query('SELECT pg_notify($1, $2)', [
    APPROVALS_CHANNEL,
    JSON.stringify({ event_id: id, type, approval_id: approval.id, tenant_id: approval.tenant_id }),
  ]);
  return id;
}

/** Approval events after an id (all tenants, or one), oldest first: how a listener catches up. */
export async function approvalEventsAfter(db: Queryable, afterId: string, limit: number, tenantId?: string): Promise<ApprovalEventRow[]> {
  const { rows } = await db.query<ApprovalEventRow>(
    `SELECT id::text AS id, tenant_id, approval_id, type, payload, created_at FROM approval_events
     WHERE approval_events.id > $1::bigint AND ($3::uuid IS NULL OR tenant_id = $3)
     ORDER BY approval_events.id LIMIT $2`,
    [afterId, limit, tenantId ?? null],
  );
  return rows;
}

/** Locks a request: votes for one request, and re-requests of it, are taken one at a time. */
export async function lockApproval(tx: Queryable, id: string, tenantId?: string): Promise<ApprovalRow | undefined> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return undefined;
  const { rows } = await tx.query<ApprovalRow>(
    `SELECT ${COLUMNS}, extract(epoch FROM now())::float8 AS db_now FROM approval_queue
     WHERE id = $1 AND ($2::uuid IS NULL OR tenant_id = $2) FOR UPDATE`,
    [id, tenantId ?? null],
  );
  return rows[0];
}

/**
 * Records one vote; false when that identity, or the person behind it (whatever channel they
 * used), already voted on the request: the table's unique indexes decide, so it holds under races.
 */
export async function insertVote(
  tx: Queryable,
  v: {
    tenant_id: string;
    approval_id: string;
    actor: string;
    person: string | null;
    channel: string;
    vote: 'approve' | 'reject';
    reason: string | null;
  },
): Promise<boolean> {
  const res = await tx.query(
    `INSERT INTO approval_votes (tenant_id, approval_id, actor, person, channel, vote, reason) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT DO NOTHING`,
    [v.tenant_id, v.approval_id, v.actor, v.person, v.channel, v.vote, v.reason],
  );
  return res.rowCount === 1;
}

/** A person's vote on a request (the one a second vote through another channel collides with). */
export async function personVote(
  db: Queryable,
  approvalId: string,
  person: string,
): Promise<{ actor: string; channel: string; vote: string } | undefined> {
  const { rows } = await db.query<{ actor: string; channel: string; vote: string }>(
    'SELECT actor, channel, vote FROM approval_votes WHERE approval_id = $1 AND person = $2',
    [approvalId, person],
  );
  return rows[0];
}

/** Counts one more approval on a still-pending request. */
export async function addApprovalVote(tx: Queryable, id: string): Promise<ApprovalRow | undefined> {
  const { rows } = await tx.query<ApprovalRow>(
    `UPDATE approval_queue SET approvals_count = approvals_count + 1 WHERE id = $1 AND status = 'pending' RETURNING ${COLUMNS}`,
    [id],
  );
  return rows[0];
}

/** A vote as shown: the channel identity, and the person behind it (handle and current name) when known. */
export interface VoteRow {
  actor: string;
  person: string | null;
  person_name: string | null;
  channel: string;
  vote: string;
  reason: string | null;
  created_at: number;
}

/** The votes cast on a request, in order. */
export async function listVotes(db: Queryable, approvalId: string): Promise<VoteRow[]> {
  const { rows } = await db.query<VoteRow>(LIST_VOTES_SQL, [approvalId]);
  return rows;
}

/** The display name of the person who made each request's deciding vote (by request id), where the directory knows them. */
export async function deciderNames(db: Queryable, approvalIds: readonly string[]): Promise<Record<string, string>> {
  if (approvalIds.length === 0) return {};
  const { rows } = await db.query<{ approval_id: string; display_name: string }>(
    `SELECT v.approval_id, p.display_name FROM approval_votes v
     JOIN approval_queue a ON a.id = v.approval_id AND a.processed_by = v.actor
     JOIN people p ON p.tenant_id = v.tenant_id AND p.handle = v.person
     WHERE v.approval_id = ANY($1::uuid[])`,
    [approvalIds],
  );
  return Object.fromEntries(rows.map((r) => [r.approval_id, r.display_name]));
}

/** COLUMNS of the alias q (an UPDATE … FROM, where a bare name could be ambiguous). */
const Q_COLUMNS = COLUMNS.replace(/(\w+)/g, 'q.$1');

/** The sweep's "now": an injected clock (tests) or the database's. */
const SWEEP_NOW = 'coalesce($2::float8, extract(epoch FROM now()))';

/**
 * Marks every pending request a reminder is due for, and announces each (a "reminder" event
 * with the count and the real time left). Due: a scheduled time lies after the last reminder
 * (or the request) and at or before now. Scheduled: every route.remind_every_seconds, and at
 * route.remind_at_fraction of the lifetime (80 % without a route). A sweep that comes late
 * sends one reminder, not a burst. SKIP LOCKED and the counters: once across replicas.
 */
export async function remindDue(tx: Queryable, limit = 500, now?: number): Promise<ApprovalRow[]> {
  const { rows } = await tx.query<ApprovalRow & { now: number }>(
    `WITH c AS (SELECT ${SWEEP_NOW} AS now),
     due AS (
       SELECT a.id FROM approval_queue a, c
       WHERE a.status = 'pending' AND a.expires_at > c.now AND (
         (a.requested_at + coalesce(CASE WHEN a.route IS NULL THEN 0.8 ELSE (a.route ->> 'remind_at_fraction')::float8 END, 2)
            * (a.expires_at - a.requested_at)) BETWEEN coalesce(a.reminded_at, a.requested_at) + 1e-6 AND c.now
         OR floor((c.now - a.requested_at) / (a.route ->> 'remind_every_seconds')::float8)
            > floor((coalesce(a.reminded_at, a.requested_at) - a.requested_at) / (a.route ->> 'remind_every_seconds')::float8))
       ORDER BY a.expires_at LIMIT $1 FOR UPDATE OF a SKIP LOCKED)
     UPDATE approval_queue q SET reminded_at = c.now, reminders_sent = q.reminders_sent + 1
     FROM due, c WHERE q.id = due.id
     RETURNING ${Q_COLUMNS}, c.now AS now`,
    [limit, now ?? null],
  );
  for (const row of rows)
    await publishApprovalEvent(tx, row, 'reminder', {
      n: row.reminders_sent,
      expires_at: row.expires_at,
      remaining_seconds: Math.max(0, Math.round(row.expires_at - row.now)),
      summary: row.summary,
    });
  return rows.map(({ now: _now, ...row }) => row);
}

/**
 * Opens the next stages of routed requests whose waits have passed (stage = how many stages'
 * after_seconds have elapsed) and announces each step as an "escalated" event naming the
 * newly eligible approvers. SKIP LOCKED and the stage counter: once across replicas.
 */
export async function escalateDue(tx: Queryable, limit = 500, now?: number): Promise<ApprovalRow[]> {
  const elapsedStages = `(SELECT count(*)::int FROM jsonb_array_elements(a.route -> 'stages') s
                          WHERE (s ->> 'after_seconds')::float8 <= c.now - a.requested_at)`;
  const { rows } = await tx.query<ApprovalRow & { previous_stage: number }>(
    `WITH c AS (SELECT ${SWEEP_NOW} AS now),
     due AS (
       SELECT a.id, a.stage AS previous_stage, ${elapsedStages} AS stage FROM approval_queue a, c
       WHERE a.status = 'pending' AND a.route IS NOT NULL AND a.expires_at > c.now AND ${elapsedStages} > a.stage
       ORDER BY a.requested_at LIMIT $1 FOR UPDATE OF a SKIP LOCKED)
     UPDATE approval_queue q SET stage = due.stage FROM due WHERE q.id = due.id
     RETURNING ${Q_COLUMNS}, due.previous_stage`,
    [limit, now ?? null],
  );
  for (const row of rows) {
    const opened = (row.route?.stages ?? []).slice(row.previous_stage, row.stage);
    await publishApprovalEvent(tx, row, 'escalated', {
      stage: row.stage,
      stages: opened.map((s) => s.name),
      approvers: opened.flatMap((s) => s.approvers),
      summary: row.summary,
    });
  }
  return rows.map(({ previous_stage: _p, ...row }) => row);
}

/** A tenant's routes, the catch-all ("*") first. */
export async function listRoutes(db: Queryable, tenantId: string): Promise<ApprovalRoute[]> {
  const { rows } = await db.query<ApprovalRoute>(
    `SELECT action_type, stages, remind_every_seconds, remind_at_fraction, updated_at, updated_by
     FROM approval_routes WHERE tenant_id = $1 ORDER BY action_type <> '*', action_type`,
    [tenantId],
  );
  return rows;
}

/** Stores (or replaces) a tenant's route for an action type. */
export async function upsertRoute(db: Queryable, tenantId: string, route: Omit<ApprovalRoute, 'updated_at'>): Promise<ApprovalRoute> {
  const { rows } = await db.query<ApprovalRoute>(
    `INSERT INTO approval_routes (tenant_id, action_type, stages, remind_every_seconds, remind_at_fraction, updated_by)
     VALUES ($1, $2, $3::jsonb, $4, $5, $6)
     ON CONFLICT (tenant_id, action_type) DO UPDATE SET stages = EXCLUDED.stages, remind_every_seconds = EXCLUDED.remind_every_seconds,
       remind_at_fraction = EXCLUDED.remind_at_fraction, updated_by = EXCLUDED.updated_by, updated_at = extract(epoch FROM now())
     RETURNING action_type, stages, remind_every_seconds, remind_at_fraction, updated_at, updated_by`,
    [tenantId, route.action_type, JSON.stringify(route.stages), route.remind_every_seconds, route.remind_at_fraction, route.updated_by],
  );
  return rows[0] as ApprovalRoute;
}

/** Removes a tenant's route for an action type; false when there was none. */
export async function deleteRoute(db: Queryable, tenantId: string, actionType: string): Promise<boolean> {
  const res = await db.query('DELETE FROM approval_routes WHERE tenant_id = $1 AND action_type = $2', [tenantId, actionType]);
  return res.rowCount === 1;
}

/**
 * The decision itself: one conditional UPDATE, so of any number of concurrent deciders
 * exactly one wins. Returns the decided row, or undefined when it was no longer pending.
 */
export async function decidePending(
  tx: Queryable,
  id: string,
  status: 'approved' | 'rejected' | 'expired',
  actor: string,
  reason: string | null,
  /** More for the event (the person behind the actor). */
  detail: Record<string, unknown> = {},
): Promise<ApprovalRow | undefined> {
  const { rows } = await tx.query<ApprovalRow>(
    `UPDATE approval_queue SET status = $2, processed_at = extract(epoch FROM now()), processed_by = $3, reason = $4
     WHERE id = $1 AND status = 'pending' RETURNING ${COLUMNS}`,
    [id, status, actor, reason],
  );
  const row = rows[0];
  if (row) await publishApprovalEvent(tx, row, status, { by: actor, ...detail, reason });
  return row;
}

/**
 * Claims the one execution of a decided request: the approved action itself, or (with
 * `decisions` naming rejected and expired too) its repository_dispatch. A conditional UPDATE,
 * so of any number of concurrent callers exactly one gets true.
 */
export async function claimExecution(tx: Queryable, id: string, decisions: readonly string[] = ['approved']): Promise<boolean> {
  const res = await tx.query(
    `UPDATE approval_queue SET execution_started_at = extract(epoch FROM now())
     WHERE id = $1 AND status = ANY($2::text[]) AND execution_started_at IS NULL`,
    [id, decisions],
  );
  return res.rowCount === 1;
}

/** Marks the approved action as done. */
export async function finishExecution(tx: Queryable, id: string): Promise<void> {
  await tx.query('UPDATE approval_queue SET execution_finished_at = extract(epoch FROM now()) WHERE id = $1', [id]);
}

/** Expires every pending request past its time; returns them. */
export async function expireDue(tx: Queryable, limit = 500): Promise<ApprovalRow[]> {
  const { rows } = await tx.query<ApprovalRow>(
    `UPDATE approval_queue SET status = 'expired', processed_at = extract(epoch FROM now()), processed_by = 'levqor:expiry',
       reason = 'no decision before ' || to_char(to_timestamp(expires_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
     WHERE id IN (SELECT id FROM approval_queue WHERE status = 'pending' AND expires_at <= extract(epoch FROM now())
                  ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING ${COLUMNS}`,
    [limit],
  );
  for (const row of rows) await publishApprovalEvent(tx, row, 'expired', { reason: row.reason });
  return rows;
}

/** A tenant's stored approval rules, or undefined when it has none. */
export async function getPolicy(
  db: Queryable,
  tenantId: string,
): Promise<(ApprovalPolicy & { updated_at: number; updated_by: string | null }) | undefined> {
  const { rows } = await db.query<ApprovalPolicy & { updated_at: number; updated_by: string | null }>(
    `SELECT approvers, groups, required_approvals, allow_self_approval, ttl_seconds, updated_at, updated_by
     FROM approval_policies WHERE tenant_id = $1`,
    [tenantId],
  );
  return rows[0];
}

/** Stores a tenant's approval rules. */
export async function setPolicy(db: Queryable, tenantId: string, p: ApprovalPolicy, by: string): Promise<void> {
  await db.query(
    `INSERT INTO approval_policies (tenant_id, approvers, groups, required_approvals, allow_self_approval, ttl_seconds, updated_by)
     VALUES ($1, $2::text[], $3::jsonb, $4, $5, $6, $7)
     ON CONFLICT (tenant_id) DO UPDATE SET approvers = excluded.approvers, groups = excluded.groups,
       required_approvals = excluded.required_approvals, allow_self_approval = excluded.allow_self_approval,
       ttl_seconds = excluded.ttl_seconds, updated_by = excluded.updated_by, updated_at = extract(epoch FROM now())`,
    [tenantId, p.approvers, JSON.stringify(p.groups), p.required_approvals, p.allow_self_approval, p.ttl_seconds, by],
  );
}
