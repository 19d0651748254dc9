import type { CriticalGate, CriticalVerdict } from '../workflows/ports.js';
import { claimExecution, finishExecution, getPolicy, insertApproval, latestApprovalForStep, payloadHash } from './queries.js';

/**
 * The ledger as the engine's critical-action gate: an approval counts only for the exact
 * payload it was given for, and only once (claimExecution is a conditional UPDATE, so of two
 * executors at the same moment one runs the step). Requests take the tenant's policy (its
 * lifetime and quorum), else `defaultTtlSeconds` and one approver.
 */
export function createCriticalGate(opts: { defaultTtlSeconds: number }): CriticalGate {
  return {
    async check(db, step): Promise<CriticalVerdict> {
      const approval = await latestApprovalForStep(db, step.runId, step.stepIndex);
      if (!approval) return { kind: 'ask' };
      const refuse = (status: 'failed' | 'rejected' | 'expired', error: string): CriticalVerdict => ({
        kind: 'refuse',
        approvalId: approval.id,
        status,
        error,
      });
      switch (approval.status) {
        case 'pending':
          return { kind: 'wait', approvalId: approval.id };
        case 'rejected':
          return refuse('rejected', `rejected by ${approval.processed_by ?? 'unknown'}: ${approval.reason ?? 'no reason given'}`);
        case 'expired':
          return refuse('expired', `approval ${approval.id} expired without a decision`);
        case 'approved':
          break;
      }
      if (approval.payload_hash !== payloadHash(step.payload)) {
        return refuse('failed', `the step changed after approval ${approval.id} was given (payload hash differs); not executed`);
      }
      if (approval.execution_started_at !== null) {
        return refuse(
          'failed',
          `approval ${approval.id} was already used by an execution that did not report back; not repeated (outcome unknown)`,
        );
      }
      if (!(await claimExecution(db, approval.id))) return refuse('failed', `approval ${approval.id} was already used; not repeated`);
      return { kind: 'execute', approvalId: approval.id, approvedBy: approval.processed_by };
    },
    async request(tx, req) {
      const policy = await getPolicy(tx, req.tenant_id);
      return insertApproval(tx, {
        ...req,
        ttl_seconds: policy?.ttl_seconds ?? opts.defaultTtlSeconds,
        required_approvals: policy?.required_approvals ?? 1,
      });
    },
    finish: finishExecution,
  };
}
