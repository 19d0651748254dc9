import type { WebClient } from '@slack/web-api';
import type { Db } from '../db/types.js';
import { errorMessage } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { approvalMessage, reminderMessage, renderKey } from './blocks.js';
import { getSlackApproval, lockSlackMessage, recordPosted, recordReminder, recordRendered } from './queries.js';
import { getSlackSettings } from './settings.js';

export interface SlackSyncDeps {
  db: Db;
  slack: WebClient;
  log: Logger;
}

export type SyncResult = { posted: boolean; updated: boolean; reminded: boolean; skipped?: 'missing' | 'not_connected' | 'not_pending' };

/** Slack errors that no retry will fix: the message or channel is gone. */
const GONE = new Set(['message_not_found', 'cant_update_message', 'channel_not_found', 'is_archived', 'not_in_channel']);

function slackErrorCode(err: unknown): string | undefined {
  return (err as { data?: { error?: string } }).data?.error;
}

/**
 * Brings one request's Slack message in line with the request: posts it when it is pending
 * and not posted yet, updates it when its state changed, replies in its thread once when the
 * reminder is due. Under a per-request advisory lock and driven by state rather than by
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
    if (!a.slack_ts) {
      if (a.status !== 'pending' || a.impact_class !== 'C' || a.expires_at <= a.db_now) return { ...result, skipped: 'not_pending' };
      const msg = approvalMessage(a);
      const res = await deps.slack.chat.postMessage({ channel: settings.approvals_channel, text: msg.text, blocks: msg.blocks, unfurl_links: false, unfurl_media: false });
      if (!res.ts) throw new Error(`chat.postMessage to ${settings.approvals_channel} returned no ts`);
      await recordPosted(tx, a.id, res.channel ?? settings.approvals_channel, res.ts, renderKey(a));
      a.slack_channel = res.channel ?? settings.approvals_channel;
      a.slack_ts = res.ts;
      result.posted = true;
    } else if (a.slack_rendered !== renderKey(a)) {
      const msg = approvalMessage(a);
      try {
        await deps.slack.chat.update({ channel: a.slack_channel ?? settings.approvals_channel, ts: a.slack_ts, text: msg.text, blocks: msg.blocks });
        result.updated = true;
      } catch (err) {
        if (!GONE.has(slackErrorCode(err) ?? '')) throw err;
        deps.log.warn({ approval: a.id, err: errorMessage(err) }, 'the Slack message of this request is gone; not updating it again');
      }
      await recordRendered(tx, a.id, renderKey(a));
    }
    if (a.status === 'pending' && a.reminded_at !== null && a.slack_ts && !a.slack_reminder_ts) {
      const msg = reminderMessage(a);
      const res = await deps.slack.chat.postMessage({ channel: a.slack_channel ?? settings.approvals_channel, thread_ts: a.slack_ts, text: msg.text, blocks: msg.blocks });
      await recordReminder(tx, a.id, res.ts ?? 'unknown');
      result.reminded = true;
    }
    return result;
  });
}
