import { checkpointRun, insertEvents, parkRun } from '../runs/lifecycle-queries.js';
import { describeClass } from './impact.js';
import {
  bufferedTransaction,
  finishedOutcome,
  LeaseLostError,
  pushEvent,
  saveOutput,
  summarizeOutput,
  type RunOutcome,
  type RunState,
} from './run-state.js';
import type { ImpactClass } from '../lib/impact.js';
import { redactString } from '../lib/redact.js';
import type { Step } from './schema.js';

export type Gate = { kind: 'execute'; approvalId: string } | { kind: 'stop'; outcome: RunOutcome };

const CONTROL_FIELDS = new Set(['max_attempts', 'backoff_ms', 'timeout_ms']);

/** The part of a rendered step a human approves: everything that decides what happens outside. */
function approvalPayload(step: Step): Record<string, unknown> {
  return Object.fromEntries(Object.entries(step).filter(([k, v]) => !CONTROL_FIELDS.has(k) && v !== undefined));
}

/** The object of a github step's operation, for its one-line summary. */
function githubTarget(step: Extract<Step, { type: 'github' }>): string {
  switch (step.operation) {
    case 'dispatch_workflow':
      return `: ${step.workflow ?? ''} on ${step.ref ?? ''}`;
    case 'repository_dispatch':
      return `: ${step.event_type ?? ''}`;
    case 'create_issue':
      return `: "${step.title ?? ''}"`;
    case 'comment':
      return ` on #${String(step.issue)}`;
    case 'create_deployment':
      return `: ${step.ref ?? ''}${step.environment ? ` to ${step.environment}` : ''}`;
    case 'deployment_status':
      return `: deployment ${String(step.deployment_id)} ${step.state ?? ''}`;
  }
}

/** One line saying what the step will do, for the approver. */
function summarizeStep(step: Step): string {
  switch (step.type) {
    case 'http':
      return `${step.method} ${step.url}`;
    case 'email': {
      const to = step.to === undefined ? [] : Array.isArray(step.to) ? step.to : [step.to];
      const all = [...to, ...(step.bcc ?? [])];
      const list = `${all.slice(0, 3).join(', ')}${all.length > 3 ? ` and ${all.length - 3} more` : ''}`;
      return `email "${step.subject}" to ${list}${step.bcc?.length ? ` (${to.length ? `${step.bcc.length} ` : ''}blind copies)` : ''}`;
    }
    case 'github':
      return `GitHub ${step.operation.replace(/_/g, ' ')} in ${step.repository}${githubTarget(step)}`;
    case 'slack_message':
      return `Slack message to ${step.channel}: "${step.text.length > 80 ? `${step.text.slice(0, 79)}…` : step.text}"`;
    case 'set_workflow_active':
      return `${step.active ? 'activate' : 'pause'} workflow ${step.workflow ?? '(this one)'}`;
    default:
      return `${step.type} step${step.name ? ` "${step.name}"` : ''}`;
  }
}

async function park(
  s: RunState,
  step: Step,
  index: number,
  cls: ImpactClass,
  payload: Record<string, unknown>,
  existingId?: string,
): Promise<Gate> {
  const { deps, run, wf } = s;
  let approvalId = existingId ?? '';
  // A run started to ask again for an ended run's request links its own request to that one.
  const previousId = run.context.rerequest_of?.step_index === index ? run.context.rerequest_of.approval_id : undefined;
  try {
    await bufferedTransaction(s, async (tx) => {
      if (!existingId) {
        const approval = await deps.critical.request(tx, {
          tenant_id: run.tenant_id,
          run_id: run.id,
          workflow_id: wf.id,
          step_index: index,
          action_type: step.type,
          impact_class: cls,
          // Display text, not bound by the hash: a literal credential left in a URL is not repeated in it.
          summary: redactString(`${wf.name}: ${summarizeStep(step)}`),
          payload,
          // On behalf of whoever started the run, or last defined the workflow: they may not approve it themselves.
          requested_by: run.started_by ?? wf.updated_by ?? `workflow:${wf.name}`,
          previous_id: previousId,
        });
        approvalId = approval.id;
        pushEvent(s, 'approval_requested', index, {
          approval_id: approval.id,
          expires_at: approval.expires_at,
          summary: approval.summary,
          why: describeClass(step, wf.impact_class, s.internalChannels),
          ...(previousId ? { previous_id: previousId } : {}),
        });
      }
      if (!(await parkRun(tx, deps.owner, { id: run.id, stepIndex: index, context: s.ctx, timeline: s.timeline.splice(0) })))
        throw new LeaseLostError();
      await insertEvents(tx, s.events.splice(0));
    });
  } catch (err) {
    if (err instanceof LeaseLostError) return { kind: 'stop', outcome: { kind: 'lost' } };
    throw err;
  }
  return { kind: 'stop', outcome: { kind: 'parked', approvalId } };
}

/**
 * Decides whether a Class C step may run now, through the critical-action gate. Without a
 * decision the run parks and a request is recorded; an approval only counts for the exact
 * payload it was given for, and only once.
 */
export async function gateCriticalStep(s: RunState, step: Step, index: number, cls: ImpactClass): Promise<Gate> {
  const payload = approvalPayload(step);
  const verdict = await s.deps.critical.check(s.deps.db, { runId: s.run.id, stepIndex: index, payload });
  switch (verdict.kind) {
    case 'ask':
      return park(s, step, index, cls, payload);
    case 'wait':
      return park(s, step, index, cls, payload, verdict.approvalId);
    case 'refuse':
      pushEvent(s, 'step_failed', index, { error: verdict.error, approval_id: verdict.approvalId });
      return { kind: 'stop', outcome: finishedOutcome(s, verdict.status, index, verdict.error) };
    case 'execute':
      pushEvent(s, 'approval_used', index, { approval_id: verdict.approvalId, approved_by: verdict.approvedBy });
      return { kind: 'execute', approvalId: verdict.approvalId };
  }
}

/** Records that an approved action ran (or failed), with the run's checkpoint, in one transaction. */
export async function recordCriticalOutcome(
  s: RunState,
  index: number,
  approvalId: string,
  output: unknown,
  failure: unknown,
): Promise<void> {
  const { deps, run, wf } = s;
  const step = wf.steps[index] as Step;
  await bufferedTransaction(s, async (tx) => {
    await deps.critical.finish(tx, approvalId);
    if (failure !== undefined) return;
    saveOutput(s, step, index, output);
    pushEvent(s, 'step_finished', index, { output: summarizeOutput(output), approval_id: approvalId }, 'C');
    if (!(await checkpointRun(tx, deps.owner, { id: run.id, stepIndex: index + 1, context: s.ctx, timeline: s.timeline.splice(0) })))
      throw new LeaseLostError();
    await insertEvents(tx, s.events.splice(0));
  });
}
