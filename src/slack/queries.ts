import type { Queryable } from '../db/types.js';
import type { ApprovalRow } from '../approvals/types.js';
import type { ApprovalView } from './blocks.js';

/** A request as its Slack message shows it, with where that message is. */
type SlackApprovalRow = ApprovalView &
  Pick<ApprovalRow, 'tenant_id' | 'impact_class' | 'reminded_at' | 'route' | 'stage' | 'reminders_sent'> & {
    /** The route stage and the reminder count the Slack thread has announced. */
    slack_stage: number;
    slack_reminders: number;
    slack_channel: string | null;
    slack_ts: string | null;
    slack_rendered: string | null;
    slack_reminder_ts: string | null;
    /** Slack calls for this request that failed in a row. */
    slack_attempts: number;
    db_now: number;
  };

/**
 * Serialises Slack work on one request across every bot process until the transaction
 * ends: posting, updating and the reminder reply each happen once.
 */
export async function lockSlackMessage(tx: Queryable, approvalId: string): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtext('levqor_slack:' || $1::text))", [approvalId]);
}

/** One request with its workflow's name and its Slack message, scoped to a tenant when given. */
export async function getSlackApproval(db: Queryable, id: string, tenantId?: string): Promise<SlackApprovalRow | undefined> {
  const { rows } = await db.query<SlackApprovalRow>(
    `SELECT a.id, a.tenant_id, a.action_type, a.impact_class, a.summary, a.payload, a.status, a.requested_by, a.requested_at,
       a.expires_at, a.processed_at, a.processed_by, a.reason, a.run_id, a.required_approvals, a.approvals_count, a.reminded_at,
       a.route, a.stage, a.reminders_sent, a.slack_stage, a.slack_reminders,
       a.slack_channel, a.slack_ts, a.slack_rendered, a.slack_reminder_ts, a.slack_attempts, w.name AS workflow_name,
       (SELECT p.display_name FROM approval_votes v JOIN people p ON p.tenant_id = v.tenant_id AND p.handle = v.person
        WHERE v.approval_id = a.id AND v.actor = a.processed_by) AS processed_by_name,
       extract(epoch FROM now())::float8 AS db_now
     FROM approval_queue a LEFT JOIN workflows w ON w.id = a.workflow_id AND w.tenant_id = a.tenant_id
     WHERE a.id = $1 AND ($2::uuid IS NULL OR a.tenant_id = $2)`,
    [id, tenantId ?? null],
  );
  return rows[0];
}

/** A Slack call that worked clears the record of failures before it. */
const CLEARED = 'slack_attempts = 0, slack_retry_at = NULL, slack_error = NULL';

/** Records where a request was posted and the state the message shows. */
export async function recordPosted(tx: Queryable, id: string, channel: string, ts: string, rendered: string): Promise<void> {
  await tx.query(`UPDATE approval_queue SET slack_channel = $2, slack_ts = $3, slack_rendered = $4, ${CLEARED} WHERE id = $1`, [
    id,
    channel,
    ts,
    rendered,
  ]);
}

/** Records the state a request's message now shows. */
export async function recordRendered(tx: Queryable, id: string, rendered: string): Promise<void> {
  await tx.query(`UPDATE approval_queue SET slack_rendered = $2, ${CLEARED} WHERE id = $1`, [id, rendered]);
}

/** Records a reminder thread reply: the count announced so far (and the latest reply). */
export async function recordReminder(tx: Queryable, id: string, ts: string, count: number): Promise<void> {
  await tx.query(
    `UPDATE approval_queue SET slack_reminder_ts = $2, slack_reminders = greatest(slack_reminders, $3), ${CLEARED} WHERE id = $1`,
    [id, ts, count],
  );
}

/** Records that the thread announced the route up to this stage. */
export async function recordStageAnnounced(tx: Queryable, id: string, stage: number): Promise<void> {
  await tx.query(`UPDATE approval_queue SET slack_stage = greatest(slack_stage, $2), ${CLEARED} WHERE id = $1`, [id, stage]);
}

