import type { WebClientOptions } from '@slack/web-api';
import { z } from 'zod';
import { AppError } from '../lib/errors.js';

export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';

const envSchema = z.object({
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  SLACK_BOT_TOKEN: z.string().regex(/^xox[bp]-/, 'must be a bot token (xoxb-…)').optional(),
  SLACK_APP_TOKEN: z.string().regex(/^xapp-/, 'must be an app-level token (xapp-…)').optional(),
  SLACK_API_URL: z
    .string()
    .refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), { message: 'must be an http(s) URL, e.g. https://slack.com/api/' })
    .transform((v) => (v.endsWith('/') ? v : `${v}/`))
    .default(DEFAULT_SLACK_API_URL),
  LEVQOR_BOT_PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  LEVQOR_BOT_HOST: z.string().min(1).default('0.0.0.0'),
  /** How often the bot checks for due scheduled posts (weekly report, health summary, alerts). */
  LEVQOR_BOT_POSTS_SECONDS: z.coerce.number().positive().max(3600).default(30),
});

/** The Slack part of the environment, parsed. */
export type SlackEnv = z.infer<typeof envSchema>;

/** Parses the Slack variables; a bad one fails with every problem listed. */
export function parseSlackEnv(env: Record<string, string | undefined>): SlackEnv {
  const input = Object.fromEntries(Object.entries(env).filter(([k, v]) => (k.startsWith('SLACK_') || k.startsWith('LEVQOR_BOT_')) && v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(input);
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
