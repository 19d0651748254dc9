import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/types.js';
import { claimQueuedRuns, insertRuns } from '../runs/queries.js';
import type { RunTrigger } from '../runs/types.js';
import { executeRun, type ExecutorDeps, type RunOutcome } from '../workflows/executor.js';
import { dbNow, getWorkflowsByIds, SCHEDULER_CHANNEL, type WorkflowRow } from '../workflows/queries.js';
import { emptySummary, settleOutcomes, type TickSummary } from './tick.js';

export interface RunNowDeps extends ExecutorDeps {
  leaseSeconds: number;
}

export interface RunNowResult {
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
  const [run] = await claimQueuedRuns(deps.db, deps.owner, deps.leaseSeconds, 1, runId);
  if (!run) return { runId, summary };
  const workflow = (await getWorkflowsByIds(deps.db, [run.workflow_id])).get(run.workflow_id) as WorkflowRow;
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
  const id = randomUUID();
  const now = await dbNow(tx);
  await insertRuns(tx, [
    {
      id,
      tenant_id: workflow.tenant_id,
      workflow_id: workflow.id,
      status: 'queued',
      trigger: opts.trigger,
      scheduled_for: null,
      started_at: now,
      lease_owner: null,
      lease_expires_at: null,
      started_by: opts.actor,
      timeline: [{ type: 'run_started', step_index: null, payload: { trigger: opts.trigger, by: opts.actor }, created_at: now }],
    },
  ]);
  if (opts.notify) await tx.query('SELECT pg_notify($1, $2)', [SCHEDULER_CHANNEL, 'run']);
  return id;
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
