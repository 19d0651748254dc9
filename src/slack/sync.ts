import type { WebClient } from '@slack/web-api';
import type { Db } from '../db/types.js';
import { AppError, errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { loadPolicy } from '../approvals/deciders.js';
import { eligibleIdentities, stageIdentities } from '../approvals/policy.js';
import { approvalMessage, escalationMessage, reminderMessage, renderKey, slackUserIds, type SlackMessage } from './blocks.js';
import { isGoneSlackError, isPermanentSlackError, slackFailure, slackRetryDelay } from './errors.js';
import {
  getSlackApproval,
  getSlackSettings,
  lockSlackMessage,
  recordPosted,
  recordReminder,
  recordRendered,
  recordSlackFailure,
  recordStageAnnounced,
} from './queries.js';

export interface SlackSyncDeps {
  db: Db;
  slack: WebClient;
  log: Logger;
}

/** A failed Slack call as AppError('slack_failed'), Slack's own error as its cause: told apart from a database error. */
function slackFailed(err: unknown): AppError {
  return err instanceof AppError && err.code === 'slack_failed' ? err : new AppError('slack_failed', errorMessage(err), [], { cause: err });
}

async function slackCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw slackFailed(err);
  }
}

type SyncResult = {
  posted: boolean;
  updated: boolean;
  reminded: boolean;
  escalated?: boolean;
  skipped?: 'missing' | 'not_connected' | 'not_pending';
  /** The Slack call that failed: recorded on the request, tried again after retry_in seconds. */
  failed?: { error: string; permanent: boolean; retry_in: number };
};

/**
 * A DM to each user (chat.postMessage to a user id opens the app's DM with them). Best effort:
 * the thread reply is the record; a user who cannot be reached is logged, not retried.
 */
async function directMessages(deps: SlackSyncDeps, users: readonly string[], msg: SlackMessage, approvalId: string): Promise<void> {
  for (const user of users) {
    try {
      await deps.slack.chat.postMessage({ channel: user, text: msg.text, blocks: msg.blocks, unfurl_links: false });
    } catch (err) {
      deps.log.warn({ approval: approvalId, user, err: errorMessage(err) }, 'could not DM an approver');
    }
  }
}

/**
 * Brings one request's Slack message in line with the request: posts it when it is pending
 * and not posted yet, updates it when its state changed, replies in its thread once per
 * reminder and per escalation (with a DM to each approver concerned). Under a per-request advisory lock and driven by state rather than by
 * events, so any number of bot processes, events and retries lead to each post, update and
 * reminder exactly once (short of a crash between Slack's answer and the commit).
 */
export async function syncApproval(deps: SlackSyncDeps, approvalId: string): Promise<SyncResult> {
  return deps.db.transaction(async (tx) => {
    const result: SyncResult = { posted: false, updated: false, reminded: false };
    await lockSlackMessage(tx, approvalId);
    const a = await getSlackApproval(tx, approvalId);
    if (!a) return { ...result, skipped: 'missing' };
    const settings = await getSlackSettings(tx, a.tenant_id);
    if (!settings) return { ...result, skipped: 'not_connected' };
    try {
      if (!a.slack_ts) {
        if (a.status !== 'pending' || a.impact_class !== 'C' || a.expires_at <= a.db_now) return { ...result, skipped: 'not_pending' };
        const msg = approvalMessage(a);
        const res = await slackCall(async () => {
          const r = await deps.slack.chat.postMessage({
            channel: settings.approvals_channel,
            text: msg.text,
            blocks: msg.blocks,
            unfurl_links: false,
            unfurl_media: false,
          });
          if (!r.ts) throw new AppError('slack_failed', `chat.postMessage to ${settings.approvals_channel} returned no ts`);
          return { channel: r.channel, ts: r.ts };
        });
        await recordPosted(tx, a.id, res.channel ?? settings.approvals_channel, res.ts, renderKey(a));
        a.slack_channel = res.channel ?? settings.approvals_channel;
        a.slack_ts = res.ts;
        result.posted = true;
      } else if (a.slack_rendered !== renderKey(a)) {
        const msg = approvalMessage(a);
        try {
          await deps.slack.chat.update({
            channel: a.slack_channel ?? settings.approvals_channel,
            ts: a.slack_ts,
            text: msg.text,
            blocks: msg.blocks,
          });
          result.updated = true;
        } catch (err) {
          if (!isGoneSlackError(err)) throw slackFailed(err);
          deps.log.warn({ approval: a.id, err: errorMessage(err) }, 'the Slack message of this request is gone; not updating it again');
        }
        await recordRendered(tx, a.id, renderKey(a));
      }
      if (a.status === 'pending' && a.slack_ts && (a.stage > a.slack_stage || a.reminders_sent > a.slack_reminders)) {
        const channel = a.slack_channel ?? settings.approvals_channel;
        const thread = a.slack_ts;
        const policy = await loadPolicy(tx, a.tenant_id);
        const reply = async (msg: SlackMessage) =>
          slackCall(() => deps.slack.chat.postMessage({ channel, thread_ts: thread, text: msg.text, blocks: msg.blocks }));
        if (a.stage > a.slack_stage) {
          const users = slackUserIds(stageIdentities(policy, a, a.slack_stage, a.stage));
          const msg = escalationMessage(
            a,
            (a.route?.stages ?? []).slice(a.slack_stage, a.stage).map((st) => st.name),
            users,
          );
          await reply(msg);
          await recordStageAnnounced(tx, a.id, a.stage);
          await directMessages(deps, users, msg, a.id);
          result.escalated = true;
        }
        if (a.reminders_sent > a.slack_reminders) {
          const users = slackUserIds(eligibleIdentities(policy, a));
          const msg = reminderMessage(a, a.db_now, a.reminders_sent, users);
          const res = await reply(msg);
          await recordReminder(tx, a.id, res.ts ?? 'unknown', a.reminders_sent);
          await directMessages(deps, users, reminderMessage(a, a.db_now, a.reminders_sent), a.id);
          result.reminded = true;
        }
      }
    } catch (caught) {
      // A Slack call failed (a database error is rethrown: it is not Slack's). What went
      // through stays recorded; the request is tried again after a back-off, and Slack's
      // reason is kept for `levqor slack show`.
      if (!(caught instanceof AppError && caught.code === 'slack_failed')) throw caught;
      const err = caught.cause ?? caught;
      const permanent = isPermanentSlackError(err);
      const failed = { error: slackFailure(err), permanent, retry_in: slackRetryDelay(a.slack_attempts + 1, permanent) };
      await recordSlackFailure(tx, a.id, failed.error, failed.retry_in);
      deps.log[permanent ? 'error' : 'warn'](
        {
          approval: a.id,
          tenant_id: a.tenant_id,
          channel: a.slack_channel ?? settings.approvals_channel,
          err: errorMessage(err),
          retry_in_seconds: failed.retry_in,
        },
        permanent
          ? 'Slack refused the approval message; fix the channel or token (levqor slack show)'
          : 'could not bring the Slack message up to date; will retry',
      );
      return { ...result, failed };
    }
    return result;
  });
}
