import { decisionRefusal } from '../src/approvals/deciders.js';
import { getApproval } from '../src/approvals/queries.js';
import { decideApproval, validateReason } from '../src/approvals/service.js';
import type { ApprovalRow } from '../src/approvals/types.js';
import { AppError, errorMessage } from '../src/lib/errors.js';
import { runQueuedNow } from '../src/scheduler/manual.js';
import { REASON_BLOCK, REASON_INPUT, rejectModal } from '../src/slack/blocks.js';
import { autolinkSlackUser } from '../src/people/slack-link.js';
import { syncApproval } from '../src/slack/sync.js';
import { actingTenant, explain, tellUser, type BotDeps } from './deps.js';
import { actingOf, type BlockAction, type ViewSubmission } from './payloads.js';

/** Updates the request's message now (the feed would too; whichever comes first does it, once). */
async function refreshMessage(deps: BotDeps, approvalId: string): Promise<void> {
  try {
    await syncApproval(deps, approvalId);
  } catch (err) {
    deps.log.warn({ approval: approvalId, err: errorMessage(err) }, 'updating the Slack message failed; the sweep retries it');
  }
}

/**
 * Links the acting Slack user to the person with their verified email, when the tenant turned
 * that on; best effort: a failed look-up leaves them unlinked (the decision then says how to link).
 */
async function autolink(deps: BotDeps, tenantId: string, p: { user: { id: string; team_id?: string | undefined } }, team: string) {
  try {
    const handle = await autolinkSlackUser(deps.db, deps.slack, { tenantId, userId: p.user.id, teamId: p.user.team_id ?? team });
    if (handle) deps.log.info({ user: p.user.id, person: handle }, 'linked a Slack user to a person by verified email');
  } catch (err) {
    deps.log.warn({ user: p.user.id, err: errorMessage(err) }, 'linking a Slack user by email failed; they stay unlinked');
  }
}

/** Runs the approved step here (the claim makes sure that happens once, whoever else tries). */
function runApproved(deps: BotDeps, approval: ApprovalRow): void {
  if (!deps.executeRuns || !approval.run_id) return;
  const runId = approval.run_id;
  const running: Promise<unknown> = runQueuedNow(deps.runDeps, runId)
    .catch((err: unknown) => deps.log.error({ run: runId, err: errorMessage(err) }, 'running the approved step failed'))
    .finally(() => deps.inFlight?.delete(running));
  deps.inFlight?.add(running);
}

/** Approve clicked: decide as the signed-in clicker, update the message, run the step; explain any refusal privately. */
export async function onApproveClick(deps: BotDeps, p: BlockAction): Promise<void> {
  const channel = p.channel?.id ?? p.container?.channel_id;
  const id = p.actions[0]?.value ?? '';
  const acting = await actingTenant(deps.db, actingOf(p));
  if ('refusal' in acting) return tellUser(deps, channel, p.user.id, acting.refusal);
  const { settings } = acting;
  await autolink(deps, settings.tenant_id, p, settings.team_id);
  try {
    const { approval, outcome } = await decideApproval(deps.db, {
      id,
      tenantId: settings.tenant_id,
      decision: 'approve',
      actor: `slack:${p.user.id}`,
      channel: 'slack',
    });
    await refreshMessage(deps, approval.id);
    if (outcome === 'vote_recorded') {
      await tellUser(
        deps,
        channel,
        p.user.id,
        `Your approval is recorded (${approval.approvals_count} of ${approval.required_approvals}); it waits for more approvers.`,
      );
    } else {
      runApproved(deps, approval);
    }
  } catch (err) {
    if (!(err instanceof AppError)) deps.log.error({ approval: id, err: errorMessage(err) }, 'approve from Slack failed');
    await tellUser(deps, channel, p.user.id, explain(err));
  }
}

/** Reject clicked: open the reason dialog, unless the clicker may not decide or it is already decided. */
export async function onRejectClick(deps: BotDeps, p: BlockAction): Promise<void> {
  const channel = p.channel?.id ?? p.container?.channel_id;
  const id = p.actions[0]?.value ?? '';
  const acting = await actingTenant(deps.db, actingOf(p));
  if ('refusal' in acting) return tellUser(deps, channel, p.user.id, acting.refusal);
  const { settings } = acting;
  await autolink(deps, settings.tenant_id, p, settings.team_id);
  const approval = await getApproval(deps.db, id, settings.tenant_id);
  if (!approval) return tellUser(deps, channel, p.user.id, explain(new AppError('not_found', `approval ${id} not found`)));
  if (approval.status !== 'pending') {
    return tellUser(
      deps,
      channel,
      p.user.id,
      explain(
        new AppError(
          'conflict',
          `approval ${id} is already ${approval.status}${approval.processed_by ? ` (by ${approval.processed_by})` : ''}`,
        ),
      ),
    );
  }
  const problem = await decisionRefusal(deps.db, approval, `slack:${p.user.id}`);
  if (problem) return tellUser(deps, channel, p.user.id, explain(new AppError('forbidden', problem)));
  await deps.slack.views.open({ trigger_id: p.trigger_id, view: rejectModal(approval) as never });
}

type ModalAnswer = { response_action: 'errors'; errors: Record<string, string> } | undefined;

/**
 * The reason dialog was submitted: validate and reject as the submitter. Returns the errors
 * to show inside the dialog, or undefined to close it.
 */
export async function onRejectSubmit(deps: BotDeps, p: ViewSubmission): Promise<{ answer: ModalAnswer; decided?: ApprovalRow }> {
  const errors = (text: string) => ({ answer: { response_action: 'errors' as const, errors: { [REASON_BLOCK]: text.slice(0, 250) } } });
  const reason = p.view.state.values[REASON_BLOCK]?.[REASON_INPUT]?.value ?? '';
  try {
    validateReason('reject', reason);
  } catch (err) {
    return errors(err instanceof AppError ? err.message.replace(/^reason: /, '') : errorMessage(err));
  }
  const acting = await actingTenant(deps.db, actingOf(p));
  if ('refusal' in acting) return errors(acting.refusal);
  const { settings } = acting;
  try {
    const { approval } = await decideApproval(deps.db, {
      id: p.view.private_metadata.approval_id,
      tenantId: settings.tenant_id,
      decision: 'reject',
      actor: `slack:${p.user.id}`,
      channel: 'slack',
      reason,
    });
    return { answer: undefined, decided: approval };
  } catch (err) {
    if (!(err instanceof AppError)) deps.log.error({ err: errorMessage(err) }, 'reject from Slack failed');
    return errors(explain(err));
  }
}

/** After the dialog closed: the message shows the rejection. */
export async function afterReject(deps: BotDeps, decided: ApprovalRow): Promise<void> {
  await refreshMessage(deps, decided.id);
}
