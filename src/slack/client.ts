import { WebClient } from '@slack/web-api';
import { slackClientOptions, type SlackEnv } from './env.js';

export { DEFAULT_SLACK_API_URL, parseSlackEnv, requireBotCredentials, type SlackEnv } from './env.js';

/**
 * The one Slack Web API client: the bot token, SLACK_API_URL (a local fake in tests), a few
 * quick retries rather than the library's half-hour default, rate limits waited out.
 * (The environment parsing lives in env.ts, which does not load the Slack SDK.)
 */
export function createSlackClient(env: Pick<SlackEnv, 'SLACK_BOT_TOKEN'> & { SLACK_API_URL?: string }): WebClient {
  return new WebClient(env.SLACK_BOT_TOKEN, slackClientOptions(env.SLACK_API_URL));
}
