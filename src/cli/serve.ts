import { createToken, SCOPES } from '../auth/tokens.js';
import { sweepApprovals } from '../approvals/service.js';
import { startApprovalDispatch } from '../approvals/dispatch.js';
import { describeDb } from '../lib/describe-db.js';
import { errorMessage } from '../lib/errors.js';
import { buildApp } from '../http/app.js';
import { oidcSignInFromConfig } from '../auth/oidc-client.js';
import { secretStoreFromConfig } from '../secrets/from-config.js';
import { healthOptions } from '../health/options.js';
import { runHealthTasks } from '../health/tasks.js';
import { createEmailNotifyDeps, createInstanceId, createSchedulerDeps, createWebhookDeps } from '../runtime.js';
import { deliverWebhooks, startApprovalNotifiers } from '../notify/webhooks.js';
import { emailApprovers } from '../notify/decision-links.js';
import { runLoop } from '../scheduler/loop.js';
import { seedDemoHistory } from '../reports/demo-history.js';
import { DEMO_WORKFLOWS, seedDemo } from '../workflows/demo.js';
import { listWorkflows } from '../workflows/queries.js';
import { withDb } from './context.js';
import { createPause } from '../lib/pause.js';
import { withShutdownSignals } from '../lib/shutdown.js';

export interface ServeFlags {
  host?: string;
  port?: number;
  scheduler?: boolean;
  expiry?: boolean;
  interval?: number;
  demo?: boolean;
  /** Weeks of demo history to add when the demo tenant is created (0: none; default: LEVQOR_DEMO_HISTORY). */
  demoHistory?: number;
}

/** Expires and reminds approvals every `seconds` until stopped (when no scheduler loop does it). */
async function sweepLoop(run: () => Promise<unknown>, seconds: number, stop: AbortSignal): Promise<void> {
  const pause = createPause(stop);
  while (!stop.aborted) {
    await run();
    await pause.wait(seconds);
  }
}

/**
 * `levqor serve`: the REST API on HOST:PORT, with the scheduler loop and the approval
 * expiry sweep in the same process (each can be switched off). SIGTERM stops it gracefully.
 */
export async function serveCommand(flags: ServeFlags): Promise<number> {
  return withDb(
    async ({ config, db, log }) => {
      const grace = config.LEVQOR_SHUTDOWN_TIMEOUT_SECONDS;
      return withShutdownSignals(
        log,
        grace,
        'closing the API, letting runs in flight finish',
        async ({ stopClaiming, abortRuns, stopped }) => {
          const deps = createSchedulerDeps(config, db, log, { stopClaiming, abortRuns });
          if (flags.demo) {
            const tenant = await seedDemo(db);
            if (tenant) {
              const { token } = await createToken(db, tenant.id, 'demo', [...SCOPES]);
              const workflows = (await listWorkflows(db, tenant.id)).map((w) => w.name);
              log.info({ tenant: tenant.name, workflows }, 'first start: created the demo tenant and workflows, and an API token');
              process.stdout.write(
                `\n  Demo API token (shown once): ${token}\n  Try: curl -H "Authorization: Bearer ${token}" http://${flags.host ?? config.HOST}:${flags.port ?? config.PORT}/api/approvals\n\n`,
              );
              const weeks = flags.demoHistory ?? config.LEVQOR_DEMO_HISTORY;
              if (weeks) {
                const h = await seedDemoHistory(db, tenant, DEMO_WORKFLOWS, { weeks, now: Date.now() / 1000 });
                process.stdout.write(
                  `  Added ${h.weeks} weeks of demo history (${h.runs} runs, ${h.approvals} approvals, ${h.events} engagement events) for reports, analytics and the dashboard; LEVQOR_DEMO_HISTORY=0 skips it.\n\n`,
                );
              }
            }
          }
          const startedAt = Date.now() / 1000;
          const health = healthOptions(config);
          const app = await buildApp({
            db,
            log,
            rateLimitPerMinute: config.LEVQOR_API_RATE_LIMIT,
            bodyLimitBytes: config.LEVQOR_API_BODY_LIMIT_BYTES,
            runDeps: () => deps,
            startedAt,
            instanceId: createInstanceId('api'),
            health: { thresholds: health.thresholds, scaling: health.scaling },
            dashboardPublic: config.LEVQOR_DASHBOARD_PUBLIC,
            githubOidc: { issuer: config.LEVQOR_GITHUB_OIDC_ISSUER, audience: config.LEVQOR_GITHUB_OIDC_AUDIENCE },
            secrets: secretStoreFromConfig(config),
            oidc: oidcSignInFromConfig(config),
            tokenSignIn: config.LEVQOR_CONSOLE_TOKEN_SIGNIN === 'on',
          });
          const host = flags.host ?? config.HOST;
          const address = await app.listen({ host, port: flags.port ?? config.PORT });
          log.info(
            { db: describeDb(config, db), scheduler: flags.scheduler !== false, expiry: flags.expiry !== false },
            `levqor API listening on ${address}`,
          );
          const interval = flags.interval ?? config.LEVQOR_SCHEDULER_INTERVAL_SECONDS;
          const background =
            flags.scheduler !== false
              ? runLoop(deps, { intervalSeconds: interval })
              : flags.expiry !== false
                ? sweepLoop(
                    async () => {
                      try {
                        await sweepApprovals(db);
                      } catch (err) {
                        log.warn({ err: errorMessage(err) }, 'approval sweep failed');
                      }
                    },
                    30,
                    stopClaiming,
                  )
                : stopped;
          const healthTasks = runHealthTasks(
            { db, log, thresholds: health.thresholds, retention: health.retention, processStartedAt: startedAt },
            stopClaiming,
            30,
            30,
          );
          // repository_dispatch for approved deploy requests (when LEVQOR_GITHUB_DISPATCH_TOKEN is set).
          const dispatch = startApprovalDispatch({ db, log, config, signal: stopClaiming });
          // Approval events to the tenants' webhooks (levqor webhooks add), signed, retried with back-off.
          // and, with LEVQOR_SMTP_URL and LEVQOR_PUBLIC_URL, decision links to email: approvers.
          const webhookDeps = createWebhookDeps(config, db, log);
          const emailDeps = createEmailNotifyDeps(config, db, log);
          const webhooks = startApprovalNotifiers({
            db,
            log,
            signal: stopClaiming,
            tasks: [() => deliverWebhooks(webhookDeps), ...(emailDeps ? [() => emailApprovers(emailDeps)] : [])],
          });
          await stopped;
          await app.close();
          await Promise.all([background, healthTasks, dispatch, webhooks]);
          log.info('levqor serve stopped');
          return 0;
        },
      );
    },
    // On the embedded database, serve shares it with the other commands on its socket.
    { logsToStdout: true, share: true },
  );
}
