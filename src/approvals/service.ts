import type { Db, Queryable } from '../db/types.js';
import { AppError } from '../lib/errors.js';
import { insertEvents, settleWaitingRun } from '../runs/queries.js';
import { SCHEDULER_CHANNEL } from '../workflows/queries.js';
import { decidePending, expireDue, getApproval, insertAudit } from './queries.js';
import type { ApprovalRow, Decision } from './types.js';

export interface DecisionInput {
  id: string;
  /** When set, a request of another tenant is "not found". */
  tenantId?: string;
  decision: Decision;
  /** Who decided, as "<source>:<identity>", e.g. "token:ops-bot", "cli:alice", "slack:U123". */
  actor: string;
  /** The channel the decision came through: api, cli, slack, github. */
  channel: string;
  reason?: string;
}

/** Checks a rejection reason: required, 1–500 characters. */
export function validateReason(decision: Decision, reason: string | undefined): string | null {
  if (decision === 'approve') return reason?.trim() ? reason.trim().slice(0, 500) : null;
  const text = reason?.trim() ?? '';
  if (text.length === 0) throw new AppError('bad_input', 'reason: a rejection needs a reason (1–500 characters)', ['reason: required']);
  if (text.length > 500) throw new AppError('bad_input', `reason: at most 500 characters (got ${text.length})`, ['reason: too long']);
  return text;
}

async function moveRun(tx: Queryable, approval: ApprovalRow): Promise<void> {
  if (!approval.run_id) return;
  const outcome = approval.status === 'approved' ? 'queued' : approval.status === 'rejected' ? 'rejected' : 'expired';
  const error =
    approval.status === 'approved'
      ? null
      : approval.status === 'rejected'
        ? `rejected by ${approval.processed_by ?? 'unknown'}: ${approval.reason ?? ''}`
        : `approval ${approval.id} expired without a decision`;
  const run = await settleWaitingRun(tx, approval.run_id, outcome, error);
  if (!run) return;
  await insertEvents(tx, [
    {
      tenant_id: run.tenant_id,
      run_id: run.id,
      workflow_id: run.workflow_id,
      type: approval.status === 'approved' ? 'run_resumable' : 'run_finished',
      step_index: approval.step_index,
      payload: { status: outcome, approval_id: approval.id, by: approval.processed_by, ...(error ? { error } : {}) },
      created_at: approval.processed_at ?? 0,
    },
  ]);
  if (outcome === 'queued') await tx.query('SELECT pg_notify($1, $2)', [SCHEDULER_CHANNEL, 'run']);
}

/**
 * Decides a pending request: one conditional UPDATE, so a second decider gets a conflict
 * naming the current state. The decision, its audit entry and the run's next state
 * commit together; an approved run is queued for a scheduler to execute exactly once.
 */
export async function decideApproval(db: Db, input: DecisionInput): Promise<ApprovalRow> {
  const reason = validateReason(input.decision, input.reason);
  return db.transaction(async (tx) => {
    const status = input.decision === 'approve' ? 'approved' : 'rejected';
    const current = await getApproval(tx, input.id, input.tenantId);
    if (!current) throw new AppError('not_found', `approval ${input.id} not found`);
    const decided = await decidePending(tx, current.id, status, input.actor, reason);
    if (!decided) {
      const now = (await getApproval(tx, input.id, input.tenantId)) ?? current;
      throw new AppError(
        'conflict',
        `approval ${input.id} is already ${now.status}${now.processed_by ? ` (by ${now.processed_by})` : ''}`,
      );
    }
    await insertAudit(tx, {
      tenant_id: decided.tenant_id,
      actor: input.actor,
      action: `approval.${status}`,
      subject: `approval:${decided.id}`,
      detail: { channel: input.channel, reason, action_type: decided.action_type, summary: decided.summary },
    });
    await moveRun(tx, decided);
    return decided;
  });
}

/** Expires pending requests past their time and ends the runs waiting on them. */
export async function expireApprovals(db: Db): Promise<ApprovalRow[]> {
  return db.transaction(async (tx) => {
    const expired = await expireDue(tx);
    for (const a of expired) {
      await insertAudit(tx, { tenant_id: a.tenant_id, actor: 'levqor:expiry', action: 'approval.expired', subject: `approval:${a.id}`, detail: { reason: a.reason } });
      await moveRun(tx, a);
    }
    return expired;
  });
}
