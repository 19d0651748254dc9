import type { ApprovalRow } from '../approvals/types.js';
import { payloadPreview } from '../lib/redact.js';
import { span } from '../lib/span.js';

/** A Block Kit block (Slack checks the shape; we only build known ones). */
export type SlackBlock = { type: string } & Record<string, unknown>;

export interface SlackMessage {
  text: string;
  blocks: SlackBlock[];
}

/** The approval fields a message shows, plus the workflow's name when there is one. */
export type ApprovalView = Pick<
  ApprovalRow,
  | 'id'
  | 'action_type'
  | 'impact_class'
  | 'summary'
  | 'payload'
  | 'status'
  | 'requested_by'
  | 'requested_at'
  | 'expires_at'
  | 'processed_at'
  | 'processed_by'
  | 'reason'
  | 'run_id'
  | 'required_approvals'
  | 'approvals_count'
> & {
  workflow_name: string | null;
  /** The display name of the person behind processed_by, when the directory knows them. */
  processed_by_name?: string | null;
};

export const APPROVE_ACTION = 'levqor_approve';
export const REJECT_ACTION = 'levqor_reject';
export const REJECT_MODAL = 'levqor_reject_modal';
export const REASON_BLOCK = 'reason';
export const REASON_INPUT = 'reason_input';

const WHY: Record<string, string> = {
  email: 'it sends an email to people outside Levqor',
  http: 'it calls an external HTTP endpoint',
  campaign: 'it sends a campaign to customers',
  slack_message: 'it posts a message to a Slack channel outside the internal list',
};

/** The state a message shows; a message is updated exactly when this changes. */
export function renderKey(a: Pick<ApprovalRow, 'status' | 'approvals_count'>): string {
  return `${a.status}:${a.approvals_count}`;
}

/** Escapes text for mrkdwn (&, <, >). */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** "<@U123>" for a Slack identity, the identity itself otherwise. */
export function who(actor: string | null): string {
  if (!actor) return 'someone';
  const m = /^slack:([UW][A-Z0-9]+)$/.exec(actor);
  return m ? `<@${m[1]}>` : `\`${esc(actor)}\``;
}

/** A time Slack shows in the reader's own time zone, with a UTC fallback. */
export function slackDate(epoch: number, format = '{date_short_pretty} {time}'): string {
  const iso = new Date(epoch * 1000).toISOString().replace('T', ' ').slice(0, 16);
  return `<!date^${Math.floor(epoch)}^${format}|${iso} UTC>`;
}

function section(text: string): SlackBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 3000) } };
}

/** The buttons under a pending request: Approve, and Reject behind a confirm dialog. */
export function decisionButtons(id: string): SlackBlock {
  return {
    type: 'actions',
    block_id: `levqor_decide:${id}`,
    elements: [
      { type: 'button', action_id: APPROVE_ACTION, style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value: id },
      {
        type: 'button',
        action_id: REJECT_ACTION,
        style: 'danger',
        text: { type: 'plain_text', text: 'Reject' },
        value: id,
        confirm: {
          title: { type: 'plain_text', text: 'Reject this action?' },
          text: { type: 'mrkdwn', text: 'You will be asked for a reason; the run waiting on it ends as rejected.' },
          confirm: { type: 'plain_text', text: 'Continue' },
          deny: { type: 'plain_text', text: 'Cancel' },
          style: 'danger',
        },
      },
    ],
  };
}

/** The outcome line of a decided (or partly approved) request. */
function outcomeLine(a: ApprovalView): string | undefined {
  const at = a.processed_at === null ? '' : ` at ${slackDate(a.processed_at, '{time}')}`;
  const by = `${who(a.processed_by)}${a.processed_by_name ? ` (${esc(a.processed_by_name)})` : ''}`;
  switch (a.status) {
    case 'approved':
      return `✅ *Approved* by ${by}${at}${a.required_approvals > 1 ? ` (${a.approvals_count} of ${a.required_approvals} approvals)` : ''}`;
    case 'rejected':
      return `❌ *Rejected* by ${by}${at}${a.reason ? `: ${esc(a.reason)}` : ''}`;
    case 'expired':
      return `⌛ *Expired*${at}: no decision in time; the run waiting on it has ended`;
    default:
      return a.approvals_count > 0 ? `☑️ ${a.approvals_count} of ${a.required_approvals} approvals so far` : undefined;
  }
}

