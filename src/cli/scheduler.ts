import { describeDb } from '../lib/describe-db.js';
import { createSchedulerDeps } from '../runtime.js';
import { runLoop, runOnce } from '../scheduler/loop.js';
import { seedDemo } from '../workflows/demo.js';
import { listWorkflows } from '../workflows/queries.js';
import { withDb } from './context.js';
import { withShutdownSignals } from '../lib/shutdown.js';

interface SchedulerFlags {
  once?: boolean;
  interval?: number;
  batchSize?: number;
  concurrency?: number;
  demo?: boolean;
}

/**
 * `levqor scheduler [--once]`: runs due workflows once and exits 0/1, or loops until
 * SIGTERM/SIGINT. On a signal it stops claiming, lets runs in flight finish for up to
 * LEVQOR_SHUTDOWN_TIMEOUT_SECONDS, hands the rest back to the queue, and exits.
 */
export async function schedulerCommand(flags: SchedulerFlags): Promise<number> {
  return withDb(
    async ({ config, db, log }) => {
      const grace = config.LEVQOR_SHUTDOWN_TIMEOUT_SECONDS;
      return withShutdownSignals(log, grace, 'no new runs are claimed; waiting for runs in flight', async ({ stopClaiming, abortRuns }) => {
        const deps = createSchedulerDeps(
          config,
          db,
          log,
          { stopClaiming, abortRuns },
          { batchSize: flags.batchSize, concurrency: flags.concurrency },
        );
        if (flags.demo) {
          const tenant = await seedDemo(db);
          if (tenant) {
            const wfs = await listWorkflows(db, tenant.id);
            log.info({ tenant: tenant.name, workflows: wfs.map((w) => w.name) }, 'first start: created the demo tenant and workflows');
          }
        }
        const interval = flags.interval ?? config.LEVQOR_SCHEDULER_INTERVAL_SECONDS;
        log.info(
          {
            db: describeDb(config, db),
            mode: flags.once ? 'once' : 'loop',
            interval_seconds: flags.once ? undefined : interval,
            owner: deps.owner,
          },
          flags.once
            ? 'scheduler: running due workflows once'
            : `scheduler: checking for due workflows at least every ${interval} s (Ctrl-C to stop)`,
        );
        if (flags.once) {
          const summary = await runOnce(deps);
          return summary.failed > 0 ? 1 : 0;
        }
        await runLoop(deps, { intervalSeconds: interval });
        log.info('scheduler stopped');
        return 0;
      });
    },
    { logsToStdout: true },
  );
}
