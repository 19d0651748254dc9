import { sweepApprovals } from '../approvals/service.js';
import { errorMessage } from '../lib/errors.js';
import { recoverExpiredClaims } from '../runs/claim-queries.js';
import {
  claimQueuedRuns,
  heartbeatRuns,
  insertEvents,
  recoverExpiredRuns,
  notifyScheduler,
  settleRuns,
  type ClaimSettle,
  type RunFinish,
  type RunRelease,
} from '../runs/lifecycle-queries.js';
import type { NewEvent } from '../runs/types.js';
import { executeRun, type ExecutorDeps, type RunOutcome } from '../workflows/executor.js';
import type { WorkflowRow } from '../workflows/queries.js';
import { claimDueWorkflows, type ClaimedRun } from './claim.js';

export interface SchedulerDeps extends ExecutorDeps {
  batchSize: number;
  concurrency: number;
  leaseSeconds: number;
  /** Aborted on SIGTERM: stop claiming; runs in flight go on until `signal` (the executor's) aborts. */
  stopClaiming: AbortSignal;
  /** Evaluates the tenants' alert rules (wired in runtime.ts): whichever process ticks evaluates. */
  evaluateAlerts?: () => Promise<void>;
}

export interface TickSummary {
  found: number;
  claimed: number;
  succeeded: number;
  failed: number;
  waiting_approval: number;
  skipped: number;
  recovered: number;
  released: number;
  expired_approvals: number;
}

/** A summary with every count at zero. */
export function emptySummary(): TickSummary {
  return {
    found: 0,
    claimed: 0,
    succeeded: 0,
    failed: 0,
    waiting_approval: 0,
    skipped: 0,
    recovered: 0,
    released: 0,
    expired_approvals: 0,
  };
}

/** Runs fn over items with at most `limit` in flight. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Executes claimed runs (one workflow's runs in slot order) and writes their ends in one statement. */
async function executeBatch(deps: SchedulerDeps, batch: ClaimedRun[], summary: TickSummary): Promise<void> {
  const chains = new Map<string, ClaimedRun[]>();
  for (const c of batch) chains.set(c.workflow.id, [...(chains.get(c.workflow.id) ?? []), c]);
  const outcomes: { c: ClaimedRun; outcome: RunOutcome }[] = [];
  await mapLimit([...chains.values()], deps.concurrency, async (chain) => {
    for (const c of chain) {
      let outcome: RunOutcome;
      try {
        outcome = await executeRun(deps, c.workflow, c.run, c.slot);
      } catch (err) {
        // A database error mid-run: the lease runs out and the run is recovered by the next tick.
        deps.log.error({ run_id: c.run.id, workflow: c.workflow.name, err: errorMessage(err) }, 'run interrupted');
        outcome = { kind: 'lost' };
      }
      outcomes.push({ c, outcome });
    }
  });
  await settleOutcomes(deps, outcomes, summary);
}

/** Writes where executed runs ended (one statement), counting and logging each. */
export async function settleOutcomes(
  deps: ExecutorDeps,
  outcomes: { c: ClaimedRun; outcome: RunOutcome }[],
  summary: TickSummary,
): Promise<void> {
  const finishes: RunFinish[] = [];
  const releases: RunRelease[] = [];
  const events: NewEvent[] = [];
  // A batch holds at most one claim (claimBatch): its runs without a row are inserted by this settle.
  let claim: ClaimSettle | undefined;
  for (const { c, outcome } of outcomes) {
    if (outcome.kind === 'finished' || outcome.kind === 'released') events.push(...outcome.events);
    if (c.slot && !c.slot.written) {
      claim ??= { id: c.slot.claimId, ends: [], keep: false };
      if (c.slot.claimId !== claim.id) throw new Error('one settle takes the runs of one batch claim');
      const base = {
        id: c.run.id,
        tenant_id: c.run.tenant_id,
        workflow_id: c.run.workflow_id,
        scheduled_for: c.run.scheduled_for as number,
        started_at: c.run.started_at,
      };
      if (outcome.kind === 'finished') claim.ends.push({ ...outcome.finish, ...base });
      else if (outcome.kind === 'released')
        claim.ends.push({
          ...base,
          status: 'queued',
          step_index: 0,
          context: {},
          error: null,
          finished_at: null,
          timeline: outcome.timeline,
        });
      // Lost before it was written: its claim's lease ends and lease recovery records it.
      else claim.keep = true;
    } else if (outcome.kind === 'finished') {
      finishes.push(outcome.finish);
    } else if (outcome.kind === 'released') {
      releases.push({ id: c.run.id, timeline: outcome.timeline });
    }
  }
  const settled = await settleRuns(deps.db, deps.owner, { finishes, releases, events, claim });
  summary.released += settled.released;
  const written = settled.finished;
  for (const { c, outcome } of outcomes) {
    const base = { run_id: c.run.id, workflow: c.workflow.name, tenant_id: c.run.tenant_id, attempt: c.run.attempt };
    if (outcome.kind === 'finished') {
      if (!written.has(c.run.id)) {
        deps.log.warn(base, 'run finished but its lease had been taken over; result discarded');
        continue;
      }
      if (outcome.finish.status === 'succeeded') summary.succeeded++;
      else summary.failed++;
      const level = outcome.finish.status === 'succeeded' ? 'info' : 'warn';
      deps.log[level]({ ...base, status: outcome.finish.status, error: outcome.finish.error ?? undefined }, 'run finished');
    } else if (outcome.kind === 'parked') {
      summary.waiting_approval++;
      deps.log.info({ ...base, status: 'waiting_approval', approval_id: outcome.approvalId }, 'run waiting for approval');
    } else if (outcome.kind === 'lost') {
      deps.log.warn(base, 'run lost its lease; another scheduler owns it now');
    }
  }
}

