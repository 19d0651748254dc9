import type { WebClient } from '@slack/web-api';
import { AppError } from '../lib/errors.js';
import type { SlackPoster } from '../workflows/steps/run-step.js';
import type { SlackConfig } from '../config.js';
import { slackClientOptions } from './env.js';
import { isPermanentSlackError, slackErrorCode } from './errors.js';

/** chat.postMessage for slack_message steps: permanent refusals fail the step, the rest may be retried. */
export function slackPoster(client: () => Promise<WebClient>): SlackPoster {
  return {
    async postMessage({ channel, text }) {
      try {
        const res = await (await client()).chat.postMessage({ channel, text, unfurl_links: false, unfurl_media: false });
        return { channel: res.channel ?? channel, ts: res.ts ?? '' };
      } catch (err) {
        // Slack's answers that no retry will change: the step fails with Slack's reason.
        if (isPermanentSlackError(err))
          throw new AppError('step_failed', `Slack refused the message to ${channel}: ${slackErrorCode(err)}`);
        throw err;
      }
    },
  };
}

/**
 * A poster when the configuration holds a bot token, else undefined (the step then fails
 * saying so). The Slack client is loaded on first use, so processes that never post do
 * not pay for loading it.
 */
export function slackPosterFromConfig(config: SlackConfig): SlackPoster | undefined {
  const token = config.SLACK_BOT_TOKEN;
  if (!token) return undefined;
  let client: Promise<WebClient> | undefined;
  // The SDK itself is imported here, not statically: a bundle then loads it on first use only.
  return slackPoster(
    () => (client ??= import('@slack/web-api').then((m) => new m.WebClient(token, slackClientOptions(config.SLACK_API_URL)))),
  );
}
