import { z } from 'zod';
import { AppError } from './lib/errors.js';

/** Slack's Web API, unless SLACK_API_URL says otherwise. */
export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
/** "a, b,,c" → ["a", "b", "c"]; unset: []. */
const commaList = () =>
  z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );

/** Levqor's own variables: database, scheduler, steps, API, health, retention. */
const postgresUrl = z.string().refine((v) => /^postgres(ql)?:\/\/[^\s]+$/.test(v) && URL.canParse(v), {
  message: 'must be a postgres:// or postgresql:// URL, e.g. postgres://user@127.0.0.1:5432/levqor',
});

const coreEnvSchema = z.object({
  DATABASE_URL: postgresUrl.optional(),
  LEVQOR_DB_POOLER: z.enum(['none', 'session', 'transaction']).default('none'),
  DATABASE_DIRECT_URL: postgresUrl.optional(),
  LEVQOR_DATA_DIR: z.string().min(1).default('.levqor/data'),
  LEVQOR_DB_POOL_MAX: int(1, 200).default(10),
  LEVQOR_DB_CONNECT_TIMEOUT_MS: int(100, 120_000).default(10_000),
  LEVQOR_DB_SOCKET: bool.default(true),
  LEVQOR_SCHEDULER_INTERVAL_SECONDS: z.coerce.number().positive().max(86_400).default(60),
  LEVQOR_SCHEDULER_BATCH_SIZE: int(1, 5_000).default(200),
  LEVQOR_SCHEDULER_CONCURRENCY: int(1, 1_000).default(20),
  LEVQOR_RUN_LEASE_SECONDS: z.coerce.number().min(1).max(3_600).default(60),
  LEVQOR_SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().min(1).max(300).default(25),
  LEVQOR_APPROVAL_TTL_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 90)
    .default(24),
  LEVQOR_HTTP_ALLOW: commaList(),
  LEVQOR_HTTP_TIMEOUT_MS: int(100, 600_000).default(30_000),
  LEVQOR_HTTP_CONNECT_TIMEOUT_MS: int(100, 120_000).default(5_000),
  LEVQOR_HTTP_MAX_RESPONSE_BYTES: int(1, 100 * 1024 * 1024).default(1024 * 1024),
  // repository_dispatch after an approval (the action's request-approval with wait: false).
  LEVQOR_GITHUB_DISPATCH_TOKEN: z.string().trim().min(1).optional(),
  LEVQOR_GITHUB_DISPATCH_REPOS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim().toLowerCase())
        .filter(Boolean),
    )
    .superRefine((repos, ctx) => {
      const bad = repos.filter((r) => !/^[\w.-]+\/[\w.-]+$/.test(r));
      if (bad.length)
        ctx.addIssue({ code: 'custom', message: `each entry must be owner/repo, not ${bad.map((b) => `"${b}"`).join(', ')}` });
    }),
  LEVQOR_GITHUB_API_URL: z
    .string()
    .refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), { message: 'must be an http:// or https:// URL' })
    .transform((v) => v.replace(/\/+$/, ''))
    .default('https://api.github.com'),
  // Or as a GitHub App installation instead of a token: all three, or none.
  LEVQOR_GITHUB_APP_ID: z.coerce.number().int().positive().optional(),
  LEVQOR_GITHUB_APP_INSTALLATION_ID: z.coerce.number().int().positive().optional(),
  LEVQOR_GITHUB_APP_PRIVATE_KEY: z
    .string()
    .transform((v) => v.replace(/\\n/g, '\n').trim())
    .refine((v) => /^-----BEGIN (RSA )?PRIVATE KEY-----\n[\s\S]+\n-----END (RSA )?PRIVATE KEY-----$/.test(v), {
      message: 'must be the App\'s PEM private key (-----BEGIN … PRIVATE KEY-----), with newlines or "\\n" escapes',
    })
    .optional(),
  // Keyless requests from GitHub Actions: the workflow's OIDC token instead of an API token.
  LEVQOR_GITHUB_OIDC_ISSUER: z
    .string()
    .refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), { message: 'must be an http:// or https:// URL' })
    .transform((v) => v.replace(/\/+$/, ''))
    .default('https://token.actions.githubusercontent.com'),
  LEVQOR_GITHUB_OIDC_AUDIENCE: z.string().trim().min(1).max(200).default('levqor'),
  LEVQOR_SMTP_URL: z
    .string()
    .refine((v) => /^smtps?:\/\//.test(v) && URL.canParse(v), { message: 'must be an smtp:// or smtps:// URL' })
    .optional(),
  LEVQOR_SMTP_FROM: z.string().min(3).default('levqor@localhost'),
  LEVQOR_PUBLIC_URL: z
    .string()
    .refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), { message: 'must be an http:// or https:// URL' })
    .transform((v) => v.replace(/\/+$/, ''))
    .optional(),
  LEVQOR_DECISION_LINK_HOURS: z.coerce.number().positive().max(168).default(24),
  // Console sign-in with OpenID Connect (Authorization Code with PKCE): all four, or none.
  LEVQOR_OIDC_ISSUER: z
    .string()
    .refine((v) => URL.canParse(v) && (/^https:\/\//.test(v) || /^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?(\/|$)/.test(v)), {
      message: 'must be an https:// URL, the issuer identifier (http:// only for a provider on this machine: localhost, 127.0.0.1)',
    })
    .optional(),
  LEVQOR_OIDC_CLIENT_ID: z.string().trim().min(1).max(500).optional(),
  LEVQOR_OIDC_CLIENT_SECRET: z.string().min(1).max(2000).optional(),
  LEVQOR_OIDC_REDIRECT_URL: z
    .string()
    .refine((v) => /^https?:\/\/[^/]+(\/.*)?\/console\/oidc\/callback$/.test(v) && URL.canParse(v), {
      message:
        "must be the console's callback address, ending in /console/oidc/callback (https://levqor.example.com/console/oidc/callback)",
    })
    .optional(),
  LEVQOR_CONSOLE_TOKEN_SIGNIN: z.enum(['on', 'off']).default('on'),
  LEVQOR_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LEVQOR_LOG_PRETTY: bool.optional(),
  LEVQOR_TENANT: z.string().min(1).optional(),
  LEVQOR_DEMO_HISTORY: int(0, 52).default(8),
  USER: z.string().min(1).optional(),
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
  LEVQOR_SECRET_KEY: z.string().trim().min(32, 'at least 32 characters (e.g. openssl rand -base64 32)').optional(),
  LEVQOR_SECRET_KEY_FILE: z.string().min(1).optional(),
  LEVQOR_SECRET_KEY_PREVIOUS: commaList(),
  LEVQOR_SECRETS_DIR: z.string().min(1).optional(),
});

