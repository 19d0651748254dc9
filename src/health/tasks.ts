import type { Logger } from 'pino';
import type { Db } from '../db/types.js';
import { errorMessage } from '../lib/errors.js';
import { createPause } from '../lib/pause.js';
import { runCleanup, type RetentionOptions } from '../maintenance/cleanup.js';
import { claimDailyTask, finishDailyTask, releaseDailyTask } from '../maintenance/queries.js';
import { defaultAlertThresholds } from './alert-rules.js';
import { evaluateAllAlerts } from './alerts.js';
import { pruneHealthBookkeeping } from './queries.js';
import type { HealthThresholds } from './summary.js';

export interface HealthTaskDeps {
  db: Db;
  log: Logger;
  thresholds: HealthThresholds;
  retention: Omit<RetentionOptions, 'dryRun' | 'archiveDir' | 'onProgress'>;
  processStartedAt: number;
  /** This process, recorded on each tenant's evaluation (default: "levqor"). */
  owner?: string;
}

/**
 * Evaluates every tenant's alert rules (stored in the database) once; fired and resolved
 * alerts are logged (and NOTIFYed). Whichever process ticks calls this: serve, the scheduler
 * (loop and --once) and the bot. The process's thresholds only seed a tenant's missing rules.
 */
export async function evaluateAlerts(deps: Pick<HealthTaskDeps, 'db' | 'log' | 'thresholds' | 'owner'>): Promise<void> {
  const changes = await evaluateAllAlerts(deps.db, { defaults: defaultAlertThresholds(deps.thresholds), by: deps.owner ?? 'levqor' });
  for (const { tenant_id, fired, resolved } of changes) {
    for (const a of fired) deps.log.warn({ alert: a.kind, id: a.id, tenant_id }, `alert firing: ${a.message}`);
    for (const a of resolved) deps.log.info({ alert: a.kind, id: a.id, tenant_id }, `alert resolved: ${a.resolved_message ?? a.message}`);
  }
}

/** Runs today's retention cleanup if no replica has yet. */
export async function dailyCleanup(deps: HealthTaskDeps): Promise<void> {
  if (!(await claimDailyTask(deps.db, 'cleanup'))) return;
  let result;
  try {
    result = await runCleanup(deps.db, deps.retention);
    // Health's own bookkeeping: only the last minutes of request buckets and a month of resolved alerts are read.
    await pruneHealthBookkeeping(deps.db);
  } catch (err) {
    // Give the day back so the next check (here or on another replica) tries again.
    await releaseDailyTask(deps.db, 'cleanup');
    throw err;
  }
  await finishDailyTask(deps.db, 'cleanup', result);
  deps.log.info({ ...result }, 'daily retention cleanup done');
}

/** The server's background health work: alerts every `alertSeconds`, cleanup once a day, until stop aborts. */
export async function runHealthTasks(deps: HealthTaskDeps, stop: AbortSignal, alertSeconds = 30, firstDelaySeconds = 0): Promise<void> {
  let lastCleanupCheck = 0;
  const pause = createPause(stop);
  // A scheduler starting beside us has not ticked yet: the server waits before judging it.
  if (firstDelaySeconds > 0) await pause.wait(firstDelaySeconds);
  while (!stop.aborted) {
    try {
      await evaluateAlerts(deps);
      if (Date.now() - lastCleanupCheck > 3_600_000) {
        lastCleanupCheck = Date.now();
        await dailyCleanup(deps);
      }
    } catch (err) {
      deps.log.warn({ err: errorMessage(err) }, 'health task failed; retrying');
    }
    await pause.wait(alertSeconds);
  }
}
