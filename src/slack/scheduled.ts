import { Cron } from 'croner';
import type { Logger } from 'pino';
import type { Db, Queryable } from '../db/types.js';
import { errorMessage } from '../lib/errors.js';
import { createPause } from '../lib/pause.js';
import { alertsChangedSince, type AlertRow } from '../health/queries.js';
import { healthSummary, type HealthThresholds } from '../health/summary.js';
import { evaluateAlerts } from '../health/tasks.js';
import { formatIsoWeek, localDate, previousIsoWeek } from '../reports/week.js';
import { generateWeeklyReport } from '../reports/weekly.js';
import { esc, slackDate, type SlackMessage } from './blocks.js';
import { isPermanentSlackError, slackFailure, slackRetryDelay } from './errors.js';
import {
  claimSlackPost,
  settleSlackPost,
  tenantSchedules,
  type SlackPostKey,
  type SlackPostKind,
  type TenantScheduleRow,
} from './queries.js';
import { healthMessage, markdownToBlocks } from './report-blocks.js';

/** Posts a message, returning its ts: chat.postMessage in production. */
type PostMessage = (channel: string, message: SlackMessage) => Promise<string>;

export interface ScheduledPostDeps {
  db: Db;
  post: PostMessage;
  /** This process, as recorded on the posts it claims. */
  owner: string;
  log: Logger;
  thresholds: HealthThresholds;
  processStartedAt: number;
  /** Epoch seconds; a clock for tests. */
  now?: () => number;
}

/** How late a missed post still goes out (a bot that was down); later ones are skipped. */
const LATE_SECONDS: Record<Exclude<SlackPostKind, 'alert'>, number> = { weekly_report: 86_400, health_summary: 6 * 3_600 };
/** Alerts older than this are history, not news: a first start does not replay them. */
const ALERT_NEWS_SECONDS = 3_600;

/** The latest time at or before `now` that a local "HH:MM" (on an ISO weekday, or daily) fell on (pure). */
export function lastSlot(time: string, timeZone: string, now: number, isoWeekday?: number): number | null {
  const [hh, mm] = time.split(':').map(Number);
  const dow = isoWeekday === undefined ? '*' : String(isoWeekday % 7);
  const [slot] = new Cron(`${mm} ${hh} * * ${dow}`, { timezone: timeZone }).previousRuns(1, new Date(now * 1000 + 1));
  return slot ? slot.getTime() / 1000 : null;
}

/** The scheduled posts a tenant is due for at `now`: which period, which channel (pure). */
export function duePosts(t: TenantScheduleRow, now: number): SlackPostKey[] {
  const due: SlackPostKey[] = [];
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

/** Claims, builds and posts one message; a failed post is tried again after a back-off (unless Slack refused it for good). */
async function postOnce(deps: ScheduledPostDeps, key: SlackPostKey, now: number, build: () => Promise<SlackMessage>): Promise<boolean> {
  const claim = await claimSlackPost(deps.db, key, deps.owner, now);
  if (!claim) return false;
  const where = { tenant: key.tenant_id, kind: key.kind, period: key.period, channel: key.channel };
  try {
    const ts = await deps.post(key.channel, await build());
    await settleSlackPost(deps.db, key, deps.owner, { ts });
    deps.log.info(where, 'slack: scheduled post sent');
    return true;
  } catch (err) {
    const attempts = claim.attempts + 1;
    if (isPermanentSlackError(err)) {
      await settleSlackPost(deps.db, key, deps.owner, { error: slackFailure(err), retryAt: null });
      deps.log.error(
        { ...where, err: errorMessage(err), attempts },
        'slack: Slack refused the scheduled post; not retrying it (fix the channel or token, then levqor slack configure)',
      );
    } else {
      const retryIn = slackRetryDelay(attempts, false);
      await settleSlackPost(deps.db, key, deps.owner, { error: slackFailure(err), retryAt: now + retryIn });
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

/** The alert's news: the firing value when it fired, the value it reads now when it resolved. */
export function alertMessage(a: AlertRow): SlackMessage {
  const firing = a.status === 'firing';
  const at = firing ? a.fired_at : (a.resolved_at ?? a.fired_at);
  const message = firing ? a.message : (a.resolved_message ?? a.message);
  return {
    text: firing ? `🚨 Levqor alert: ${message}` : `✅ Resolved: ${message}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `${firing ? '🚨 *Alert*' : '✅ *Resolved*'} (${a.kind}): ${esc(message)}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `${firing ? 'fired' : 'resolved'} ${slackDate(at)}` }] },
    ],
  };
}

/**
 * One pass: evaluates the alert conditions (replica-safe), then makes every post that is due
 * and not yet made by any bot: weekly reports, daily health summaries, alert news.
 */
export async function sweepScheduledPosts(deps: ScheduledPostDeps): Promise<number> {
  const now = deps.now?.() ?? Date.now() / 1000;
  await evaluateAlerts({ db: deps.db, log: deps.log, thresholds: deps.thresholds, owner: deps.owner });
  // Alerts fired or resolved within the last hour, each a separate piece of news.
  const alerts = await alertsChangedSince(deps.db, now - ALERT_NEWS_SECONDS);
  let posted = 0;
  for (const t of await tenantSchedules(deps.db)) {
    for (const key of duePosts(t, now)) {
      const build =
        key.kind === 'weekly_report'
          ? () => weeklyReportMessage(deps.db, t.tenant_id, key.period)
          : async () =>
              healthMessage(
                await healthSummary(deps.db, { ...deps.thresholds, processStartedAt: deps.processStartedAt, tenantId: t.tenant_id }),
              );
      if (await postOnce(deps, key, now, build)) posted++;
    }
    if (!t.alerts_channel) continue;
    for (const a of alerts.filter((x) => x.tenant_id === t.tenant_id)) {
      for (const status of a.status === 'resolved' ? (['firing', 'resolved'] as const) : (['firing'] as const)) {
        if ((status === 'firing' ? a.fired_at : (a.resolved_at ?? 0)) <= now - ALERT_NEWS_SECONDS) continue;
        const key: SlackPostKey = { tenant_id: t.tenant_id, kind: 'alert', period: `${a.id}:${status}`, channel: t.alerts_channel };
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
