import type { Queryable } from '../db/types.js';
import type { EngagementEvent } from './engagement.js';
import { templateErrorMessage } from '../workflows/templates.js';

// The reports capability's SQL (analytics, engagement events, demo history); the weekly report's
// is in weekly-queries.ts and the marketing cycle's in marketing/queries.ts.

/** Run counts and duration percentiles of one workflow (grp = 0) or of the tenant (grp = 1). */
export interface RunAggRow {
  workflow_id: string | null;
  grp: number;
  runs: number;
  succeeded: number;
  failed: number;
  p50: unknown;
  p95: unknown;
}
/** Class C request counts and the median decision time, grouped like RunAggRow. */
export interface ApprovalAggRow {
  workflow_id: string | null;
  grp: number;
  requested: number;
  approved: number;
  rejected: number;
  expired: number;
  pending: number;
  median_d: unknown;
}

/** Runs started in [from, to) by workflow, and in total (the grouping set with grp = 1). */
export async function runAggregates(db: Queryable, tenantId: string, from: number, to: number): Promise<RunAggRow[]> {
  const { rows } = await db.query<RunAggRow>(
    `SELECT workflow_id, GROUPING(workflow_id)::int AS grp, count(*)::int AS runs,
       count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
       count(*) FILTER (WHERE status = 'failed')::int AS failed,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY finished_at - started_at)
         FILTER (WHERE status IN ('succeeded', 'failed') AND finished_at IS NOT NULL) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY finished_at - started_at)
         FILTER (WHERE status IN ('succeeded', 'failed') AND finished_at IS NOT NULL) AS p95
     FROM workflow_runs WHERE tenant_id = $1 AND started_at >= $2 AND started_at < $3
     GROUP BY GROUPING SETS ((workflow_id), ())`,
    [tenantId, from, to],
  );
  return rows;
}

/** Class C requests made in [from, to) by workflow (submitted actions have none), and in total. */
export async function approvalAggregates(db: Queryable, tenantId: string, from: number, to: number): Promise<ApprovalAggRow[]> {
  const { rows } = await db.query<ApprovalAggRow>(
    `SELECT workflow_id, GROUPING(workflow_id)::int AS grp, count(*)::int AS requested,
       count(*) FILTER (WHERE status = 'approved')::int AS approved,
       count(*) FILTER (WHERE status = 'rejected')::int AS rejected,
       count(*) FILTER (WHERE status = 'expired')::int AS expired,
       count(*) FILTER (WHERE status = 'pending')::int AS pending,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY processed_at - requested_at)
         FILTER (WHERE status IN ('approved', 'rejected')) AS median_d
     FROM approval_queue WHERE tenant_id = $1 AND impact_class = 'C' AND requested_at >= $2 AND requested_at < $3
     GROUP BY GROUPING SETS ((workflow_id), ())`,
    [tenantId, from, to],
  );
  return rows;
}

/** The names of a tenant's workflows by id. */
export async function workflowNames(db: Queryable, tenantId: string, ids: readonly string[]): Promise<Map<string, string>> {
  const { rows } = await db.query<{ id: string; name: string }>(
    'SELECT id, name FROM workflows WHERE tenant_id = $1 AND id = ANY($2::uuid[])',
    [tenantId, ids],
  );
  return new Map(rows.map((n) => [n.id, n.name]));
}

/** Stores a batch in one statement; returns how many were new (the rest repeated an event_id). */
export async function insertEngagementEvents(
  db: Queryable,
  tenantId: string,
  events: readonly EngagementEvent[],
  now: number,
): Promise<number> {
  const rows = events.map((e) => ({
    user_id: e.user_id,
    event: e.event,
    properties: e.properties ?? {},
    created_at: e.created_at ?? now,
    event_id: e.event_id ?? null,
  }));
  const res = await db.query(
    `INSERT INTO engagement_events (tenant_id, user_id, event, properties, created_at, event_id)
     SELECT $1, r.user_id, r.event, coalesce(r.properties, '{}'), r.created_at, r.event_id
     FROM jsonb_to_recordset($2::jsonb) AS r(user_id text, event text, properties jsonb, created_at float8, event_id text)
     ON CONFLICT (tenant_id, event_id) WHERE event_id IS NOT NULL DO NOTHING`,
    [tenantId, JSON.stringify(rows)],
  );
  return res.rowCount;
}

const REASONS = ['Not authorized', 'Wrong recipient list', "Duplicate of yesterday's call", 'Partner asked us to pause'];
const ERRORS = [
  'HTTP 502 from partner.example.com',
  'connect ETIMEDOUT 203.0.113.10:443',
  // The text a run really ends with (see workflows/templates.ts), not an invented one.
  `step 2 (log): ${templateErrorMessage(['in message: vars.title is undefined'])}`,
  'SMTP 451 try again later',
];

/**
 * Scheduled runs of one workflow every `every` seconds over the history, with failures and
 * durations; for Class C workflows each run also has its approval request, decided at
 * various latencies (approved, rejected with a reason, or expired). One statement each.
 */
