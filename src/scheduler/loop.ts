import { hostname } from 'node:os';
import { dbNow } from '../db/now.js';
import type { Db } from '../db/types.js';
import { errorMessage } from '../lib/errors.js';
import { SCHEDULER_CHANNEL } from '../runs/lifecycle-queries.js';
import { recordInstance as writeInstance, secondsUntilNextDue } from './queries.js';
import { emptySummary, recoverLeases, runTick, type SchedulerDeps, type TickSummary } from './tick.js';

interface LoopOptions {
  /** The guide's "checking every 60 seconds": the longest the loop sleeps between ticks. */
  intervalSeconds: number;
}

/** The shortest time between two runs of lease recovery and the approval sweeps in the loop. */
const MAINTENANCE_GAP_MS = 1_000;

/**
 * How often a loop looks for runs whose lease ran out, on its own timer: a dead replica's runs
 * are recovered within their lease plus this period, whatever batch the live replicas execute.
 */
const RECOVERY_PERIOD_MS = 500;

/** Lease recovery on its own timer, never two at once; counts what it recovered until taken. */
function startRecovery(deps: SchedulerDeps): { first: Promise<void>; take(): number; stop(): Promise<void> } {
  let recovered = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const round = () => {
    inFlight = recoverLeases(deps)
      .then(
        (n) => void (recovered += n),
        (err: unknown) => deps.log.warn({ err: errorMessage(err) }, 'lease recovery failed; retrying'),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(round, RECOVERY_PERIOD_MS);
      });
  };
  round();
  return {
    first: inFlight,
    take: () => {
      const n = recovered;
      recovered = 0;
      return n;
    },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
    },
  };
}

function addSummary(total: TickSummary, s: TickSummary): void {
  for (const key of Object.keys(s) as (keyof TickSummary)[]) total[key] += s[key];
}

/** Why the loop woke: 'timer', 'stop', or the NOTIFY payload ('run', 'workflow'). */
type WakeReason = string;

/** Sleeps up to `seconds`, waking early on a nudge (with its NOTIFY payload) or when claiming stops. */
function pause(seconds: number, wake: { promise: Promise<string> }, stop: AbortSignal): Promise<WakeReason> {
  return new Promise((resolve) => {
    // A signal that aborted during the tick never fires again: check it before waiting.
    if (stop.aborted) return resolve('stop');
    const done = (reason: WakeReason) => {
      clearTimeout(timer);
      stop.removeEventListener('abort', onStop);
      resolve(reason);
    };
    const onStop = () => done('stop');
    const timer = setTimeout(() => done('timer'), Math.max(0, seconds * 1000));
    stop.addEventListener('abort', onStop, { once: true });
    void wake.promise.then(done);
  });
}

/** Records this scheduler's heartbeat row (doctor and health read it). */
function recordInstance(db: Db, id: string, startedAt: number, summary: TickSummary | null, stopped = false): Promise<void> {
  return writeInstance(db, { id, hostname: hostname(), pid: process.pid, startedAt, summary, stopped });
}

/** Seconds between the loop's alert evaluations (the server's health tasks use the same). */
const ALERTS_GAP_MS = 30_000;

/** Evaluates the alert rules; a failure is logged, never the tick's failure. */
async function evaluateAlertsSafely(deps: SchedulerDeps): Promise<void> {
  try {
    await deps.evaluateAlerts?.();
  } catch (err) {
    deps.log.warn({ err: errorMessage(err) }, 'alert evaluation failed; retrying at the next tick');
  }
}

/** One tick and out: the guide's `--once` (cron) mode. Records the tick for doctor and health, then evaluates the alert rules. */
export async function runOnce(deps: SchedulerDeps): Promise<TickSummary> {
  const startedAt = await dbNow(deps.db);
  await recordInstance(deps.db, deps.owner, startedAt, null);
  const summary = await runTick(deps);
  deps.log.info({ ...summary }, 'tick');
  await recordInstance(deps.db, deps.owner, startedAt, summary, true);
  await evaluateAlertsSafely(deps);
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
  let nudge: (payload: string) => void = () => undefined;
  const wake = { promise: Promise.resolve('') };
  const rearm = () => {
    wake.promise = new Promise<string>((resolve) => (nudge = resolve));
  };
  rearm();
  // A run queued while a tick works through a backlog of due slots is claimed with the next batch.
  const queueNudge = { pending: false };
  const unlisten = await listenSafely(
    db,
    (payload) => {
      if (payload === 'run') queueNudge.pending = true;
      nudge(payload);
    },
    log,
  );
  // When the next full tick is due: schedules and approval sweeps.
  let fullTickAt = 0;
  // The approval sweeps run at most once a MAINTENANCE_GAP_MS, not in every tick: a slot that
  // falls due is claimed without waiting for them. Lease recovery has its own timer, started
  // with a first round that the first tick waits for (it may requeue runs for that tick).
  let maintenanceAt = 0;
  let alertsAt = 0;
  const recovery = startRecovery(deps);
  try {
    await recovery.first;
    while (!deps.stopClaiming.aborted) {
      rearm();
      // A queued run (manual, or approved) only needs the queue drained: the fast path.
      const full = Date.now() >= fullTickAt;
      const maintenance = full && Date.now() >= maintenanceAt;
      if (maintenance) maintenanceAt = Date.now() + MAINTENANCE_GAP_MS;
      try {
        const summary = await runTick(
          deps,
          full ? { maintenance, recovery: false, queueNudge } : { maintenance: false, due: false, queueNudge },
        );
        summary.recovered += recovery.take();
        addSummary(total, summary);
        if (full || summary.claimed > 0) log.info({ ...summary, fast: !full || undefined }, 'tick');
        if (full) await recordInstance(db, deps.owner, startedAt, summary);
        if (full && Date.now() >= alertsAt) {
          alertsAt = Date.now() + ALERTS_GAP_MS;
          await evaluateAlertsSafely(deps);
        }
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
      // Maintenance skipped in this tick is not skipped for long: the loop wakes for it.
      if (full && !maintenance) wait = Math.min(wait, Math.max(0.01, (maintenanceAt - Date.now()) / 1000));
      if (full) fullTickAt = Date.now() + wait * 1000;
      else wait = Math.max(0, Math.min(wait, (fullTickAt - Date.now()) / 1000));
      const reason = await pause(wait, wake, deps.stopClaiming);
      // Anything but a queued run (a workflow change, the timer) re-plans with a full tick.
      if (reason !== 'run') fullTickAt = 0;
    }
  } finally {
    await recovery.stop();
    await unlisten().catch(() => undefined);
    await recordInstance(db, deps.owner, startedAt, null, true).catch(() => undefined);
  }
  return total;
}

async function listenSafely(db: Db, onNudge: (payload: string) => void, log: SchedulerDeps['log']): Promise<() => Promise<void>> {
  try {
    return await db.listen(SCHEDULER_CHANNEL, onNudge);
  } catch (err) {
    log.warn({ err: errorMessage(err) }, 'LISTEN failed; the loop falls back to its interval');
    return () => Promise.resolve();
  }
}