/** Records a failed Slack call for a request: the sweep leaves it alone for `retryIn` seconds. */
export async function recordSlackFailure(tx: Queryable, id: string, error: string, retryIn: number): Promise<void> {
  await tx.query(
    `UPDATE approval_queue SET slack_attempts = slack_attempts + 1, slack_error = $2, slack_retry_at = extract(epoch FROM now()) + $3
     WHERE id = $1`,
    [id, error, retryIn],
  );
}

/** A request whose last Slack call failed waits out its back-off before the sweep or the feed tries it again. */
const NOT_BACKING_OFF = '(a.slack_retry_at IS NULL OR a.slack_retry_at <= extract(epoch FROM now()))';

/**
 * Requests of connected tenants whose Slack message is missing, out of date or owes a
 * reminder: what a bot catches up on after downtime or a failed Slack call.
 */
export async function approvalsNeedingSync(db: Queryable, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT a.id FROM approval_queue a JOIN slack_settings s ON s.tenant_id = a.tenant_id
     WHERE ((a.status = 'pending' AND a.slack_ts IS NULL AND a.impact_class = 'C' AND a.expires_at > extract(epoch FROM now()))
        OR (a.slack_ts IS NOT NULL AND a.slack_rendered IS DISTINCT FROM a.status || ':' || a.approvals_count)
        OR (a.status = 'pending' AND a.slack_ts IS NOT NULL AND (a.reminders_sent > a.slack_reminders OR a.stage > a.slack_stage)))
       AND ${NOT_BACKING_OFF}
     ORDER BY a.requested_at LIMIT $1`,
    [limit],
  );
  return rows.map((r) => r.id);
}

/**
 * Of the given requests, those whose Slack message may be behind (one query, no locks): the
 * feed skips the rest, which another bot or the click handler already brought up to date.
 */
export async function approvalsBehind(db: Queryable, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<{ id: string }>(
    `SELECT a.id FROM approval_queue a JOIN slack_settings s ON s.tenant_id = a.tenant_id
     WHERE a.id = ANY($1::uuid[]) AND ${NOT_BACKING_OFF}
       AND ((a.slack_ts IS NULL AND a.status = 'pending')
         OR a.slack_rendered IS DISTINCT FROM a.status || ':' || a.approvals_count
         OR (a.status = 'pending' AND (a.reminders_sent > a.slack_reminders OR a.stage > a.slack_stage)))
     ORDER BY a.requested_at`,
    [ids],
  );
  return rows.map((r) => r.id);
}

/** Records a delivery; false when the same payload was already delivered (a retry or a replay). */
export async function recordDelivery(db: Queryable, d: { key: string; team_id: string | null; kind: string }): Promise<boolean> {
  const res = await db.query('INSERT INTO slack_deliveries (key, team_id, kind) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING', [
    d.key,
    d.team_id,
    d.kind,
  ]);
  return res.rowCount === 1;
}

/** Forgets deliveries older than `seconds` (Slack refuses to retry, and we to accept, anything that old). */
export async function pruneDeliveries(db: Queryable, seconds: number): Promise<number> {
  const res = await db.query('DELETE FROM slack_deliveries WHERE received_at < extract(epoch FROM now()) - $1', [seconds]);
  return res.rowCount;
}

const FEED = 'approvals';

/** The shared position in the approval event feed; created at the feed's end on first use. */
export async function readFeedCursor(db: Queryable): Promise<string> {
  await db.query(
    `INSERT INTO slack_feed_cursor (name, last_event_id) SELECT $1, coalesce(max(id), 0) FROM approval_events
     ON CONFLICT (name) DO NOTHING`,
    [FEED],
  );
  const { rows } = await db.query<{ last_event_id: string }>(
    'SELECT last_event_id::text AS last_event_id FROM slack_feed_cursor WHERE name = $1',
    [FEED],
  );
  return rows[0]?.last_event_id ?? '0';
}

/** Moves the shared cursor forward (never back: several bots advance it). */
export async function advanceFeedCursor(db: Queryable, eventId: string): Promise<void> {
  await db.query(
    `UPDATE slack_feed_cursor SET last_event_id = greatest(last_event_id, $2::bigint), updated_at = extract(epoch FROM now()) WHERE name = $1`,
    [FEED, eventId],
  );
}

/** A Slack post that failed and has not worked since: what `levqor slack show` lists. */
interface SlackFailureRow {
  tenant_id: string;
  /** "approval <id>", "weekly_report 2026-W47", "alert 12:firing"… */
  post: string;
  channel: string;
  error: string;
  attempts: number;
  /** Next try (epoch seconds), or null: not before `levqor slack configure`. */
  retry_at: number | null;
}

/** Pending requests whose Slack message keeps failing, and scheduled posts of the last week that failed, for the given tenants. */
export async function slackFailures(db: Queryable, tenantIds: string[]): Promise<SlackFailureRow[]> {
  const { rows } = await db.query<SlackFailureRow>(
    `SELECT a.tenant_id, 'approval ' || a.id AS post, coalesce(a.slack_channel, s.approvals_channel) AS channel, a.slack_error AS error,
            a.slack_attempts AS attempts, a.slack_retry_at AS retry_at
     FROM approval_queue a JOIN slack_settings s ON s.tenant_id = a.tenant_id
     WHERE a.tenant_id = ANY($1::uuid[]) AND a.status = 'pending' AND a.slack_error IS NOT NULL
     UNION ALL
     SELECT p.tenant_id, p.kind || ' ' || p.period, p.channel, p.error, p.attempts, CASE WHEN p.status = 'retry' THEN p.retry_at END
     FROM slack_posts p
     WHERE p.tenant_id = ANY($1::uuid[]) AND p.status IN ('retry', 'failed') AND p.claimed_at > extract(epoch FROM now()) - 7 * 86400
     ORDER BY 1, 2`,
    [tenantIds],
  );
  return rows;
}

/** How the Slack messages of pending Class C requests stand, for `levqor doctor approvals` (one tenant, or all). */
interface SlackDeliveryStatus {
  /** Tenants connected to Slack (among those asked about). */
  connected: number;
  /** Pending Class C requests of connected tenants. */
  pending: number;
  /** … whose message could not be posted (Slack refused or failed). */
  failing: number;
  /** … not posted a minute after the request, with no failure recorded (no bot running?). */
  late: number;
  /** The distinct failures, comma separated. */
  errors: string | null;
}

export async function slackDeliveryStatus(db: Queryable, tenantId?: string): Promise<SlackDeliveryStatus> {
  const { rows } = await db.query<SlackDeliveryStatus>(
    `SELECT (SELECT count(*)::int FROM slack_settings WHERE $1::uuid IS NULL OR tenant_id = $1) AS connected,
            count(a.id)::int AS pending,
            count(a.id) FILTER (WHERE a.slack_ts IS NULL AND a.slack_error IS NOT NULL)::int AS failing,
            count(a.id) FILTER (WHERE a.slack_ts IS NULL AND a.slack_error IS NULL AND a.requested_at < extract(epoch FROM now()) - 60)::int AS late,
            string_agg(DISTINCT a.slack_error, ', ') AS errors
     FROM approval_queue a JOIN slack_settings s ON s.tenant_id = a.tenant_id
     WHERE a.status = 'pending' AND a.impact_class = 'C' AND ($1::uuid IS NULL OR a.tenant_id = $1)`,
    [tenantId ?? null],
  );
  return rows[0] ?? { connected: 0, pending: 0, failing: 0, late: 0, errors: null };
}

/** A tenant's Slack workspace and channels (one row of slack_settings). */
export interface SlackSettings {
  tenant_id: string;
  team_id: string;
  approvals_channel: string;
  reports_channel: string | null;
  alerts_channel: string | null;
  internal_channels: string[];
  /** ISO weekday (1 = Monday) and local "HH:MM" of the weekly report; null time = off. */
  report_weekday: number;
  report_time: string | null;
  /** Local "HH:MM" of the daily health summary; null = off. */
  health_time: string | null;
  updated_at: number;
}

const SETTINGS_COLUMNS =
  'tenant_id, team_id, approvals_channel, reports_channel, alerts_channel, internal_channels, report_weekday, report_time, health_time, updated_at';

/** A tenant's Slack settings, or undefined when it has not been connected to a workspace. */
export async function getSlackSettings(db: Queryable, tenantId: string): Promise<SlackSettings | undefined> {
  const { rows } = await db.query<SlackSettings>(`SELECT ${SETTINGS_COLUMNS} FROM slack_settings WHERE tenant_id = $1`, [tenantId]);
  return rows[0];
}

/** The settings (and so the tenant) of a Slack workspace, or undefined for an unknown workspace. */
export async function tenantForTeam(db: Queryable, teamId: string): Promise<SlackSettings | undefined> {
  const { rows } = await db.query<SlackSettings>(`SELECT ${SETTINGS_COLUMNS} FROM slack_settings WHERE team_id = $1`, [teamId]);
  return rows[0];
}

/** How many tenants are connected to a Slack workspace. */
export async function countConnectedTenants(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM slack_settings');
  return rows[0]?.n ?? 0;
}

/** Settings to write: an undefined optional field keeps the stored value, a null clears it (times: "HH:MM", null = off). */
export interface SlackSettingsWrite {
  team_id: string;
  approvals_channel: string;
  reports_channel?: string | null;
  alerts_channel?: string | null;
  internal_channels?: string[];
  report_weekday?: number;
  report_time?: string | null;
  health_time?: string | null;
}

/** Inserts or updates a tenant's settings (new rows: weekly report Monday 09:00, health summary 09:00). */
export async function upsertSlackSettings(db: Queryable, tenantId: string, s: SlackSettingsWrite): Promise<SlackSettings> {
  const { rows } = await db.query<SlackSettings>(
    `INSERT INTO slack_settings (tenant_id, team_id, approvals_channel, reports_channel, alerts_channel, internal_channels, report_weekday, report_time, health_time)
     VALUES ($1, $2, $3, $4, $5, coalesce($6::text[], '{}'), coalesce($9::int, 1), CASE WHEN $11 THEN $10 ELSE '09:00' END, CASE WHEN $13 THEN $12 ELSE '09:00' END)
     ON CONFLICT (tenant_id) DO UPDATE SET team_id = excluded.team_id, approvals_channel = excluded.approvals_channel,
       reports_channel = CASE WHEN $7 THEN excluded.reports_channel ELSE slack_settings.reports_channel END,
       alerts_channel = CASE WHEN $8 THEN excluded.alerts_channel ELSE slack_settings.alerts_channel END,
       internal_channels = CASE WHEN $6::text[] IS NULL THEN slack_settings.internal_channels ELSE excluded.internal_channels END,
       report_weekday = coalesce($9::int, slack_settings.report_weekday),
       report_time = CASE WHEN $11 THEN excluded.report_time ELSE slack_settings.report_time END,
       health_time = CASE WHEN $13 THEN excluded.health_time ELSE slack_settings.health_time END,
       updated_at = extract(epoch FROM now())
     RETURNING ${SETTINGS_COLUMNS}`,
    [
      tenantId,
      s.team_id,
      s.approvals_channel,
      s.reports_channel ?? null,
      s.alerts_channel ?? null,
      s.internal_channels ?? null,
      s.reports_channel !== undefined,
      s.alerts_channel !== undefined,
      s.report_weekday ?? null,
      s.report_time ?? null,
      s.report_time !== undefined,
      s.health_time ?? null,
      s.health_time !== undefined,
    ],
  );
  return rows[0] as SlackSettings;
}

/** Makes a tenant's failed approval messages and scheduled posts due again (its settings changed). */
export async function retryFailedSlackPosts(db: Queryable, tenantId: string): Promise<void> {
  await db.query('UPDATE approval_queue SET slack_retry_at = NULL WHERE tenant_id = $1 AND slack_retry_at IS NOT NULL', [tenantId]);
  await db.query(`DELETE FROM slack_posts WHERE tenant_id = $1 AND status IN ('retry', 'failed')`, [tenantId]);
}

export type SlackPostKind = 'weekly_report' | 'health_summary' | 'alert';

/** One scheduled post: made once per tenant, kind and period, whichever bot gets there first. */
export interface SlackPostKey {
  tenant_id: string;
  kind: SlackPostKind;
  period: string;
  channel: string;
}

/** When and where a connected tenant's scheduled posts go. */
export interface TenantScheduleRow {
  tenant_id: string;
  timezone: string;
  reports_channel: string | null;
  alerts_channel: string | null;
  report_weekday: number;
  report_time: string | null;
  health_time: string | null;
}

/** Every connected tenant's post schedule, with its time zone. */
export async function tenantSchedules(db: Queryable): Promise<TenantScheduleRow[]> {
  const { rows } = await db.query<TenantScheduleRow>(
    `SELECT s.tenant_id, t.timezone, s.reports_channel, s.alerts_channel, s.report_weekday, s.report_time, s.health_time
     FROM slack_settings s JOIN tenants t ON t.id = s.tenant_id ORDER BY s.tenant_id`,
  );
  return rows;
}

/** A claim left 'posting' this long belongs to a bot that died mid-post. */
const STALE_CLAIM_SECONDS = 120;

/**
 * Claims a post for `owner`: a row for exactly one caller, or for whoever takes over a dead
 * bot's claim or a failed post whose back-off is over at `now`. A post Slack refused for good
 * ('failed') waits for `levqor slack configure`, which clears it.
 */
export async function claimSlackPost(db: Queryable, key: SlackPostKey, owner: string, now: number): Promise<{ attempts: number } | null> {
  const { rows } = await db.query<{ attempts: number }>(
    `INSERT INTO slack_posts (tenant_id, kind, period, channel, claimed_by) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id, kind, period) DO UPDATE
       SET claimed_by = EXCLUDED.claimed_by, claimed_at = extract(epoch FROM now()), channel = EXCLUDED.channel, status = 'posting'
       WHERE (slack_posts.status = 'posting' AND slack_posts.claimed_at < extract(epoch FROM now()) - ${STALE_CLAIM_SECONDS})
          OR (slack_posts.status = 'retry' AND slack_posts.retry_at <= $6)
     RETURNING attempts`,
    [key.tenant_id, key.kind, key.period, key.channel, owner, now],
  );
  return rows[0] ?? null;
}

/** Records a claimed post as made (with its ts) or as failed: to be tried again from `retryAt`, or (null) only after `levqor slack configure`. */
export async function settleSlackPost(
  db: Queryable,
  key: SlackPostKey,
  owner: string,
  outcome: { ts: string } | { error: string; retryAt: number | null },
): Promise<void> {
  const params = [key.tenant_id, key.kind, key.period, owner];
  if ('ts' in outcome) {
    await db.query(
      `UPDATE slack_posts SET status = 'posted', ts = $5, posted_at = extract(epoch FROM now()), retry_at = NULL, error = NULL
       WHERE tenant_id = $1 AND kind = $2 AND period = $3 AND claimed_by = $4`,
      [...params, outcome.ts],
    );
  } else {
    await db.query(
      `UPDATE slack_posts SET attempts = attempts + 1, error = $5, retry_at = $6, status = CASE WHEN $6::float8 IS NULL THEN 'failed' ELSE 'retry' END
       WHERE tenant_id = $1 AND kind = $2 AND period = $3 AND claimed_by = $4 AND status = 'posting'`,
      [...params, outcome.error, outcome.retryAt],
    );
  }
}
