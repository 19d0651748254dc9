import type { Db } from '../../../src/db/types.js';
import { startRun } from '../../../src/scheduler/manual.js';
import { testSchedulerDeps } from '../../helpers/deps.js';
import { makeWorkflow } from '../../helpers/fixtures.js';
import type { WorkflowInput } from '../../../src/workflows/schema.js';

/** Loopback targets are refused by the SSRF guard unless allowed. */
export const ALLOW = { LEVQOR_HTTP_ALLOW: '127.0.0.1' };

/** A run parked on its Class C http step, waiting for its approval. */
export interface ParkedRun {
  label: string;
  runId: string;
  approvalId: string;
  workflowId: string;
}

/**
 * Creates `count` workflows `<prefix>-<i>` whose first step POSTs to `${target}/<prefix>-<i>`
 * (Class C), followed by `after`, and runs each here until it parks on that step.
 */
export async function parkHttpRuns(
  db: Db,
  tenantId: string,
  opts: { prefix: string; count: number; target: string; after?: WorkflowInput['steps']; maxRunAttempts?: number },
): Promise<ParkedRun[]> {
  const deps = testSchedulerDeps(db, ALLOW);
  const parked: ParkedRun[] = [];
  for (let i = 1; i <= opts.count; i++) {
    const label = `${opts.prefix}-${i}`;
    const wf = await makeWorkflow(db, tenantId, {
      name: label,
      max_run_attempts: opts.maxRunAttempts ?? 1,
      steps: [{ type: 'http', name: 'call', method: 'POST', url: `${opts.target}/${label}`, body: { label } }, ...(opts.after ?? [])],
    });
    const started = await startRun(deps, wf, { enqueue: false, trigger: 'manual', actor: 'cli:faults' });
    if (started.outcome?.kind !== 'parked')
      throw new Error(`expected ${label} to park on its http step, got ${JSON.stringify(started.outcome)}`);
    parked.push({ label, runId: started.runId, approvalId: started.outcome.approvalId, workflowId: wf.id });
  }
  return parked;
}
