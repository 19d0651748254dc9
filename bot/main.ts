// Entry of lib/bot.js: `levqor bot` (and `npm run bot`) import it lazily and call runBot.
import type { Config } from '../src/config.js';
import { describeDb } from '../src/lib/describe-db.js';
import { errorMessage } from '../src/lib/errors.js';
import { createLogger } from '../src/lib/log.js';
import { createInstanceId, createSchedulerDeps, openConfiguredDb } from '../src/runtime.js';
import { createSlackClient } from '../src/slack/client.js';
import { requireBotCredentials } from '../src/slack/env.js';
import { withShutdownSignals } from '../src/lib/shutdown.js';
import { ALERTS_CHANNEL, pingDatabase } from '../src/health/queries.js';
import { healthOptions } from '../src/health/options.js';
import { countConnectedTenants } from '../src/slack/queries.js';
import { runScheduledPosts } from '../src/slack/scheduled.js';
import { startBot } from './app.js';
import { startHealthServer } from './health.js';

export interface BotFlags {
  port?: number;
  host?: string;
  /** false: only record decisions; a scheduler executes approved steps. */
  run?: boolean;
}

/** Runs the Slack bot until SIGTERM/SIGINT; refuses to start without its credentials. */
export async function runBot(config: Config, flags: BotFlags = {}): Promise<number> {
  const creds = requireBotCredentials(config);
  const log = createLogger(config.LEVQOR_LOG_LEVEL, config.LEVQOR_LOG_PRETTY);
  const db = await openConfiguredDb(config, log);
  try {
    return await withShutdownSignals(
      log,
      config.LEVQOR_SHUTDOWN_TIMEOUT_SECONDS,
      'the Slack bot stops taking requests',
      async ({ stopClaiming, abortRuns, stopped }) => {
        const owner = createInstanceId('bot');
        const runDeps = createSchedulerDeps(config, db, log, { stopClaiming, abortRuns }, { owner });
        const slack = createSlackClient(config);
        const processStartedAt = Date.now() / 1000;
        const deps = {
          db,
          log,
          slack,
          config,
          runDeps,
          executeRuns: flags.run !== false,
          processStartedAt,
          inFlight: new Set<Promise<unknown>>(),
        };
        const bot = await startBot(deps, {
          ...creds,
          apiUrl: config.SLACK_API_URL,
          appToken: config.SLACK_APP_TOKEN,
          port: flags.port ?? config.LEVQOR_BOT_PORT,
          host: flags.host ?? config.LEVQOR_BOT_HOST,
        });
        await slack.auth.test().then(
          (who) => log.info({ team: who.team_id, bot: who.user_id }, 'Slack accepted the bot token'),
          (err: unknown) =>
            log.error(
              { err: errorMessage(err) },
              'Slack did not accept SLACK_BOT_TOKEN (auth.test failed): check the token and SLACK_API_URL',
            ),
        );
        if ((await countConnectedTenants(db)) === 0)
          log.warn(
            'no tenant is connected to a Slack workspace yet: run `levqor slack configure --tenant NAME --team T… --approvals-channel C…`',
          );
        log.info(
          { db: describeDb(config, db), mode: config.SLACK_APP_TOKEN ? 'socket' : 'http', executeRuns: deps.executeRuns },
          `Levqor Slack bot ready: ${bot.url}`,
        );
        // Probes for compose and k8s (Socket Mode opens no other port): off unless LEVQOR_BOT_HEALTH_PORT is set.
        const health =
          config.LEVQOR_BOT_HEALTH_PORT === undefined
            ? undefined
            : await startHealthServer({
                host: flags.host ?? config.LEVQOR_BOT_HOST,
                port: config.LEVQOR_BOT_HEALTH_PORT,
                checks: {
                  database: () =>
                    pingDatabase(db).then(
                      () => undefined,
                      () => 'not answering',
                    ),
                  slack: () => (bot.connected() ? undefined : 'the Socket Mode connection is not open'),
                  shutdown: () => (stopClaiming.aborted ? 'stopping' : undefined),
                },
              });
        if (health) log.info({ port: health.port }, `bot health: GET /healthz (liveness), /readyz (readiness) on port ${health.port}`);
        const posts = runScheduledPosts(
          {
            db,
            owner,
            log,
            processStartedAt,
            thresholds: healthOptions(config).thresholds,
            post: async (channel, message) =>
              (await slack.chat.postMessage({ channel, text: message.text, blocks: message.blocks, unfurl_links: false })).ts ?? '',
          },
          stopClaiming,
          config.LEVQOR_BOT_POSTS_SECONDS,
          (wake) => db.listen(ALERTS_CHANNEL, wake),
        );
        await stopped;
        await bot.stop();
        await health?.close();
        // Approved steps still running finish (or are released at the end of the grace) before the database closes.
        await Promise.all([posts, ...deps.inFlight]);
        return 0;
      },
    );
  } finally {
    await db.close();
  }
}
