import { insertAudit } from '../audit/queries.js';
import type { Db, Queryable } from '../db/types.js';
import { AppError, type ErrorCode } from '../lib/errors.js';
import { unsafeInputProblem } from '../lib/safe-input.js';
import { insertEvents, notifyScheduler, settleWaitingRun } from '../runs/lifecycle-queries.js';
import { checkDecider } from './deciders.js';
import {
  addApprovalVote,
  decidePending,
  expireDue,
  getApproval,
  getPolicy,
  insertVote,
  personVote,
  lockApproval,
  publishApprovalEvent,
  remindDue,
  escalateDue,
} from './queries.js';
import { DEFAULT_POLICY, type ApprovalRow, type Decision } from './types.js';

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

/** The longest reason, in code points. */
export const REASON_MAX = 500;

/** Checks a decision's reason: at most 500 code points (an emoji is one, as a reader counts it), required to reject. */
export function validateReason(decision: Decision, reason: string | undefined): string | null {
  const unsafe = reason === undefined ? undefined : unsafeInputProblem(reason, 'reason');
  if (unsafe) throw new AppError('bad_input', unsafe, [unsafe]);
  const points = [...(reason?.trim() ?? '')];
  if (points.length > REASON_MAX)
    throw new AppError('bad_input', `reason: at most ${REASON_MAX} characters (got ${points.length})`, ['reason: too long']);
  if (decision === 'approve') return points.length ? points.join('') : null;
  if (points.length === 0)
    throw new AppError('bad_input', `reason: a rejection needs a reason (1–${REASON_MAX} characters)`, ['reason: required']);
  return points.join('');
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
  if (outcome === 'queued') await notifyScheduler(tx, 'run');
}

interface DecisionResult {
  approval: ApprovalRow;
  /** "vote_recorded" while a quorum still waits for more approvers. */
  outcome: 'approved' | 'rejected' | 'vote_recorded';
}

function conflict(a: ApprovalRow): AppError {
  return new AppError('conflict', `approval ${a.id} is already ${a.status}${a.processed_by ? ` (by ${a.processed_by})` : ''}`);
}

/**
 * Decides, or votes on, a pending request — the one ledger behind the API, the CLI and
 * Slack. The row is locked for the vote; the final decision is one conditional UPDATE, so a
 * second decider gets a conflict naming the current state. The decision, its vote, its
 * audit entry, its event and the run's next state commit together; an approved run is
 * queued for a scheduler to execute exactly once.
 */
export async function decideApproval(db: Db, input: DecisionInput): Promise<DecisionResult> {
  const reason = validateReason(input.decision, input.reason);
  const result = await db.transaction(async (tx): Promise<DecisionResult | AppError> => {
    const current = await lockApproval(tx, input.id, input.tenantId);
    if (!current) throw new AppError('not_found', `approval ${input.id} not found`);
    if (current.status !== 'pending') throw conflict(current);
    if ((current as ApprovalRow & { db_now: number }).db_now >= current.expires_at) {
      // Commit the expiry, then report it.
      const expired = await expireOne(tx, current.id);
      return conflict(expired ?? current);
    }
    const policy = (await getPolicy(tx, current.tenant_id)) ?? DEFAULT_POLICY;
    const { person, problem } = await checkDecider(tx, policy, current, input.actor);
    if (problem) throw new AppError('forbidden', problem);
    const handle = person?.handle ?? null;
    const who = handle ? { person: handle } : {};
    // The unique indexes are the guard: one vote per identity, and one per person whatever the channel.
    const voted = await insertVote(tx, {
      tenant_id: current.tenant_id,
      approval_id: current.id,
      actor: input.actor,
      person: handle,
      channel: input.channel,
      vote: input.decision,
      reason,
    });
    if (!voted) {
      const first = handle ? await personVote(tx, current.id, handle) : undefined;
      throw new AppError(
        'conflict',
        first && first.actor !== input.actor
          ? `${handle} already ${first.vote === 'approve' ? 'approved' : 'rejected'} via ${first.channel} (as ${first.actor}) on approval ${current.id}; one person counts once (${current.approvals_count} of ${current.required_approvals} approvals so far)`
          : `${input.actor} already voted on approval ${current.id} (${current.approvals_count} of ${current.required_approvals} approvals so far)`,
      );
    }
    let decided: ApprovalRow | undefined;
    let outcome: DecisionResult['outcome'];
    if (input.decision === 'reject') {
      decided = await decidePending(tx, current.id, 'rejected', input.actor, reason, who);
      outcome = 'rejected';
    } else if (current.approvals_count + 1 >= current.required_approvals) {
      await addApprovalVote(tx, current.id);
      decided = await decidePending(tx, current.id, 'approved', input.actor, reason, who);
      outcome = 'approved';
    } else {
      decided = await addApprovalVote(tx, current.id);
      outcome = 'vote_recorded';
      if (decided)
        await publishApprovalEvent(tx, decided, 'vote', {
          by: input.actor,
          ...who,
          approvals: decided.approvals_count,
          required: decided.required_approvals,
        });
    }
    if (!decided) throw conflict((await getApproval(tx, current.id)) ?? current);
    await insertAudit(tx, {
      tenant_id: decided.tenant_id,
      actor: input.actor,
      action: outcome === 'vote_recorded' ? 'approval.vote' : `approval.${decided.status}`,
      subject: `approval:${decided.id}`,
      detail: {
        channel: input.channel,
        ...who,
        identity: input.actor,
        reason,
        action_type: decided.action_type,
        summary: decided.summary,
        approvals: decided.approvals_count,
        required: decided.required_approvals,
      },
    });
    if (outcome !== 'vote_recorded') await moveRun(tx, decided);
    return { approval: decided, outcome };
  });
  if (result instanceof AppError) throw result;
  return result;
}

