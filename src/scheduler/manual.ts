import type { Queryable } from '../db/types.js';
import { claimQueuedRuns, insertQueuedRun } from '../runs/lifecycle-queries.js';
import type { RunTrigger } from '../runs/types.js';
import { executeRun, type ExecutorDeps, type RunOutcome } from '../workflows/executor.js';
import type { WorkflowRow } from '../workflows/queries.js';
import { emptySummary, settleOutcomes, type TickSummary } from './tick.js';

export interface RunNowDeps extends ExecutorDeps {
  leaseSeconds: number;
}

interface RunNowResult {
  runId: string;
  /** Undefined when the run was only queued, or another process claimed it first. */
  outcome?: RunOutcome;
  summary: TickSummary;
}

/**
 * Claims one queued run (resumed after approval, or enqueued) and executes it here.
 * The claim is a compare-and-set, so of two callers at the same moment only one runs it.
 */
export async function runQueuedNow(deps: RunNowDeps, runId: string): Promise<RunNowResult> {
  const summary = emptySummary();
  const [claimed] = await claimQueuedRuns<WorkflowRow>(deps.db, {
    owner: deps.owner,
    leaseSeconds: deps.leaseSeconds,
    limit: 1,
    onlyId: runId,
  });
  if (!claimed) return { runId, summary };
  const { workflow, run } = claimed;
  const outcome = await executeRun(deps, workflow, run);
  summary.claimed = 1;
  await settleOutcomes(deps, [{ c: { workflow, run }, outcome }], summary);
  return { runId, outcome, summary };
}

/**
 * Queues a run of a workflow inside the caller's transaction (the run row, its
 * run_started on its timeline), so that it commits together with whatever made it: once committed,
 * a scheduler runs it even if this process dies before it does. NOTIFY wakes the loops.
 */
export async function queueRun(
  tx: Queryable,
  workflow: WorkflowRow,
  opts: { trigger: RunTrigger; actor: string; notify: boolean },
): Promise<string> {
  return insertQueuedRun(tx, {
    tenant_id: workflow.tenant_id,
    workflow_id: workflow.id,
    trigger: opts.trigger,
    actor: opts.actor,
    notify: opts.notify,
  });
}

/** Starts a run of a workflow now, outside its schedule: executed here, or queued for a scheduler. */
export async function startRun(
  deps: RunNowDeps,
  workflow: WorkflowRow,
  opts: { enqueue: boolean; trigger: RunTrigger; actor: string },
): Promise<RunNowResult> {
  const id = await deps.db.transaction((tx) => queueRun(tx, workflow, { trigger: opts.trigger, actor: opts.actor, notify: opts.enqueue }));
  if (opts.enqueue) return { runId: id, summary: emptySummary() };
  return runQueuedNow(deps, id);
}