export async function seedDemoRuns(
  tx: Queryable,
  tenantId: string,
  wfId: string,
  from: number,
  to: number,
  every: number,
  opts: { failRate: number; dur: [number, number]; classC: boolean },
): Promise<{ runs: number; approvals: number }> {
  const { rows } = await tx.query<{ runs: number; approvals: number }>(
    `WITH slots AS (
       SELECT $3::float8 + i * $5::float8 AS slot, random() AS u, random() AS v, random() AS w
       FROM generate_series(0, floor(($4::float8 - $3::float8) / $5::float8)::int - 1) AS i
     ),
     planned AS (
       SELECT slot, u, v, w,
         CASE WHEN NOT $8 THEN (CASE WHEN u < $6 THEN 'failed' ELSE 'succeeded' END)
              WHEN v < 0.08 THEN 'rejected' WHEN v < 0.13 THEN 'expired'
              WHEN u < $6 THEN 'failed' ELSE 'succeeded' END AS status,
         -- Class C runs wait for a decision: 1 min to 9 h, long-tailed.
         CASE WHEN $8 THEN 60 + 32400 * power(w, 3) ELSE 0 END AS wait
       FROM slots
     ),
     runs AS (
       INSERT INTO workflow_runs (tenant_id, workflow_id, status, trigger, scheduled_for, started_at, finished_at, error, step_index)
       SELECT $1, $2, status, 'schedule', slot, slot + 0.2 + 4 * w * w,
         slot + 0.2 + 4 * w * w + (CASE WHEN status = 'expired' THEN 86400 ELSE wait END) + $9 + ($10 - $9) * power(u, 2),
         CASE status WHEN 'failed' THEN ($11::text[])[1 + floor(w * array_length($11::text[], 1))::int]
                     WHEN 'rejected' THEN 'rejected by token:lead'
                     WHEN 'expired' THEN 'approval expired without a decision' END,
         0
       FROM planned
       ON CONFLICT (workflow_id, scheduled_for) DO NOTHING
       RETURNING id, status, started_at, scheduled_for
     ),
     approvals AS (
       INSERT INTO approval_queue (tenant_id, run_id, workflow_id, step_index, action_type, impact_class, summary, payload, payload_hash,
         status, requested_by, requested_at, expires_at, processed_at, processed_by, reason, approvals_count, execution_started_at, execution_finished_at)
       SELECT $1, r.id, $2, 0, 'http', 'C', 'demo history: POST https://partner.example.com/hooks/levqor', '{}', 'demo',
         CASE WHEN r.status IN ('rejected', 'expired') THEN r.status ELSE 'approved' END, 'levqor:demo', r.started_at, r.started_at + 86400,
         r.started_at + CASE WHEN r.status = 'expired' THEN 86400 ELSE p.wait END,
         CASE r.status WHEN 'expired' THEN 'levqor:expiry' WHEN 'rejected' THEN 'token:lead' ELSE 'token:ops' END,
         CASE r.status WHEN 'rejected' THEN ($7::text[])[1 + floor(p.u * array_length($7::text[], 1))::int] END,
         CASE WHEN r.status IN ('succeeded', 'failed') THEN 1 ELSE 0 END,
         CASE WHEN r.status IN ('succeeded', 'failed') THEN r.started_at + p.wait END,
         CASE WHEN r.status IN ('succeeded', 'failed') THEN r.started_at + p.wait + 1 END
       FROM runs r JOIN planned p ON p.slot = r.scheduled_for
       WHERE $8
       RETURNING id
     )
     SELECT (SELECT count(*)::int FROM runs) AS runs, (SELECT count(*)::int FROM approvals) AS approvals`,
    [tenantId, wfId, from, to, every, opts.failRate, REASONS, opts.classC, opts.dur[0], opts.dur[1], ERRORS],
  );
  return rows[0] ?? { runs: 0, approvals: 0 };
}

/** Engagement events of 40 users: most active most days, a few lapsing in the last weeks, newcomers joining later. */
export async function seedDemoEvents(tx: Queryable, tenantId: string, tenantName: string, from: number, to: number): Promise<number> {
  const res = await tx.query(
    `INSERT INTO engagement_events (tenant_id, user_id, event, properties, created_at)
     SELECT $1, 'user' || u || '@' || $2 || '.example', (ARRAY['login', 'dashboard.view', 'approvals.view', 'workflow.edit', 'activated'])[1 + ((e + u) % 5)],
       jsonb_build_object('source', 'demo'), d + 3600 * (8 + 10 * random())
     FROM generate_series(1, 40) AS u,
          LATERAL (SELECT $3::float8 + day * 86400 AS d FROM generate_series(0, floor(($4::float8 - $3::float8) / 86400)::int - 1) AS day) AS days,
          generate_series(0, 3) AS e
     WHERE random() < CASE
         WHEN u <= 6 AND d > $4 - 14 * 86400 THEN 0.0                 -- lapsed: silent for the last two weeks
         WHEN u > 32 AND d < $3 + (u - 32) * 7 * 86400 THEN 0.0       -- newcomers: one cohort a week
         WHEN u % 3 = 0 THEN 0.15 ELSE 0.45 END`,
    [tenantId, tenantName, from, to],
  );
  return res.rowCount;
}

/** Whether a tenant has a run started before `before` (epoch seconds). */
export async function hasRunsBefore(db: Queryable, tenantId: string, before: number): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM workflow_runs WHERE tenant_id = $1 AND started_at < $2 LIMIT 1', [tenantId, before]);
  return rows.length > 0;
}

/** A demo audit trail: the partner workflow paused and re-activated every third day of [from, from + days). */
export async function seedDemoAudit(db: Queryable, tenantId: string, from: number, days: number): Promise<void> {
  await db.query(
    `INSERT INTO audit_log (tenant_id, actor, action, subject, detail, created_at)
     SELECT $1, 'run:demo', CASE WHEN i % 2 = 0 THEN 'workflow.pause' ELSE 'workflow.activate' END, 'workflow:notify-partner', '{"demo": true}', $2::float8 + i * 86400 * 3
     FROM generate_series(0, $3::int) AS i`,
    [tenantId, from, Math.floor(days / 3) - 1],
  );
}