/** The most requests one bulk decision takes. */
export const BULK_MAX = 100;

/** One request's part of a bulk decision: its outcome, or the error it alone got. */
export type BulkResult =
  { id: string; outcome: DecisionResult['outcome']; approval: ApprovalRow } | { id: string; error: ErrorCode; message: string };

/**
 * Decides several requests with one decision and one reason (the console's "approve
 * selected", POST /api/approvals/decide, `levqor approvals approve ID ID…`). Each is its own
 * decideApproval: its own transaction, vote, audit entry and policy check, so one request
 * that is already decided, foreign or not the actor's to decide fails alone and the others
 * go through. The reason is checked once, before anything is decided.
 */
export async function decideMany(db: Db, input: Omit<DecisionInput, 'id'> & { ids: readonly string[] }): Promise<BulkResult[]> {
  validateReason(input.decision, input.reason);
  const ids = [...new Set(input.ids.map((id) => id.trim()).filter(Boolean))];
  if (ids.length === 0) throw new AppError('bad_input', 'ids: give at least one approval id', ['ids: empty']);
  if (ids.length > BULK_MAX) throw new AppError('bad_input', `ids: at most ${BULK_MAX} at once (got ${ids.length})`, ['ids: too many']);
  const results: BulkResult[] = [];
  for (const id of ids) {
    try {
      const { approval, outcome } = await decideApproval(db, { ...input, id });
      results.push({ id, outcome, approval });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      results.push({ id, error: err.code, message: err.message });
    }
  }
  return results;
}

async function expireOne(tx: Queryable, id: string): Promise<ApprovalRow | undefined> {
  const expired = await decidePending(tx, id, 'expired', 'levqor:expiry', 'no decision before it expired');
  if (expired) {
    await insertAudit(tx, {
      tenant_id: expired.tenant_id,
      actor: 'levqor:expiry',
      action: 'approval.expired',
      subject: `approval:${expired.id}`,
      detail: {},
    });
    await moveRun(tx, expired);
  }
  return expired;
}

/** Sends the reminders that are due (at 80 % of a request's time, or its route's schedule) as reminder events. */
export async function remindApprovals(db: Db, now?: number): Promise<ApprovalRow[]> {
  return db.transaction((tx) => remindDue(tx, 500, now));
}

/** Opens the route stages whose waits have passed, as escalated events. */
export async function escalateApprovals(db: Db, now?: number): Promise<ApprovalRow[]> {
  return db.transaction((tx) => escalateDue(tx, 500, now));
}

/**
 * The approval sweep every process that ticks runs (serve, the scheduler loop and --once):
 * expiry, then escalation, then reminders, each once across replicas.
 */
export async function sweepApprovals(db: Db): Promise<{ expired: number; escalated: number; reminded: number }> {
  const expired = (await expireApprovals(db)).length;
  const escalated = (await escalateApprovals(db)).length;
  const reminded = (await remindApprovals(db)).length;
  return { expired, escalated, reminded };
}

/** Expires pending requests past their time and ends the runs waiting on them. */
export async function expireApprovals(db: Db): Promise<ApprovalRow[]> {
  return db.transaction(async (tx) => {
    const expired = await expireDue(tx);
    for (const a of expired) {
      await insertAudit(tx, {
        tenant_id: a.tenant_id,
        actor: 'levqor:expiry',
        action: 'approval.expired',
        subject: `approval:${a.id}`,
        detail: { reason: a.reason },
      });
      await moveRun(tx, a);
    }
    return expired;
  });
}