/** The approval message: what, why Class C, a redacted payload preview, who, until when; buttons while pending. */
export function approvalMessage(a: ApprovalView): SlackMessage {
  const why = WHY[a.action_type] ?? `\`${esc(a.action_type)}\` is not known to be safe`;
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: `Approval needed: ${a.summary}`.slice(0, 150) } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Action*\n\`${esc(a.action_type)}\`: ${esc(a.summary)}` },
        {
          type: 'mrkdwn',
          text: `*Workflow*\n${a.workflow_name ? esc(a.workflow_name) : '(submitted action)'}${a.run_id ? `\nrun \`${a.run_id}\`` : ''}`,
        },
        { type: 'mrkdwn', text: `*Requested by*\n${who(a.requested_by)} ${slackDate(a.requested_at)}` },
        { type: 'mrkdwn', text: `*Expires*\n${slackDate(a.expires_at)}` },
      ],
    },
    section(
      `*Why Class C (critical):* ${why}, so a person must approve it before it runs${a.required_approvals > 1 ? ` (${a.required_approvals} approvers needed)` : ''}.`,
    ),
    section(`*Payload* (secrets redacted)\n\`\`\`${payloadPreview(a.payload).replace(/```/g, "'''")}\`\`\``),
  ];
  const outcome = outcomeLine(a);
  if (outcome) blocks.push(section(outcome));
  if (a.status === 'pending') blocks.push(decisionButtons(a.id));
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `approval \`${a.id}\`` }] });
  const state = a.status === 'pending' ? 'Approval needed' : a.status[0]?.toUpperCase() + a.status.slice(1);
  return { text: `${state}: ${a.summary}${outcome && a.status !== 'pending' ? ` (${outcome.replace(/[*]/g, '')})` : ''}`, blocks };
}

/** Slack mentions of the slack:U… identities in a list (others are not Slack users). */
export function slackUserIds(identities: readonly string[]): string[] {
  return identities.filter((i) => /^slack:U[A-Z0-9]+$/.test(i)).map((i) => i.slice(6));
}

const mentions = (users: readonly string[]) => users.map((u) => `<@${u}>`).join(' ');

/**
 * A reminder (a thread reply, and a DM to each eligible approver): the real time left, read
 * when it is sent, so a late sweep never states a stale one.
 */
export function reminderMessage(
  a: Pick<ApprovalView, 'summary' | 'expires_at'>,
  now: number,
  n: number,
  users: readonly string[] = [],
): SlackMessage {
  const left = Math.max(0, a.expires_at - now);
  const text = `⏰ Reminder${n > 1 ? ` ${n}` : ''}: still waiting for a decision on *${esc(a.summary)}*: ${span(left)} left (expires ${slackDate(a.expires_at)}).${users.length ? ` ${mentions(users)}` : ''}`;
  return { text: text.replace(/[*]/g, ''), blocks: [section(text)] };
}

/** The thread reply (and DM) when a route's next stage opens: who may now decide. */
export function escalationMessage(a: Pick<ApprovalView, 'summary'>, stages: readonly string[], users: readonly string[]): SlackMessage {
  const who = users.length ? ` ${mentions(users)} can now decide.` : '';
  const text = `⬆️ No decision yet on *${esc(a.summary)}*: escalated to ${stages.map((s) => `*${esc(s)}*`).join(', ')}.${who}`;
  return { text: text.replace(/[*]/g, ''), blocks: [section(text)] };
}

/** The reject dialog: a required reason, the request id kept in private_metadata. */
export function rejectModal(a: Pick<ApprovalRow, 'id' | 'summary'>): Record<string, unknown> {
  return {
    type: 'modal',
    callback_id: REJECT_MODAL,
    private_metadata: JSON.stringify({ approval_id: a.id }),
    title: { type: 'plain_text', text: 'Reject action' },
    submit: { type: 'plain_text', text: 'Reject' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      section(`Reject *${esc(a.summary)}*?`),
      {
        type: 'input',
        block_id: REASON_BLOCK,
        label: { type: 'plain_text', text: 'Reason' },
        hint: { type: 'plain_text', text: 'Required, up to 500 characters. It is recorded and shown on the request.' },
        element: { type: 'plain_text_input', action_id: REASON_INPUT, multiline: true, max_length: 500 },
        optional: true, // validated by Levqor, so the error can say why
      },
    ],
  };
}
