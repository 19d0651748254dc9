import type { WebClientOptions } from '@slack/web-api';
import { DEFAULT_SLACK_API_URL, type SlackConfig } from '../config.js';
import { AppError } from '../lib/errors.js';

/** What the bot cannot start without; throws naming every missing variable. */
export function requireBotCredentials(config: SlackConfig): { signingSecret: string; botToken: string } {
  const missing = [
    !config.SLACK_SIGNING_SECRET && 'SLACK_SIGNING_SECRET (Basic Information → App Credentials → Signing Secret)',
    !config.SLACK_BOT_TOKEN && 'SLACK_BOT_TOKEN (OAuth & Permissions → Bot User OAuth Token, xoxb-…)',
  ].filter((m): m is string => Boolean(m));
  if (missing.length || !config.SLACK_SIGNING_SECRET || !config.SLACK_BOT_TOKEN) {
    throw new AppError('config', `the Slack bot cannot start: set ${missing.join(' and ')}. See README, "Slack app".`, missing);
  }
  return { signingSecret: config.SLACK_SIGNING_SECRET, botToken: config.SLACK_BOT_TOKEN };
}

/** The Web API client's options: SLACK_API_URL, a few quick retries rather than the library's half-hour default. */
export function slackClientOptions(apiUrl: string | undefined): WebClientOptions {
  return {
    slackApiUrl: apiUrl ?? DEFAULT_SLACK_API_URL,
    retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 2000 },
    logLevel: 'error' as WebClientOptions['logLevel'],
    timeout: 10_000,
  };
}
