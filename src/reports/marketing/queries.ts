import type { Queryable } from '../../db/types.js';

const DAY = 86_400;
const WEEK = 7 * DAY;
/** How far back first-seen dates, cohorts and audiences look. */
const LOOKBACK_SECONDS = 12 * WEEK;
/** Monday 1970-01-05 00:00 UTC: week numbers count whole UTC ISO weeks from it. */
export const EPOCH_MONDAY = 4 * DAY;
/** What counts as a user having got value from Levqor (besides an explicit "activated" event). */
const CORE_EVENTS = ['workflow.created', 'run.started', 'approval.decided', 'activated'] as const;
/** Addresses a campaign may be sent to (deliberately narrow: no quoting, no spaces). */
const EMAIL_SQL = String.raw`^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`;

/**
 * A tenant's activity in [$2, $3): the events its product sent, plus Levqor's own record of
 * what its people did — workflows defined, runs started by hand, approvals decided — derived
 * from the tables that already hold it, so no hot path writes anything extra.
 */
const ACTIVITY = `activity AS (
  SELECT user_id, event, created_at FROM engagement_events
    WHERE tenant_id = $1 AND created_at >= $2 AND created_at < $3
  UNION ALL
  SELECT updated_by, 'workflow.created', created_at FROM workflows
    WHERE tenant_id = $1 AND updated_by IS NOT NULL AND updated_by NOT LIKE 'levqor:%' AND created_at >= $2 AND created_at < $3
  UNION ALL
  SELECT started_by, 'run.started', started_at FROM workflow_runs
    WHERE tenant_id = $1 AND started_by IS NOT NULL AND started_by NOT LIKE 'levqor:%' AND started_at >= $2 AND started_at < $3
  UNION ALL
  SELECT processed_by, 'approval.decided', processed_at FROM approval_queue
    WHERE tenant_id = $1 AND status IN ('approved', 'rejected') AND processed_by NOT LIKE 'levqor:%'
      AND processed_at >= $2 AND processed_at < $3
)`;

export interface ActiveCounts {
  dau: number;
  wau: number;
  mau: number;
  events_this_week: number;
  events_last_week: number;
}

/** Distinct active users over 1, 7 and 30 days before `now`, and activity this week and last. */
export async function activeCounts(db: Queryable, tenantId: string, now: number): Promise<ActiveCounts> {
  const { rows } = await db.query<ActiveCounts>(
    `WITH ${ACTIVITY}
     SELECT count(DISTINCT user_id) FILTER (WHERE created_at >= $3 - ${DAY})::int AS dau,
       count(DISTINCT user_id) FILTER (WHERE created_at >= $3 - ${WEEK})::int AS wau,
       count(DISTINCT user_id)::int AS mau,
       count(*) FILTER (WHERE created_at >= $3 - ${WEEK})::int AS events_this_week,
       count(*) FILTER (WHERE created_at < $3 - ${WEEK} AND created_at >= $3 - ${2 * WEEK})::int AS events_last_week
     FROM activity`,
    [tenantId, now - 30 * DAY, now],
  );
  return rows[0] ?? { dau: 0, wau: 0, mau: 0, events_this_week: 0, events_last_week: 0 };
}

export interface UserFunnel {
  /** Users first seen 7–30 days ago (so each had a full week to activate). */
  new_users: number;
  /** Of those, users who did a core action within 7 days of first being seen. */
  activated: number;
  /** Users last seen 7–35 days ago: active before, silent this week. */
  lapsed: number;
  lapsed_emails: string[];
  not_activated_emails: string[];
}

/** Activation and lapse per user, with the e-mail addresses (user ids that are addresses) of each audience. */
export async function userFunnel(db: Queryable, tenantId: string, now: number, maxAudience: number): Promise<UserFunnel> {
  const { rows } = await db.query<UserFunnel>(
    `WITH ${ACTIVITY},
     users AS (
       SELECT user_id, min(created_at) AS first_seen, max(created_at) AS last_seen,
         min(created_at) FILTER (WHERE event = ANY($4::text[])) AS first_core
       FROM activity GROUP BY user_id
     ),
     flagged AS (
       SELECT user_id, user_id ~ $5 AS emailable,
         first_seen >= $3 - ${30 * DAY} AND first_seen < $3 - ${WEEK} AS is_new,
         first_core IS NOT NULL AND first_core <= first_seen + ${WEEK} AS is_activated,
         last_seen < $3 - ${WEEK} AND last_seen >= $3 - ${35 * DAY} AS is_lapsed
       FROM users
     )
     SELECT count(*) FILTER (WHERE is_new)::int AS new_users,
       count(*) FILTER (WHERE is_new AND is_activated)::int AS activated,
       count(*) FILTER (WHERE is_lapsed)::int AS lapsed,
       coalesce((array_agg(user_id ORDER BY user_id) FILTER (WHERE is_lapsed AND emailable))[1:$6], '{}') AS lapsed_emails,
       coalesce((array_agg(user_id ORDER BY user_id) FILTER (WHERE is_new AND NOT is_activated AND emailable))[1:$6], '{}') AS not_activated_emails
     FROM flagged`,
    [tenantId, now - LOOKBACK_SECONDS, now, [...CORE_EVENTS], EMAIL_SQL, maxAudience],
  );
  return rows[0] ?? { new_users: 0, activated: 0, lapsed: 0, lapsed_emails: [], not_activated_emails: [] };
}

