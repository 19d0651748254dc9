import type { WebClientOptions } from '@slack/web-api';
import type { z } from 'zod';
import { DEFAULT_SLACK_API_URL, slackEnvSchema } from '../config.js';
import { AppError } from '../lib/errors.js';

export { DEFAULT_SLACK_API_URL };

/** The Slack part of the environment, parsed. */
export type SlackEnv = z.infer<typeof slackEnvSchema>;

/** Parses the Slack variables; a bad one fails with every problem listed. */
export function parseSlackEnv(env: Record<string, string | undefined>): SlackEnv {
  const input = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => (k.startsWith('SLACK_') || k.startsWith('LEVQOR_BOT_')) && v !== undefined && v !== ''),
  );
  const parsed = slackEnvSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  throw new AppError('config', `invalid Slack configuration:\n  ${issues.join('\n  ')}`, issues);
}

/** What the bot cannot start without; throws naming every missing variable. */
export function requireBotCredentials(env: SlackEnv): { signingSecret: string; botToken: string } {
  const missing = [
    !env.SLACK_SIGNING_SECRET && 'SLACK_SIGNING_SECRET (Basic Information → App Credentials → Signing Secret)',
    !env.SLACK_BOT_TOKEN && 'SLACK_BOT_TOKEN (OAuth & Permissions → Bot User OAuth Token, xoxb-…)',
  ].filter((m): m is string => Boolean(m));
  if (missing.length || !env.SLACK_SIGNING_SECRET || !env.SLACK_BOT_TOKEN) {
    throw new AppError('config', `the Slack bot cannot start: set ${missing.join(' and ')}. See README, "Slack app".`, missing);
  }
  return { signingSecret: env.SLACK_SIGNING_SECRET, botToken: env.SLACK_BOT_TOKEN };
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