/** The Slack variables: `levqor bot`, and the `slack_message` steps of any process that runs workflows. */
const slackEnvSchema = z.object({
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  SLACK_BOT_TOKEN: z
    .string()
    .regex(/^xox[bp]-/, 'must be a bot token (xoxb-…)')
    .optional(),
  SLACK_APP_TOKEN: z
    .string()
    .regex(/^xapp-/, 'must be an app-level token (xapp-…)')
    .optional(),
  SLACK_API_URL: z
    .string()
    .refine((v) => /^https?:\/\//.test(v) && URL.canParse(v), { message: 'must be an http(s) URL, e.g. https://slack.com/api/' })
    .transform((v) => (v.endsWith('/') ? v : `${v}/`))
    .default(DEFAULT_SLACK_API_URL),
  LEVQOR_BOT_PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  LEVQOR_BOT_HOST: z.string().min(1).default('0.0.0.0'),
  LEVQOR_BOT_HEALTH_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  /** How often the bot checks for due scheduled posts (weekly report, health summary, alerts). */
  LEVQOR_BOT_POSTS_SECONDS: z.coerce.number().positive().max(3600).default(30),
});

/**
 * Every environment variable Levqor reads, with its default: one schema, parsed once per
 * process (docs/configuration.md is generated from it and ENV_DOCS).
 */
export const envSchema = coreEnvSchema.extend(slackEnvSchema.shape);

/** The processes that read configuration: `levqor serve` (and `start`), `scheduler`, `bot`, and the one-shot commands. */
export const PROCESSES = ['serve', 'scheduler', 'bot', 'cli'] as const;
export type ProcessName = (typeof PROCESSES)[number];

/** What a variable means and which processes read it: the one annotation per variable. */
interface EnvDoc {
  uses: readonly ProcessName[];
  doc: string;
}

const ALL = PROCESSES;
// Everything that runs workflow steps: the scheduler loop (also inside serve), the bot (an approved
// step right after the click) and the CLI (`levqor run`, `approvals approve`).
const STEPS = ALL;
const SERVE = ['serve'] as const;

/** One entry per variable of envSchema (the compiler keeps them in step). */
export const ENV_DOCS = {
  DATABASE_URL: {
    uses: ALL,
    doc: '`postgres://…` to use a Postgres server; unset uses the embedded database (shared through `levqor serve` while it runs, see `LEVQOR_DB_SOCKET`)',
  },
  LEVQOR_DB_POOLER: {
    uses: ALL,
    doc:
      'what `DATABASE_URL` reaches: `none` (Postgres itself), `session` or `transaction` (a PgBouncer-style pooler in that pool mode). ' +
      '`transaction`: LISTEN goes over `DATABASE_DIRECT_URL`, or, without it, the scheduler and feeds poll on their timers',
  },
  DATABASE_DIRECT_URL: {
    uses: ALL,
    doc: "`postgres://…` straight to Postgres, not through the pooler (like Prisma's `directUrl`): LISTEN uses it when set",
  },
  LEVQOR_DATA_DIR: { uses: ALL, doc: 'embedded database directory (without `DATABASE_URL`)' },
  LEVQOR_DB_POOL_MAX: { uses: ALL, doc: 'Postgres connections per process' },
  LEVQOR_DB_CONNECT_TIMEOUT_MS: { uses: ALL, doc: 'Postgres connect timeout' },
  LEVQOR_DB_SOCKET: {
    uses: ALL,
    doc:
      'embedded database: `levqor serve` shares it with the other commands, `levqor scheduler` and `levqor bot` on an owner-only Unix socket ' +
      '(`<LEVQOR_DATA_DIR>.run/.s.PGSQL.5432`), which they use while it runs; `false`: no socket, one process at a time',
  },
  LEVQOR_SCHEDULER_INTERVAL_SECONDS: {
    uses: ALL,
    doc: "longest wait between scheduler checks (loop mode); health counts a scheduler silent for 3 intervals as down, and 3 intervals are the starting threshold of a tenant's `scheduler_stale` alert rule",
  },
  LEVQOR_SCHEDULER_BATCH_SIZE: { uses: STEPS, doc: 'due workflows claimed per transaction' },
  LEVQOR_SCHEDULER_CONCURRENCY: { uses: STEPS, doc: 'runs executed at once per process' },
  LEVQOR_RUN_LEASE_SECONDS: { uses: STEPS, doc: 'how long a silent process keeps its runs before another recovers them' },
  LEVQOR_SHUTDOWN_TIMEOUT_SECONDS: {
    uses: ['serve', 'scheduler', 'bot'],
    doc: "grace for runs in flight after SIGTERM (keep the pod's terminationGracePeriodSeconds above it)",
  },
  LEVQOR_APPROVAL_TTL_HOURS: { uses: STEPS, doc: 'how long a Class C request waits before it expires' },
  LEVQOR_HTTP_ALLOW: { uses: STEPS, doc: 'comma-separated hosts, IPs or CIDRs `http` steps may reach despite the SSRF guard' },
  LEVQOR_HTTP_TIMEOUT_MS: { uses: STEPS, doc: 'total time limit of an `http` step' },
  LEVQOR_HTTP_CONNECT_TIMEOUT_MS: { uses: STEPS, doc: 'connect time limit of an `http` step' },
  LEVQOR_HTTP_MAX_RESPONSE_BYTES: { uses: STEPS, doc: 'response size cap of an `http` step' },
  LEVQOR_GITHUB_DISPATCH_TOKEN: {
    uses: ALL,
    doc: "the server's GitHub token: repository_dispatch after an approval (`levqor serve`) and the calls of `github` steps; unset (and no App): neither",
  },
  LEVQOR_GITHUB_DISPATCH_REPOS: {
    uses: SERVE,
    doc: 'comma-separated owner/repo allowed as dispatch targets (unset: any the token reaches)',
  },
  LEVQOR_GITHUB_API_URL: {
    uses: ALL,
    doc: 'the GitHub REST API for dispatches and `github` steps (GitHub Enterprise Server: `https://HOST/api/v3`)',
  },
  LEVQOR_GITHUB_APP_ID: {
    uses: ALL,
    doc: 'dispatch and run `github` steps as a GitHub App instead of with a token: the App id (with `LEVQOR_GITHUB_APP_INSTALLATION_ID` and `LEVQOR_GITHUB_APP_PRIVATE_KEY`)',
  },
  LEVQOR_GITHUB_APP_INSTALLATION_ID: { uses: ALL, doc: "the App's installation id in the organisation whose workflows it dispatches" },
  LEVQOR_GITHUB_APP_PRIVATE_KEY: {
    uses: ALL,
    doc: "the App's private key (PEM; `\\n` escapes accepted); installation tokens are minted from it and renewed before they expire",
  },
  LEVQOR_GITHUB_OIDC_ISSUER: {
    uses: SERVE,
    doc: 'issuer of the GitHub Actions OIDC tokens `levqor serve` accepts from trusted repositories (`levqor github trust add`); GitHub Enterprise Server: `https://HOST/_services/token`',
  },
  LEVQOR_GITHUB_OIDC_AUDIENCE: {
    uses: SERVE,
    doc: "the `aud` those tokens must carry: the action's `api-audience` (default `levqor` on both sides)",
  },
  LEVQOR_SMTP_URL: { uses: STEPS, doc: '`smtp://user:pass@host:587` for `email` steps' },
  LEVQOR_SMTP_FROM: { uses: STEPS, doc: 'default sender of `email` steps (and of approval emails)' },
  LEVQOR_PUBLIC_URL: {
    uses: SERVE,
    doc: "the console's address as approvers reach it (`https://levqor.example.com`): with `LEVQOR_SMTP_URL` set, `email:` approvers get decision links",
  },
  LEVQOR_DECISION_LINK_HOURS: { uses: SERVE, doc: 'how long an emailed decision link works (at most until the request expires)' },
  LEVQOR_OIDC_ISSUER: {
    uses: SERVE,
    doc:
      'console sign-in with OpenID Connect: the issuer (`https://login.example.com`, its discovery document at `/.well-known/openid-configuration`); ' +
      'with `LEVQOR_OIDC_CLIENT_ID`, `LEVQOR_OIDC_CLIENT_SECRET` and `LEVQOR_OIDC_REDIRECT_URL` (all four, or none). ' +
      'A person is matched by their linked `oidc:<sub>` identity, else by a verified email (then linked)',
  },
  LEVQOR_OIDC_CLIENT_ID: { uses: SERVE, doc: "the console's client id at the issuer" },
  LEVQOR_OIDC_CLIENT_SECRET: {
    uses: SERVE,
    doc: "the console's client secret (a secret: never logged or shown); it also seals the short-lived sign-in cookie, so changing it cancels sign-ins in progress",
  },
  LEVQOR_OIDC_REDIRECT_URL: {
    uses: SERVE,
    doc: "the callback registered at the issuer: the console's public address + `/console/oidc/callback`",
  },
  LEVQOR_CONSOLE_TOKEN_SIGNIN: {
    uses: SERVE,
    doc: '`on`: the sign-in page also takes an API token (admins, break-glass); `off`: OpenID Connect only (needs `LEVQOR_OIDC_*`). Bearer tokens on `/api` are unaffected',
  },
  LEVQOR_LOG_LEVEL: { uses: ALL, doc: '`fatal` … `trace`, or `silent`' },
  LEVQOR_LOG_PRETTY: { uses: ALL, doc: 'human-readable logs instead of JSON lines (default: on a terminal)' },
  LEVQOR_TENANT: { uses: ['cli'], doc: 'default `--tenant` for commands' },
  LEVQOR_DEMO_HISTORY: {
    uses: SERVE,
    doc: 'weeks of demo history `levqor start` adds when it creates the demo tenant (`0`: none; `--demo-history` overrides it)',
  },
  USER: { uses: ['cli'], doc: 'who CLI actions are recorded as (`cli:USER`) without `--as`; unset: the account name' },
  HOST: { uses: ['serve', 'cli'], doc: '`levqor serve` address (`0.0.0.0` in a container); `levqor health` asks it' },
  PORT: { uses: ['serve', 'cli'], doc: '`levqor serve` port; `levqor health` asks it' },
  LEVQOR_API_RATE_LIMIT: { uses: SERVE, doc: 'requests per minute per token (per address without one)' },
  LEVQOR_API_BODY_LIMIT_BYTES: { uses: SERVE, doc: 'request body cap (413 above)' },
  LEVQOR_DASHBOARD_PUBLIC: { uses: SERVE, doc: 'serve `/dashboard` without a token' },
  LEVQOR_ALERT_PENDING_APPROVALS: {
    uses: ALL,
    doc: "pending approvals above which the health summary says degraded; for alerts only the starting threshold of a tenant's `approval_queue_depth` rule, stored in the database at its first evaluation (then `levqor alerts set`)",
  },
  LEVQOR_SCALING_P95_HIGH_MS: { uses: SERVE, doc: '`/api/scaling`: P95 latency that asks for a scale up' },
  LEVQOR_SCALING_P95_CRITICAL_MS: { uses: SERVE, doc: '`/api/scaling`: P95 latency that asks for an emergency scale' },
  LEVQOR_SCALING_QUEUE_HIGH: { uses: SERVE, doc: '`/api/scaling`: queue depth that asks for a scale up' },
  LEVQOR_SCALING_QUEUE_CRITICAL: { uses: SERVE, doc: '`/api/scaling`: queue depth that asks for an emergency scale' },
  LEVQOR_SCALING_COOLDOWN_SECONDS: { uses: SERVE, doc: '`/api/scaling`: no step down sooner than this after a change' },
  LEVQOR_SCALING_MAX_REPLICAS: {
    uses: SERVE,
    doc: "`/api/scaling`: cap of `recommendedReplicas` (keep the ScaledObject's maxReplicaCount equal)",
  },
  LEVQOR_RETENTION_RUNS_DAYS: { uses: ['serve', 'cli'], doc: 'retention of runs (`levqor cleanup`, daily in serve)' },
  LEVQOR_RETENTION_EVENTS_DAYS: { uses: ['serve', 'cli'], doc: 'retention of run events' },
  LEVQOR_RETENTION_APPROVALS_DAYS: { uses: ['serve', 'cli'], doc: 'retention of processed approvals (pending ones are never deleted)' },
  LEVQOR_SECRET_KEY: {
    uses: ALL,
    doc:
      'key-encryption key of the `db` secret provider (at least 32 characters, e.g. `openssl rand -base64 32`); required to store secrets on a Postgres server. ' +
      'Unset with the embedded database: a key file `<LEVQOR_DATA_DIR>.secret.key` (mode 0600) is created on first use',
  },
  LEVQOR_SECRET_KEY_FILE: {
    uses: ALL,
    doc: 'instead of `LEVQOR_SECRET_KEY`: a file holding it (first line: the current key; later lines: older keys still accepted for decrypting)',
  },
  LEVQOR_SECRET_KEY_PREVIOUS: {
    uses: ALL,
    doc: 'comma-separated older keys, accepted for decrypting until `levqor secret rotate-key` has re-wrapped every secret with the current one',
  },
  LEVQOR_SECRETS_DIR: {
    uses: STEPS,
    doc:
      '`file` secret provider: a directory of files named after secrets (a mounted Kubernetes secret volume). ' +
      "Precedence: the tenant's stored (`db`) secret, then this directory, then `LEVQOR_SECRET_<NAME>` variables (`env` provider)",
  },
  SLACK_SIGNING_SECRET: { uses: ['bot'], doc: 'verifies every request from Slack (required by the bot)' },
  SLACK_BOT_TOKEN: {
    uses: STEPS,
    doc: '`xoxb-…`: the bot posts and updates messages (required by the bot); `slack_message` steps post with it',
  },
  SLACK_APP_TOKEN: { uses: ['bot'], doc: '`xapp-…` (scope `connections:write`): Socket Mode instead of a public HTTP endpoint' },
  SLACK_API_URL: { uses: STEPS, doc: 'the Slack Web API (tests point it at a local fake)' },
  LEVQOR_BOT_PORT: { uses: ['bot'], doc: 'where the bot listens in HTTP mode (`/slack/events`, `/healthz`); Socket Mode opens no port' },
  LEVQOR_BOT_HOST: { uses: ['bot'], doc: "the bot's listening address" },
  LEVQOR_BOT_HEALTH_PORT: {
    uses: ['bot'],
    doc: 'probe port, in either mode: `GET /healthz` (liveness), `GET /readyz` (readiness: the database answers, the Socket Mode connection is open); unset: none',
  },
  LEVQOR_BOT_POSTS_SECONDS: { uses: ['bot'], doc: 'how often the bot checks for due scheduled posts and alerts' },
} as const satisfies Record<keyof typeof envSchema.shape, EnvDoc>;

/**
 * The parsed configuration, and the `env` secret provider's values: every `LEVQOR_SECRET_<NAME>`
 * variable (NAME as `{{secrets.NAME}}` says it) except the key settings themselves.
 */
export type Config = z.infer<typeof envSchema> & { readonly secretEnv?: Readonly<Record<string, string>> };

/** Variables of the secret settings, never secrets of the `env` provider. */
const SECRET_SETTINGS = new Set(['LEVQOR_SECRET_KEY', 'LEVQOR_SECRET_KEY_FILE', 'LEVQOR_SECRET_KEY_PREVIOUS']);

/** The `env` secret provider's values: LEVQOR_SECRET_<NAME> with a valid NAME. */
function secretEnvValues(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    const name = /^LEVQOR_SECRET_([A-Z][A-Z0-9_]{0,63})$/.exec(k)?.[1];
    if (name && v !== undefined && v !== '' && !SECRET_SETTINGS.has(k)) out[name] = v;
  }
  return out;
}

