import type { Db } from '../db/types.js';
import { AppError } from '../lib/errors.js';
import { maxClass, stepTypeClass, type ImpactClass } from '../lib/impact.js';
import { insertAudit } from '../audit/queries.js';
import { decidePending, getApproval, getPolicy, insertApproval, lockApproval, nextRequestOf } from './queries.js';
import { queueLinkedRun, type LinkedRun } from './rerequest-step.js';
import { DEFAULT_POLICY, type ApprovalRow } from './types.js';

interface ActionInput {
  tenantId: string;
  /** "<source>:<identity>" of the requester; the requester may not approve its own action. */
  actor: string;
  channel: string;
  action_type: string;
  summary: string;
  payload: Record<string, unknown>;
  impact_class?: ImpactClass;
}

/**
 * The class of a submitted action: a known step type's class, raised (never lowered) by the
 * request. Unknown types (a deploy) are Class C whatever the caller says: a caller cannot
 * talk its way past a human.
 */
export function actionClass(actionType: string, requested?: ImpactClass): ImpactClass {
  return maxClass(stepTypeClass(actionType) ?? 'C', requested);
}

/**
 * Submits an action of any class (the generic entry for anything that needs a human, a
 * deploy for instance): Class A is approved at once, Class B is approved at once and
 * written to audit_log, Class C waits for the tenant's approvers.
 */
export async function submitAction(db: Db, input: ActionInput, previous?: ApprovalRow): Promise<ApprovalRow> {
  const cls = actionClass(input.action_type, input.impact_class);
  return db.transaction(async (tx) => {
    const policy = (await getPolicy(tx, input.tenantId)) ?? DEFAULT_POLICY;
    const request = await insertApproval(tx, {
      tenant_id: input.tenantId,
      run_id: null,
      workflow_id: null,
      step_index: null,
      action_type: input.action_type,
      impact_class: cls,
      summary: input.summary,
      payload: input.payload,
      requested_by: input.actor,
      ttl_seconds: policy.ttl_seconds,
      required_approvals: cls === 'C' ? policy.required_approvals : 1,
      source: input.channel,
      previous_id: previous?.id ?? null,
    });
    if (cls === 'C') return request;
    const approved = await decidePending(tx, request.id, 'approved', `levqor:class-${cls}`, `Class ${cls}: approved without a human`);
    if (cls === 'B') {
      await insertAudit(tx, {
        tenant_id: input.tenantId,
        actor: input.actor,
        action: `action.${input.action_type}`,
        subject: `approval:${request.id}`,
        detail: { channel: input.channel, summary: input.summary, impact_class: cls },
      });
    }
    return approved as ApprovalRow;
  });
}

/** What a re-request made: a new request, or (for a workflow step) a linked run that asks again. */
export type Rerequest = { kind: 'approval'; approval: ApprovalRow } | { kind: 'run'; run: LinkedRun };

/**
 * Asks again for a rejected or expired action. A submitted action gets a new request linked
 * to the old one; a workflow step gets a linked new run that asks again at that step (see
 * queueLinkedRun), its request linked the same way.
 */
export async function rerequestAction(db: Db, id: string, tenantId: string, actor: string, channel: string): Promise<Rerequest> {
  const old = await getApproval(db, id, tenantId);
  if (!old) throw new AppError('not_found', `approval ${id} not found`);
  const endedOnly = (status: string) =>
    new AppError('conflict', `approval ${id} is ${status}; only a rejected or expired request can be asked again`);
  if (old.status !== 'rejected' && old.status !== 'expired') throw endedOnly(old.status);
  const { run_id: runId, step_index: stepIndex } = old;
  if (runId !== null && stepIndex !== null) {
    const run = await db.transaction(async (tx) => {
      const locked = await lockApproval(tx, old.id, tenantId);
      if (!locked) throw new AppError('not_found', `approval ${id} not found`);
      return queueLinkedRun(tx, { ...locked, run_id: runId, step_index: stepIndex }, actor, channel);
    });
    return { kind: 'run', run };
  }
  const later = await nextRequestOf(db, old.id);
  if (later) throw new AppError('conflict', `approval ${id} was already asked again as ${later}`);
  try {
    const approval = await submitAction(
      db,
      {
        tenantId,
        actor,
        channel,
        action_type: old.action_type,
        summary: old.summary,
        payload: old.payload,
        impact_class: old.impact_class,
      },
      old,
    );
    return { kind: 'approval', approval };
  } catch (err) {
    // Two re-requests at once: the unique index on previous_id lets one through.
    if ((err as { code?: string }).code === '23505') throw new AppError('conflict', `approval ${id} was already asked again`);
    throw err;
  }
}
