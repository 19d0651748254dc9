import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { createCriticalGate } from './approvals/gate.js';
import { insertAudit } from './audit/queries.js';
import type { Config } from './config.js';
import { openDatabase } from './db/open.js';
import type { Db } from './db/types.js';
import type { Logger } from './lib/log.js';
import type { SchedulerDeps } from './scheduler/tick.js';
import { healthOptions } from './health/options.js';
import { evaluateAlerts } from './health/tasks.js';
import { githubStepClient } from './github/server.js';
import { slackPosterFromConfig } from './slack/poster.js';
import { getSlackSettings } from './slack/queries.js';
import { secretStoreFromConfig } from './secrets/from-config.js';
import type { EnginePorts } from './workflows/ports.js';
import { createSmtpMailer } from './workflows/steps/email.js';
import { guardedFetch } from './workflows/steps/http.js';
import type { WebhookDeps } from './notify/webhooks.js';
import type { EmailNotifyDeps } from './notify/decision-links.js';
import type { StepServices } from './workflows/steps/run-step.js';

/** The SSRF policy and limits of outbound HTTP (`http` steps, `github` steps, approval webhooks). */
function outboundHttp(config: Config): Pick<StepServices, 'netPolicy' | 'http'> {
  return {
    netPolicy: { allow: config.LEVQOR_HTTP_ALLOW },
    http: {
      timeoutMs: config.LEVQOR_HTTP_TIMEOUT_MS,
      connectTimeoutMs: config.LEVQOR_HTTP_CONNECT_TIMEOUT_MS,
      maxResponseBytes: config.LEVQOR_HTTP_MAX_RESPONSE_BYTES,
    },
  };
}

/** Step services from configuration: the SSRF policy, HTTP limits, the SMTP mailer, Slack and GitHub. */
function createStepServices(config: Config): StepServices {
  const { netPolicy, http } = outboundHttp(config);
  return {
    netPolicy,
    http,
    mailer: config.LEVQOR_SMTP_URL ? createSmtpMailer(config.LEVQOR_SMTP_URL) : undefined,
    smtpFrom: config.LEVQOR_SMTP_FROM,
    slack: slackPosterFromConfig(config),
    github: githubStepClient(config, guardedFetch(netPolicy, http)),
  };
}

/** What the approval webhooks need: the `http` step's SSRF guard and limits, and the secret store for signing keys. */
export function createWebhookDeps(config: Config, db: Db, log: Logger): WebhookDeps {
  // Only the HTTP guard: the mailer, Slack and GitHub clients of the step services are not needed here.
  const step = outboundHttp(config);
  const secrets = secretStoreFromConfig(config);
  return {
    db,
    log,
    fetch: guardedFetch(step.netPolicy, step.http),
    signingKey: async (tenantId, name) => (await secrets.resolve(db, tenantId, [name])).get(name) ?? '',
  };
}

/** Approval emails with decision links: only when both SMTP and the console's public URL are configured. */
export function createEmailNotifyDeps(config: Config, db: Db, log: Logger): EmailNotifyDeps | undefined {
  if (!config.LEVQOR_SMTP_URL || !config.LEVQOR_PUBLIC_URL) return undefined;
  return {
    db,
    log,
    mailer: createSmtpMailer(config.LEVQOR_SMTP_URL),
    from: config.LEVQOR_SMTP_FROM,
    publicUrl: config.LEVQOR_PUBLIC_URL,
    linkTtlSeconds: config.LEVQOR_DECISION_LINK_HOURS * 3600,
  };
}

/**
 * The engine's gates: the approval ledger decides Class C steps, audit_log records Class B
 * ones, the tenant's Slack settings name the internal channels (messages there are Class B), and
 * the secret store resolves `{{secrets.NAME}}` for an execution.
 */
function createEnginePorts(config: Config): EnginePorts {
  return {
    critical: createCriticalGate({ defaultTtlSeconds: config.LEVQOR_APPROVAL_TTL_HOURS * 3600 }),
    audit: insertAudit,
    internalChannels: async (db, tenantId) => (await getSlackSettings(db, tenantId))?.internal_channels ?? [],
    secrets: secretStoreFromConfig(config).resolve,
  };
}

/** A process's unique lease-owner id: readable in logs, unique across restarts. */
export function createInstanceId(role: string): string {
  return `${role}:${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/** Opens the configured database and logs what the process is using; `share`: see openDatabase (`levqor serve`). */
export async function openConfiguredDb(config: Config, log: Logger, migrate = true, share = false): Promise<Db> {
  return openDatabase(config, {
    migrate,
    share,
    onBackgroundError: (err) => log.warn({ err: err.message }, 'database connection dropped; the pool reconnects on next use'),
    onWarning: (message) => log.warn(message),
  });
}

/** Everything the scheduler and run executor need, from configuration. */
export function createSchedulerDeps(
  config: Config,
  db: Db,
  log: Logger,
  signals: { stopClaiming: AbortSignal; abortRuns: AbortSignal },
  overrides: Partial<Pick<SchedulerDeps, 'batchSize' | 'concurrency' | 'owner'>> = {},
): SchedulerDeps {
  // Every step in flight listens on the shutdown signal; dozens at once is expected, not a leak.
  setMaxListeners(0, signals.abortRuns, signals.stopClaiming);
  const owner = overrides.owner ?? createInstanceId('scheduler');
  return {
    db,
    log,
    owner,
    services: createStepServices(config),
    ...createEnginePorts(config),
    clock: () => Date.now() / 1000,
    random: Math.random,
    signal: signals.abortRuns,
    stopClaiming: signals.stopClaiming,
    batchSize: overrides.batchSize ?? config.LEVQOR_SCHEDULER_BATCH_SIZE,
    concurrency: overrides.concurrency ?? config.LEVQOR_SCHEDULER_CONCURRENCY,
    leaseSeconds: config.LEVQOR_RUN_LEASE_SECONDS,
    evaluateAlerts: () => evaluateAlerts({ db, log, thresholds: healthOptions(config).thresholds, owner }),
  };
}
