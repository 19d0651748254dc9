import { WebClient } from '@slack/web-api';
import type { SlackConfig } from '../config.js';
import { slackClientOptions } from './env.js';

/**
 * The one Slack Web API client: the bot token, SLACK_API_URL (a local fake in tests), a few
 * quick retries rather than the library's half-hour default, rate limits waited out.
 * (The options live in env.ts, which does not load the Slack SDK.)
 */
export function createSlackClient(config: Pick<SlackConfig, 'SLACK_BOT_TOKEN'> & { SLACK_API_URL?: string }): WebClient {
  return new WebClient(config.SLACK_BOT_TOKEN, slackClientOptions(config.SLACK_API_URL));
}