/** The Slack part of the configuration: what the bot, its Web API client and `slack_message` steps read. */
export type SlackConfig = Pick<Config, keyof typeof slackEnvSchema.shape>;

/**
 * The environment as this process received it, unparsed: only for passing it on to the
 * processes Levqor starts (the CI checks' commands). Levqor's own settings come from loadConfig.
 */
export function inheritedEnv(): NodeJS.ProcessEnv {
  return process.env;
}

/** The pooler settings only mean something with a Postgres server. */
function checkPooler(c: Config, ctx: z.RefinementCtx): void {
  if (c.DATABASE_URL) return;
  if (c.LEVQOR_DB_POOLER !== 'none')
    ctx.addIssue({ code: 'custom', path: ['LEVQOR_DB_POOLER'], message: 'needs DATABASE_URL (the embedded database has no pooler)' });
  if (c.DATABASE_DIRECT_URL)
    ctx.addIssue({ code: 'custom', path: ['DATABASE_DIRECT_URL'], message: 'needs DATABASE_URL (the pooled URL it sits beside)' });
}

/** The GitHub App's three settings come together. */
function checkGitHubApp(c: Config, ctx: z.RefinementCtx): void {
  const app = ['LEVQOR_GITHUB_APP_ID', 'LEVQOR_GITHUB_APP_INSTALLATION_ID', 'LEVQOR_GITHUB_APP_PRIVATE_KEY'] as const;
  const set = app.filter((k) => c[k] !== undefined);
  if (set.length === 0 || set.length === app.length) return;
  for (const k of app.filter((k) => c[k] === undefined))
    ctx.addIssue({ code: 'custom', path: [k], message: `required with ${set.join(' and ')} (a GitHub App needs all three)` });
}

