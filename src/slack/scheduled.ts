import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { Db, Queryable } from '../db/types.js';
import { errorMessage } from '../lib/errors.js';
import { createPause } from '../lib/pause.js';
import { alertConditions, reconcileAlerts, type AlertRow } from '../health/alerts.js';
import { healthSummary, type HealthThresholds } from '../health/summary.js';
import { formatIsoWeek, localDate, previousIsoWeek } from '../reports/week.js';
import { generateWeeklyReport } from '../reports/weekly.js';
import { esc, slackDate, type SlackMessage } from './blocks.js';
import { isPermanentSlackError, slackFailure, slackRetryDelay } from './errors.js';
import { healthMessage, markdownToBlocks } from './report-blocks.js';

/** Posts a message, returning its ts: chat.postMessage in production. */
export type PostMessage = (channel: string, message: SlackMessage) => Promise<string>;

export interface ScheduledPostDeps {
  db: Db;
  post: PostMessage;
  /** This process, as recorded on the posts it claims. */
  owner: string;
  log: Logger;
  thresholds: HealthThresholds & { pendingApprovalsHigh: number; minRunsForRate: number };
  processStartedAt: number;
  /** Epoch seconds; a clock for tests. */
  now?: () => number;
}

type PostKind = 'weekly_report' | 'health_summary' | 'alert';

interface PostKey {
  tenant_id: string;
  kind: PostKind;
  period: string;
  channel: string;
}

interface TenantSchedule {
  tenant_id: string;
  timezone: string;
  reports_channel: string | null;
  alerts_channel: string | null;
  report_weekday: number;
  report_time: string | null;
  health_time: string | null;
}

/** How late a missed post still goes out (a bot that was down); later ones are skipped. */
const LATE_SECONDS: Record<Exclude<PostKind, 'alert'>, number> = { weekly_report: 86_400, health_summary: 6 * 3_600 };
/** Alerts older than this are history, not news: a first start does not replay them. */
const ALERT_NEWS_SECONDS = 3_600;
/** A claim left 'posting' this long belongs to a bot that died mid-post. */
const STALE_CLAIM_SECONDS = 120;

/** The latest time at or before `now` that a local "HH:MM" (on an ISO weekday, or daily) fell on (pure). */
export function lastSlot(time: string, timeZone: string, now: number, isoWeekday?: number): number | null {
  const [hh, mm] = time.split(':').map(Number);
  const dow = isoWeekday === undefined ? '*' : String(isoWeekday % 7);
  const [slot] = new Cron(`${mm} ${hh} * * ${dow}`, { timezone: timeZone }).previousRuns(1, new Date(now * 1000 + 1));
  return slot ? slot.getTime() / 1000 : null;
}

/** The scheduled posts a tenant is due for at `now`: which period, which channel (pure). */
export function duePosts(t: TenantSchedule, now: number): PostKey[] {
  const due: PostKey[] = [];
  if (!t.reports_channel) return due;
  if (t.report_time) {
    const slot = lastSlot(t.report_time, t.timezone, now, t.report_weekday);
    if (slot !== null && now - slot <= LATE_SECONDS.weekly_report) {
      due.push({
        tenant_id: t.tenant_id,
        kind: 'weekly_report',
        period: formatIsoWeek(previousIsoWeek(slot, t.timezone)),
        channel: t.reports_channel,
      });
    }
  }
  if (t.health_time) {
    const slot = lastSlot(t.health_time, t.timezone, now);
    if (slot !== null && now - slot <= LATE_SECONDS.health_summary) {
      due.push({ tenant_id: t.tenant_id, kind: 'health_summary', period: localDate(slot, t.timezone), channel: t.reports_channel });
    }
  }
  return due;
}

/**
 * Claims a post for this process: true for exactly one caller, or for whoever takes over a
 * dead bot's claim or a failed post whose back-off is over. A post Slack refused for good
 * ('failed') waits for `levqor slack configure`, which clears it.
 */