/**
 * Recovers runs of dead schedulers (their running rows, and the runs of their batch claims
 * not settled yet): requeued while attempts remain (and the loops woken to
 * claim them), failed otherwise. The runs and their events commit together: a process killed
 * between the two would otherwise leave recovered runs without the event that says why.
 */
export async function recoverLeases(deps: Pick<SchedulerDeps, 'db' | 'log' | 'clock'>): Promise<number> {
  const recovered = await deps.db.transaction(async (tx) => {
    // Runs written as running, then the unsettled runs of batch claims (written here, once).
    const runs = [...(await recoverExpiredRuns(tx)), ...(await recoverExpiredClaims(tx))];
    if (runs.length === 0) return runs;
    await insertEvents(
      tx,
      runs.map((r) => ({
        tenant_id: r.tenant_id,
        run_id: r.id,
        workflow_id: r.workflow_id,
        type: r.status === 'queued' ? 'run_requeued' : 'run_finished',
        payload: { status: r.status, error: r.error, attempt: r.attempt },
        created_at: deps.clock(),
      })),
    );
    if (runs.some((r) => r.status === 'queued')) await notifyScheduler(tx, 'run');
    return runs;
  });
  for (const r of recovered) deps.log.warn({ run_id: r.id, status: r.status, attempt: r.attempt }, r.error ?? 'run recovered');
  return recovered.length;
}

/** Recovers runs of dead schedulers (unless the loop's own timer does) and sweeps approvals. */
async function maintain(deps: SchedulerDeps, summary: TickSummary, recovery: boolean): Promise<void> {
  if (recovery) summary.recovered = await recoverLeases(deps);
  summary.expired_approvals = (await sweepApprovals(deps.db)).expired;
}

interface TickOptions {
  /** Recover expired leases and sweep approvals first (default true). */
  maintenance?: boolean;
  /** With maintenance: recover expired leases too (default true; false when the loop's recovery timer does it). */
  recovery?: boolean;
  /**
   * Set (by the loop, on a NOTIFY for a queued run) while the tick works through due
   * workflows: the next batch looks at the queue too, so a manual run does not wait for a
   * long backlog of due slots to be worked off first.
   */
  queueNudge?: { pending: boolean };
  /** Claim due scheduled workflows (default true); false only drains queued runs (the NOTIFY fast path). */
  due?: boolean;
}

/** One claimed batch: due workflows' new runs and queued runs, with what the claim found. */
interface ClaimedBatch {
  runs: ClaimedRun[];
  /** Due workflows locked and queued runs taken: 0 when nothing was left to claim. */
  found: number;
  workflows: number;
  skipped: number;
  now: number | null;
}

/**
 * Claims one batch: due workflows (own transaction), then queued runs. Queued runs are looked
 * for in the first batch, while the last look filled a batch, after a run was queued (the
 * loop's nudge), and whenever no due workflow is left, so a tick drains the queue before it
 * ends without a query per batch when it is empty.
 */