export interface CohortCell {
  /** Week number since EPOCH_MONDAY (UTC ISO weeks) in which the users were first seen. */
  cohort: number;
  /** Weeks since the cohort week (0 = the first week). */
  age: number;
  users: number;
}

/** Weekly retention: for each of the last `weeks` cohorts, how many of its users were active each week after. */
export async function retentionCohorts(db: Queryable, tenantId: string, now: number, weeks: number): Promise<CohortCell[]> {
  const { rows } = await db.query<CohortCell>(
    `WITH ${ACTIVITY},
     weeks AS (SELECT DISTINCT user_id, floor((created_at - ${EPOCH_MONDAY}) / ${WEEK})::int AS wk FROM activity),
     firsts AS (SELECT user_id, min(wk) AS cohort FROM weeks GROUP BY user_id)
     SELECT f.cohort, w.wk - f.cohort AS age, count(*)::int AS users
     FROM weeks w JOIN firsts f USING (user_id)
     WHERE f.cohort > floor(($3 - ${EPOCH_MONDAY}) / ${WEEK})::int - $4
     GROUP BY 1, 2 ORDER BY 1, 2`,
    [tenantId, now - LOOKBACK_SECONDS, now, weeks],
  );
  return rows;
}

export interface FeatureUse {
  active_workflows: number;
  scheduled_workflows: number;
  /** Active workflows using each step type. */
  step_types: Record<string, number>;
}

/** Which step types the tenant's active workflows use (from workflows.steps). */
export async function featureUse(db: Queryable, tenantId: string): Promise<FeatureUse> {
  const { rows } = await db.query<{ type: string; workflows: number }>(
    `SELECT s ->> 'type' AS type, count(DISTINCT w.id)::int AS workflows
     FROM workflows w CROSS JOIN LATERAL jsonb_array_elements(w.steps) AS s
     WHERE w.tenant_id = $1 AND w.is_active AND w.name NOT LIKE 'campaign-%' GROUP BY 1 ORDER BY 1`,
    [tenantId],
  );
  const { rows: totals } = await db.query<{ active: number; scheduled: number }>(
    `SELECT count(*)::int AS active, count(*) FILTER (WHERE (schedule_config ->> 'enabled') = 'true')::int AS scheduled
     FROM workflows WHERE tenant_id = $1 AND is_active AND name NOT LIKE 'campaign-%'`,
    [tenantId],
  );
  return {
    active_workflows: totals[0]?.active ?? 0,
    scheduled_workflows: totals[0]?.scheduled ?? 0,
    step_types: Object.fromEntries(rows.map((r) => [r.type, r.workflows])),
  };
}

/** A proposed campaign: its workflow and run once created. */
interface CampaignRow {
  workflow_id: string | null;
  run_id: string | null;
}

/** Claims a tenant's campaign for a week: true for exactly one caller, ever. */
export async function claimCampaign(
  tx: Queryable,
  c: { tenantId: string; campaign: string; week: string; audience: number; evidence: Record<string, unknown> },
): Promise<boolean> {
  const { rows } = await tx.query(
    `INSERT INTO marketing_campaigns (tenant_id, campaign, week, audience, evidence) VALUES ($1, $2, $3, $4, $5::jsonb)
     ON CONFLICT (tenant_id, campaign, week) DO NOTHING RETURNING tenant_id`,
    [c.tenantId, c.campaign, c.week, c.audience, JSON.stringify(c.evidence)],
  );
  return rows.length > 0;
}

/** Records the workflow and run a claimed campaign got. */
export async function linkCampaignRun(
  tx: Queryable,
  c: { tenantId: string; campaign: string; week: string; workflowId: string; runId: string },
): Promise<void> {
  await tx.query('UPDATE marketing_campaigns SET workflow_id = $4, run_id = $5 WHERE tenant_id = $1 AND campaign = $2 AND week = $3', [
    c.tenantId,
    c.campaign,
    c.week,
    c.workflowId,
    c.runId,
  ]);
}

/** A tenant's campaign of a week, if proposed. */
export async function getCampaign(db: Queryable, tenantId: string, campaign: string, week: string): Promise<CampaignRow | undefined> {
  const { rows } = await db.query<CampaignRow>(
    'SELECT workflow_id, run_id FROM marketing_campaigns WHERE tenant_id = $1 AND campaign = $2 AND week = $3',
    [tenantId, campaign, week],
  );
  return rows[0];
}

/** The latest approval request of a run, or null while the run has not reached a Class C step. */
export async function latestRunRequest(db: Queryable, tenantId: string, runId: string): Promise<string | null> {
  const { rows } = await db.query<{ id: string }>(
    'SELECT id FROM approval_queue WHERE tenant_id = $1 AND run_id = $2 ORDER BY requested_at DESC LIMIT 1',
    [tenantId, runId],
  );
  return rows[0]?.id ?? null;
}
