import { describeDb } from '../db/open.js';
import { createSchedulerDeps } from '../runtime.js';
import { runLoop, runOnce } from '../scheduler/loop.js';
import { seedDemo } from '../workflows/demo.js';
import { listWorkflows } from '../workflows/queries.js';
import { withDb } from './context.js';

export interface SchedulerFlags {
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
      const stopClaiming = new AbortController();
      const abortRuns = new AbortController();
      const deps = createSchedulerDeps(config, db, log, { stopClaiming: stopClaiming.signal, abortRuns: abortRuns.signal }, {
        batchSize: flags.batchSize,
        concurrency: flags.concurrency,
      });
      const graceMs = config.LEVQOR_SHUTDOWN_TIMEOUT_SECONDS * 1000;
      const onSignal = (signal: NodeJS.Signals) => {
        if (stopClaiming.signal.aborted) {
          log.warn({ signal }, 'second signal: releasing runs in flight now');
          abortRuns.abort(new Error(`stopped by ${signal}`));
          return;
        }
        log.info({ signal, grace_seconds: graceMs / 1000 }, 'stopping: no new runs are claimed; waiting for runs in flight');
        stopClaiming.abort();
        setTimeout(() => abortRuns.abort(new Error(`stopped by ${signal}`)), graceMs).unref();
        // The last resort: never outlive the 30 s an orchestrator gives between SIGTERM and SIGKILL.
        setTimeout(() => process.exit(1), graceMs + 4_000).unref();
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      try {
        if (flags.demo) {
          const tenant = await seedDemo(db);
          if (tenant) {
            const wfs = await listWorkflows(db, tenant.id);
            log.info({ tenant: tenant.name, workflows: wfs.map((w) => w.name) }, 'first start: created the demo tenant and workflows');
          }
        }
        const interval = flags.interval ?? config.LEVQOR_SCHEDULER_INTERVAL_SECONDS;
        log.info(
          { db: describeDb(config), mode: flags.once ? 'once' : 'loop', interval_seconds: flags.once ? undefined : interval, owner: deps.owner },
          flags.once ? 'scheduler: running due workflows once' : `scheduler: checking for due workflows at least every ${interval} s (Ctrl-C to stop)`,
        );
        if (flags.once) {
          const summary = await runOnce(deps);
          return summary.failed > 0 ? 1 : 0;
        }
        await runLoop(deps, { intervalSeconds: interval });
        log.info('scheduler stopped');
        return 0;
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
    },
    { logsToStdout: true },
  );
}
