import { insertAudit } from '../audit/queries.js';
import type { Queryable } from '../db/types.js';
import { AppError } from '../lib/errors.js';
import { insertQueuedRun } from '../runs/lifecycle-queries.js';
import { getRun, runAskingAgain } from '../runs/queries.js';
import type { RunTrigger } from '../runs/types.js';
import { getWorkflowsByIds } from '../workflows/queries.js';
import { nextRequestOf } from './queries.js';
import type { ApprovalRow } from './types.js';

/** The run a re-request of a workflow step started: it asks again when a scheduler picks it up. */
export interface LinkedRun {
  run_id: string;
  workflow: string;
  step_index: number;
  previous_id: string;
  previous_run_id: string;
}

const ENDED = new Set(['succeeded', 'failed', 'rejected', 'expired', 'cancelled']);

/**
 * Asks again for a workflow step's rejected or expired request (`old`, locked by the caller's
 * transaction): a new run of the workflow, queued at that step with the ended run's context
 * (the steps before it are not repeated), whose request links back to `old` (previous_id).
 * The link is in the new run's run_started entry and in audit_log. Refused when the workflow
 * changed so that the step is another, or when the ended run is gone.
 */
export async function queueLinkedRun(
  tx: Queryable,
  old: ApprovalRow & { run_id: string; step_index: number },
  actor: string,
  channel: string,
): Promise<LinkedRun> {
  const asking = await runAskingAgain(tx, old.tenant_id, old.id);
  if (asking)
    throw new AppError('conflict', `approval ${old.id} was already asked again: run ${asking} asks as soon as a scheduler starts it`);
  const later = await nextRequestOf(tx, old.id);
  if (later) throw new AppError('conflict', `approval ${old.id} was already asked again as ${later}`);
  const run = await getRun(tx, old.run_id, old.tenant_id);
  const wfId = old.workflow_id ?? run?.workflow_id;
  const wf = wfId ? (await getWorkflowsByIds(tx, [wfId])).get(wfId) : undefined;
  const fresh = `; start a new run of the workflow instead (levqor run WORKFLOW, POST /api/workflows/:name/run)`;
  if (!run || !wf)
    throw new AppError('conflict', `approval ${old.id}: its run or workflow no longer exists (cleaned up or deleted)${fresh}`);
  if (!ENDED.has(run.status)) throw new AppError('conflict', `approval ${old.id}: its run ${run.id} is still ${run.status}`);
  const step = wf.steps[old.step_index];
  if (step?.type !== old.action_type) {
    throw new AppError(
      'conflict',
      `approval ${old.id}: workflow "${wf.name}" changed since, step ${old.step_index + 1} is ${step ? `now a ${step.type} step` : 'gone'}${fresh}`,
    );
  }
  const link = { approval_id: old.id, run_id: run.id, step_index: old.step_index };
  const trigger: RunTrigger = channel === 'cli' ? 'manual' : 'api';
  const runId = await insertQueuedRun(tx, {
    tenant_id: old.tenant_id,
    workflow_id: wf.id,
    trigger,
    actor,
    notify: true,
    from: { step_index: old.step_index, context: { steps: run.context.steps ?? {}, vars: run.context.vars ?? {}, rerequest_of: link } },
    note: { rerequest_of: old.id, previous_run_id: run.id, from_step_index: old.step_index },
  });
  await insertAudit(tx, {
    tenant_id: old.tenant_id,
    actor,
    action: 'approval.rerequested',
    subject: `approval:${old.id}`,
    detail: { channel, run_id: runId, previous_run_id: run.id, workflow: wf.name, step_index: old.step_index, status: old.status },
  });
  return { run_id: runId, workflow: wf.name, step_index: old.step_index, previous_id: old.id, previous_run_id: run.id };
}
