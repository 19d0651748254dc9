import { z } from 'zod';
import { AppError } from './lib/errors.js';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Every environment variable Levqor reads, with its default. README's table mirrors this. */
const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .refine((v) => /^postgres(ql)?:\/\/[^\s]+$/.test(v) && URL.canParse(v), {
      message: 'must be a postgres:// or postgresql:// URL, e.g. postgres://user@127.0.0.1:5432/levqor',
    })
    .optional(),
  LEVQOR_DATA_DIR: z.string().min(1).default('.levqor/data'),
  LEVQOR_DB_POOL_MAX: int(1, 200).default(10),
  LEVQOR_DB_CONNECT_TIMEOUT_MS: int(100, 120_000).default(10_000),
  LEVQOR_SCHEDULER_INTERVAL_SECONDS: z.coerce.number().positive().max(86_400).default(60),
  LEVQOR_SCHEDULER_BATCH_SIZE: int(1, 5_000).default(200),
  LEVQOR_SCHEDULER_CONCURRENCY: int(1, 1_000).default(20),
  LEVQOR_RUN_LEASE_SECONDS: z.coerce.number().min(1).max(3_600).default(60),
  LEVQOR_SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().min(1).max(300).default(25),
  LEVQOR_APPROVAL_TTL_HOURS: z.coerce.number().positive().max(24 * 90).default(24),
  LEVQOR_HTTP_ALLOW: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)),
  LEVQOR_HTTP_TIMEOUT_MS: int(100, 600_000).default(30_000),
  LEVQOR_HTTP_CONNECT_TIMEOUT_MS: int(100, 120_000).default(5_000),
  LEVQOR_HTTP_MAX_RESPONSE_BYTES: int(1, 100 * 1024 * 1024).default(1024 * 1024),
  // repository_dispatch after an approval (the action's request-approval with wait: false).
  LEVQOR_GITHUB_DISPATCH_TOKEN: z.string().trim().min(1).optional(),
  LEVQOR_GITHUB_DISPATCH_REPOS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean))
    .superRefine((repos, ctx) => {
      const bad = repos.filter((r) => !/^[\w.-]+\/[\w.-]+$/.test(r));
      if (bad.length) ctx.addIssue({ code: 'custom', message: `each entry must be owner/repo, not ${bad.map((b) => `"${b}"`).join(', ')}` });
    }),
  LEVQOR_GITHUB_API_URL: z
    .string()
    .refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), { message: 'must be an http:// or https:// URL' })
    .transform((v) => v.replace(/\/+$/, ''))
    .default('https://api.github.com'),
  LEVQOR_SMTP_URL: z
    .string()
    .refine((v) => /^smtps?:\/\//.test(v) && URL.canParse(v), { message: 'must be an smtp:// or smtps:// URL' })
    .optional(),
  LEVQOR_SMTP_FROM: z.string().min(3).default('levqor@localhost'),
  LEVQOR_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LEVQOR_LOG_PRETTY: bool.optional(),
  LEVQOR_TENANT: z.string().min(1).optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int(0, 65_535).default(8000),
  LEVQOR_API_RATE_LIMIT: int(1, 1_000_000).default(600),
  LEVQOR_API_BODY_LIMIT_BYTES: int(1_024, 100 * 1024 * 1024).default(1024 * 1024),
  LEVQOR_DASHBOARD_PUBLIC: bool.default(false),
  LEVQOR_ALERT_PENDING_APPROVALS: int(1, 1_000_000).default(50),
  LEVQOR_SCALING_P95_HIGH_MS: int(1, 600_000).default(1000),
  LEVQOR_SCALING_P95_CRITICAL_MS: int(1, 600_000).default(3000),
  LEVQOR_SCALING_QUEUE_HIGH: int(1, 10_000_000).default(100),
  LEVQOR_SCALING_QUEUE_CRITICAL: int(1, 10_000_000).default(1000),
  LEVQOR_SCALING_COOLDOWN_SECONDS: int(0, 86_400).default(300),
  LEVQOR_SCALING_MAX_REPLICAS: int(1, 1000).default(20),
  LEVQOR_RETENTION_RUNS_DAYS: z.coerce.number().positive().max(36_500).default(90),
  LEVQOR_RETENTION_EVENTS_DAYS: z.coerce.number().positive().max(36_500).default(90),
  LEVQOR_RETENTION_APPROVALS_DAYS: z.coerce.number().positive().max(36_500).default(30),
});

export type Config = z.infer<typeof envSchema>;

/** Parses the environment once; a bad variable fails with every problem listed. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  throw new AppError('config', `invalid configuration:\n  ${issues.join('\n  ')}`, issues);
}