async function claimBatch(
  deps: SchedulerDeps,
  opts: TickOptions,
  dueBefore: number | null,
  queue: { look: boolean },
): Promise<ClaimedBatch> {
  const { db } = deps;
  const claimQueued = () => claimQueuedRuns<WorkflowRow>(db, { owner: deps.owner, leaseSeconds: deps.leaseSeconds, limit: deps.batchSize });
  // When the queue is to be looked at anyway, it is, on another connection, while the due
  // workflows are claimed: a run that fell due starts one round trip sooner.
  const look = queue.look || opts.queueNudge?.pending === true;
  if (opts.queueNudge) opts.queueNudge.pending = false;
  const queuedAlongside = look ? claimQueued() : null;
  queuedAlongside?.catch(() => undefined);
  const due =
    opts.due === false
      ? { claimed: [], workflows: 0, skipped: 0, now: null }
      : await db
          .transaction((tx) =>
            claimDueWorkflows(tx, { owner: deps.owner, leaseSeconds: deps.leaseSeconds, limit: deps.batchSize, dueBefore }),
          )
          .catch(async (err: unknown) => {
            // The batch fails: queued runs taken alongside go back to the queue (or, if the
            // database refuses that too, come back when their lease runs out).
            const taken = (await queuedAlongside?.catch(() => [])) ?? [];
            await settleRuns(db, deps.owner, {
              finishes: [],
              releases: taken.map((c) => ({ id: c.run.id, timeline: [] })),
              events: [],
            }).catch(() => undefined);
            throw err;
          });
  const queued = queuedAlongside ? await queuedAlongside : due.workflows === 0 ? await claimQueued() : [];
  queue.look = queued.length >= deps.batchSize;
  return {
    runs: [...due.claimed, ...queued],
    found: due.workflows + queued.length,
    workflows: due.workflows,
    skipped: due.skipped,
    now: due.now,
  };
}

const NOTHING: ClaimedBatch = { runs: [], found: 0, workflows: 0, skipped: 0, now: null };

/**
 * One scheduler tick: recover runs of dead schedulers, sweep approvals, then claim and run
 * due workflows and queued runs batch by batch until none are left (or claiming stops).
 * Only slots due when the tick began are taken, so a tick always ends. The next batch is
 * claimed (on another connection) while the current one executes and settles, so the
 * database works on both at once; at most two batches are held at a time.
 */
export async function runTick(deps: SchedulerDeps, opts: TickOptions = {}): Promise<TickSummary> {
  const summary = emptySummary();
  const { db } = deps;
  if (opts.maintenance !== false) await maintain(deps, summary, opts.recovery !== false);
  // The batches in hand (claimed, not settled yet): the heartbeat extends their claims only.
  const inHand = new Set<ClaimedRun[]>();
  const heartbeat = setInterval(
    () => {
      const claimIds = [...new Set([...inHand].flat().flatMap((c) => (c.slot ? [c.slot.claimId] : [])))];
      heartbeatRuns(db, deps.owner, deps.leaseSeconds, claimIds).catch((err: unknown) =>
        deps.log.warn({ err: errorMessage(err) }, 'lease heartbeat failed'),
      );
    },
    Math.max(250, (deps.leaseSeconds * 1000) / 3),
  );
  const claim = (dueBefore: number | null, queue: { look: boolean }) =>
    claimBatch(deps, opts, dueBefore, queue).then((b) => {
      if (b.runs.length > 0) inHand.add(b.runs);
      return b;
    });
  const execute = (runs: ClaimedRun[]) => executeBatch(deps, runs, summary).finally(() => inHand.delete(runs));
  let next: Promise<ClaimedBatch> | null = null;
  try {
    if (deps.stopClaiming.aborted) return summary;
    const queue = { look: true };
    let batch = await claim(null, queue);
    let dueBefore: number | null = null;
    for (;;) {
      dueBefore ??= batch.now;
      summary.found += batch.workflows;
      summary.skipped += batch.skipped;
      if (batch.found === 0) break;
      summary.claimed += batch.runs.length;
      next = deps.stopClaiming.aborted ? Promise.resolve(NOTHING) : claim(dueBefore, queue);
      // Claimed runs are executed (or released, on shutdown) even when the next claim failed.
      next.catch(() => undefined);
      if (batch.runs.length > 0) await execute(batch.runs);
      batch = await next;
      next = null;
    }
  } finally {
    // A claim still in flight (the executing batch failed): its runs are executed before leaving.
    const pending = await next?.catch(() => NOTHING);
    if (pending && pending.runs.length > 0) {
      summary.claimed += pending.runs.length;
      await execute(pending.runs).catch((err: unknown) => deps.log.error({ err: errorMessage(err) }, 'settling a claimed batch failed'));
    }
    clearInterval(heartbeat);
  }
  return summary;
}