async function claimPost(db: Queryable, key: PostKey, owner: string, now: number): Promise<{ attempts: number } | null> {
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

/** Records a post as made (with its ts) or as failed: to be tried again from `retryAt`, or (null) only after `levqor slack configure`. */
async function settlePost(
  db: Queryable,
  key: PostKey,
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

/** Claims, builds and posts one message; a failed post is tried again after a back-off (unless Slack refused it for good). */
async function postOnce(deps: ScheduledPostDeps, key: PostKey, now: number, build: () => Promise<SlackMessage>): Promise<boolean> {
  const claim = await claimPost(deps.db, key, deps.owner, now);
  if (!claim) return false;
  const where = { tenant: key.tenant_id, kind: key.kind, period: key.period, channel: key.channel };
  try {
    const ts = await deps.post(key.channel, await build());
    await settlePost(deps.db, key, deps.owner, { ts });
    deps.log.info(where, 'slack: scheduled post sent');
    return true;
  } catch (err) {
    const attempts = claim.attempts + 1;
    if (isPermanentSlackError(err)) {
      await settlePost(deps.db, key, deps.owner, { error: slackFailure(err), retryAt: null });
      deps.log.error(
        { ...where, err: errorMessage(err), attempts },
        'slack: Slack refused the scheduled post; not retrying it (fix the channel or token, then levqor slack configure)',
      );
    } else {
      const retryIn = slackRetryDelay(attempts, false);
      await settlePost(deps.db, key, deps.owner, { error: slackFailure(err), retryAt: now + retryIn });
      deps.log.warn({ ...where, err: errorMessage(err), attempts, retry_in_seconds: retryIn }, 'slack: scheduled post failed; will retry');
    }
    return false;
  }
}

const MAX_BLOCKS = 50;

async function weeklyReportMessage(db: Queryable, tenantId: string, week: string): Promise<SlackMessage> {
  const markdown = await generateWeeklyReport(db, { tenantId, week });
  const blocks = markdownToBlocks(markdown).slice(0, MAX_BLOCKS);
  return { text: `Levqor weekly report, ${week}`, blocks };
}

export function alertMessage(a: AlertRow): SlackMessage {
  const firing = a.status === 'firing';
  const at = firing ? a.fired_at : (a.resolved_at ?? a.fired_at);
  return {
    text: firing ? `🚨 Levqor alert: ${a.message}` : `✅ Resolved: ${a.message}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${firing ? '🚨 *Alert*' : '✅ *Resolved*'} (${a.kind}): ${esc(a.message)}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `${firing ? 'fired' : 'resolved'} ${slackDate(at)}` }] },
    ],
  };
}

/** Alerts fired or resolved within the last hour, each a separate piece of news. */
async function recentAlertNews(db: Queryable, now: number): Promise<AlertRow[]> {
  const { rows } = await db.query<AlertRow>(
    `SELECT id::text AS id, kind, status, message, detail, fired_at, resolved_at FROM alerts
     WHERE fired_at > $1 OR resolved_at > $1 ORDER BY fired_at, id`,
    [now - ALERT_NEWS_SECONDS],
  );
  return rows;
}

async function tenantSchedules(db: Queryable): Promise<TenantSchedule[]> {
  const { rows } = await db.query<TenantSchedule>(
    `SELECT s.tenant_id, t.timezone, s.reports_channel, s.alerts_channel, s.report_weekday, s.report_time, s.health_time
     FROM slack_settings s JOIN tenants t ON t.id = s.tenant_id ORDER BY s.tenant_id`,
  );
  return rows;
}

/**
 * One pass: evaluates the alert conditions (replica-safe), then makes every post that is due
 * and not yet made by any bot: weekly reports, daily health summaries, alert news.
 */
export async function sweepScheduledPosts(deps: ScheduledPostDeps): Promise<number> {
  const now = deps.now?.() ?? Date.now() / 1000;
  const summary = await healthSummary(deps.db, { ...deps.thresholds, processStartedAt: deps.processStartedAt });
  if (summary.database.ok) await reconcileAlerts(deps.db, alertConditions(summary, deps.thresholds));
  const alerts = await recentAlertNews(deps.db, now);
  let posted = 0;
  for (const t of await tenantSchedules(deps.db)) {
    for (const key of duePosts(t, now)) {
      const build =
        key.kind === 'weekly_report'
          ? () => weeklyReportMessage(deps.db, t.tenant_id, key.period)
          : () => Promise.resolve(healthMessage(summary));
      if (await postOnce(deps, key, now, build)) posted++;
    }
    if (!t.alerts_channel) continue;
    for (const a of alerts) {
      for (const status of a.status === 'resolved' ? (['firing', 'resolved'] as const) : (['firing'] as const)) {
        if ((status === 'firing' ? a.fired_at : (a.resolved_at ?? 0)) <= now - ALERT_NEWS_SECONDS) continue;
        const key: PostKey = { tenant_id: t.tenant_id, kind: 'alert', period: `${a.id}:${status}`, channel: t.alerts_channel };
        if (await postOnce(deps, key, now, () => Promise.resolve(alertMessage({ ...a, status })))) posted++;
      }
    }
  }
  return posted;
}

/** Sweeps every `seconds` (and when an alert is announced) until stop aborts. */
export async function runScheduledPosts(
  deps: ScheduledPostDeps,
  stop: AbortSignal,
  seconds: number,
  wake?: (notify: () => void) => Promise<() => Promise<void>>,
): Promise<void> {
  const pause = createPause(stop);
  const unlisten = wake ? await wake(() => pause.wake()) : undefined;
  try {
    while (!stop.aborted) {
      try {
        await sweepScheduledPosts(deps);
        deps.log.debug('slack: scheduled posts swept');
      } catch (err) {
        deps.log.warn({ err: errorMessage(err) }, 'slack: scheduled posts sweep failed; retrying');
      }
      await pause.wait(seconds);
    }
  } finally {
    await unlisten?.();
  }
}