/** OpenID Connect sign-in takes all four settings, and token sign-in can only be off beside it. */
function checkOidc(c: Config, ctx: z.RefinementCtx): void {
  const oidc = ['LEVQOR_OIDC_ISSUER', 'LEVQOR_OIDC_CLIENT_ID', 'LEVQOR_OIDC_CLIENT_SECRET', 'LEVQOR_OIDC_REDIRECT_URL'] as const;
  const set = oidc.filter((k) => c[k] !== undefined);
  if (set.length > 0 && set.length < oidc.length)
    for (const k of oidc.filter((k) => c[k] === undefined))
      ctx.addIssue({ code: 'custom', path: [k], message: `required with ${set.join(' and ')} (OpenID Connect sign-in needs all four)` });
  if (c.LEVQOR_CONSOLE_TOKEN_SIGNIN === 'off' && set.length === 0)
    ctx.addIssue({
      code: 'custom',
      path: ['LEVQOR_CONSOLE_TOKEN_SIGNIN'],
      message: 'off needs OpenID Connect sign-in (LEVQOR_OIDC_ISSUER …): otherwise nobody can sign in to the console',
    });
}

/** Parses the environment once; a bad variable fails with every problem listed. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.superRefine(checkPooler).superRefine(checkGitHubApp).superRefine(checkOidc).safeParse(input);
  if (parsed.success) return { ...parsed.data, secretEnv: secretEnvValues(env) };
  const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  throw new AppError('config', `invalid configuration:\n  ${issues.join('\n  ')}`, issues);
}
