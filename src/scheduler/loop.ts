import type { Db } from '../db/types.js';
import { errorMessage } from '../lib/errors.js';
import { dbNow, SCHEDULER_CHANNEL } from '../workflows/queries.js';
import { secondsUntilNextDue } from './claim.js';
import { emptySummary, recordInstance, runTick, type SchedulerDeps, type TickSummary } from './tick.js';

export interface LoopOptions {
  /** The guide's "checking every 60 seconds": the longest the loop sleeps between ticks. */
  intervalSeconds: number;
}

function addSummary(total: TickSummary, s: TickSummary): void {
  for (const key of Object.keys(s) as (keyof TickSummary)[]) total[key] += s[key];
}

/** Sleeps up to `seconds`, waking early on a nudge or when claiming stops. */
function pause(seconds: number, wake: { promise: Promise<void> }, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    // A signal that aborted during the tick never fires again: check it before waiting.
    if (stop.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, seconds * 1000));
    function done() {
      clearTimeout(timer);
      stop.removeEventListener('abort', done);
      resolve();
    }
    stop.addEventListener('abort', done, { once: true });
    void wake.promise.then(done);
  });
}

/** One tick and out: the guide's `--once` (cron) mode. Records the tick for doctor and health. */
export async function runOnce(deps: SchedulerDeps): Promise<TickSummary> {
  const startedAt = await dbNow(deps.db);
  await recordInstance(deps.db, deps.owner, startedAt, null);
  const summary = await runTick(deps);
  deps.log.info({ ...summary }, 'tick');
  await recordInstance(deps.db, deps.owner, startedAt, summary, true);
  return summary;
}

/**
 * The continuous scheduler: ticks at least every intervalSeconds, sooner when the next slot
 * is due, and at once when a run is queued or a workflow changes (LISTEN/NOTIFY).
 */
export async function runLoop(deps: SchedulerDeps, opts: LoopOptions): Promise<TickSummary> {
  const { db, log } = deps;
  const total = emptySummary();
  const startedAt = await dbNow(db);
  let nudge!: () => void;
  const wake = { promise: Promise.resolve() };
  const rearm = () => {
    wake.promise = new Promise<void>((resolve) => (nudge = resolve));
  };
  rearm();
  const unlisten = await listenSafely(db, () => nudge(), log);
  try {
    while (!deps.stopClaiming.aborted) {
      rearm();
      try {
        const summary = await runTick(deps);
        addSummary(total, summary);
        log.info({ ...summary }, 'tick');
        await recordInstance(db, deps.owner, startedAt, summary);
      } catch (err) {
        log.error({ err: errorMessage(err) }, 'tick failed; retrying at the next interval');
      }
      let wait = opts.intervalSeconds;
      try {
        const untilDue = await secondsUntilNextDue(db);
        if (untilDue !== null) wait = Math.min(wait, Math.max(0.01, untilDue));
      } catch {
        // the database is away: keep the interval
      }
      await pause(wait, wake, deps.stopClaiming);
    }
  } finally {
    await unlisten().catch(() => undefined);
    await recordInstance(db, deps.owner, startedAt, null, true).catch(() => undefined);
  }
  return total;
}

async function listenSafely(db: Db, onNudge: () => void, log: SchedulerDeps['log']): Promise<() => Promise<void>> {
  try {
    return await db.listen(SCHEDULER_CHANNEL, onNudge);
  } catch (err) {
    log.warn({ err: errorMessage(err) }, 'LISTEN failed; the loop falls back to its interval');
    return () => Promise.resolve();
  }
}
