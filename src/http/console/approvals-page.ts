import type { ApprovalRow, ApprovalStatus } from '../../approvals/types.js';
import { REASON_MAX } from '../../approvals/service.js';
import { h } from '../html.js';
import { span } from '../../lib/span.js';
import { redactPayload } from '../../lib/redact.js';
import { json, localTime } from './layout.js';

export interface ApprovalsView {
  status: ApprovalStatus;
  rows: ApprovalRow[];
  /** The display name of the person who decided each request (by id), where known. */
  deciders?: Record<string, string>;
  now: number;
  /** The session's CSRF token; undefined when the viewer may not decide (read-only). */
  csrf: string | undefined;
  canDecide: boolean;
  canRerequest: boolean;
  flash?: { text: string; bad: boolean };
  /** A refused rejection: its reason goes back into that row's field, so nothing typed is lost. */
  draft?: { id: string; reason: string };
  /** A refused bulk decision: its selection and reason come back as they were. */
  bulkDraft?: { ids: string[]; reason: string };
}

const FILTERS: ApprovalStatus[] = ['pending', 'approved', 'rejected', 'expired'];

function decideForms(a: ApprovalRow, csrf: string, draft: string | undefined): string {
  const id = h(a.id);
  return `<form class="inline" method="post" action="/console/approvals/${id}/approve" data-once>
<input type="hidden" name="csrf" value="${h(csrf)}"><button type="submit" aria-label="Approve ${h(a.summary)}">Approve</button></form>
<form class="inline reject" method="post" action="/console/approvals/${id}/reject" data-once>
<input type="hidden" name="csrf" value="${h(csrf)}">
<label for="reason-${id}">Reason (required to reject)</label>
<input id="reason-${id}" name="reason" required data-max-points="${REASON_MAX}" size="24"${draft === undefined ? '' : ` value="${h(draft)}" aria-invalid="true" aria-describedby="flash" autofocus`}>
<button type="submit" aria-label="Reject ${h(a.summary)}">Reject</button></form>`;
}

/** Select several, one reason, one click: each request is still its own decision. */
function bulkForm(csrf: string, draft: ApprovalsView['bulkDraft']): string {
  return `<form id="bulk" class="bulk" method="post" action="/console/approvals/bulk" data-once>
<input type="hidden" name="csrf" value="${h(csrf)}">
<label for="bulk-reason">Reason for the selected requests (required to reject)</label>
<input id="bulk-reason" name="reason" data-max-points="${REASON_MAX}" size="32"${draft?.reason ? ` value="${h(draft.reason)}"` : ''}>
<button type="submit" name="verb" value="approve">Approve selected</button>
<button type="submit" name="verb" value="reject">Reject selected</button>
<span class="muted" id="bulk-count" role="status" aria-live="polite"></span></form>`;
}

/** Where a routed request stands: the open stages, and who is next. */
function routeLine(a: ApprovalRow, now: number): string {
  const stages = a.route?.stages ?? [];
  if (stages.length === 0) return '';
  const open = stages.slice(0, a.stage).map((s) => s.name);
  const next = stages[a.stage];
  return `<div class="muted" data-stage="${h(a.stage)}">Stage ${h(a.stage)} of ${h(stages.length)}: ${h(open.join(', '))}${next ? ` · next: ${h(next.name)} ${h(span(Math.max(0, a.requested_at + next.after_seconds - now)))} from now` : ''}</div>`;
}

function pendingRow(a: ApprovalRow, v: ApprovalsView): string {
  const canDecide = v.canDecide && v.csrf !== undefined;
  const actions = canDecide
    ? decideForms(a, v.csrf as string, v.draft?.id === a.id ? v.draft.reason : undefined)
    : '<span class="muted">read-only</span>';
  const picked = v.bulkDraft?.ids.includes(a.id) ? ' checked' : '';
  const pick = canDecide
    ? `<td class="pick"><input type="checkbox" name="ids" value="${h(a.id)}" form="bulk" id="pick-${h(a.id)}"${picked}><label class="pick-label" for="pick-${h(a.id)}">Select <span class="sr-only">${h(a.summary)}</span></label></td>`
    : '';
  return `<tr data-approval-id="${h(a.id)}">${pick}
<td data-label="Class">${h(a.impact_class)}</td>
<td data-label="Request"><strong>${h(a.summary)}</strong><div class="muted"><code>${h(a.action_type)}</code> · <span class="id">${h(a.id)}</span></div>
<details><summary>Payload (sha256 <code class="hash">${h(a.payload_hash)}</code>)</summary><pre>${json(redactPayload(a.payload))}</pre></details></td>
<td data-label="Requester">${h(a.requested_by)}</td>
<td data-label="Age">${h(span(v.now - a.requested_at))}</td>
<td data-label="Expires in">${a.expires_at > v.now ? h(span(a.expires_at - v.now)) : '<span class="bad">expired</span>'}</td>
<td data-label="Decision">${routeLine(a, v.now)}${a.required_approvals > 1 ? `<div class="muted">${h(a.approvals_count)} of ${h(a.required_approvals)} approvals</div>` : ''}${actions}</td></tr>`;
}

function historyRow(a: ApprovalRow, v: ApprovalsView): string {
  const again =
    v.canRerequest && v.csrf && a.status !== 'approved'
      ? `<form class="inline" method="post" action="/console/approvals/${h(a.id)}/rerequest" data-once><input type="hidden" name="csrf" value="${h(v.csrf)}"><button type="submit" aria-label="Re-request ${h(a.summary)}">Re-request</button></form>`
      : '';
  return `<tr data-history-id="${h(a.id)}"><td data-label="Class">${h(a.impact_class)}</td><td data-label="Request"><strong>${h(a.summary)}</strong><div class="muted"><code>${h(a.action_type)}</code> · <span class="id">${h(a.id)}</span></div></td>
<td data-label="Status">${h(a.status)}</td><td data-label="By">${h(a.processed_by ?? '—')}${v.deciders?.[a.id] ? ` <span class="person">(${h(v.deciders[a.id])})</span>` : ''}</td><td data-label="When">${localTime(a.processed_at)}</td><td data-label="Reason">${h(a.reason ?? '')}</td><td>${again}</td></tr>`;
}

/** The approvals page: the pending queue (live, with bulk decisions) or one history filter. Cards on a phone (console.css). */
export function renderApprovals(v: ApprovalsView): string {
  const filters = FILTERS.map(
    (s) => `<a href="/console/approvals?status=${s}"${s === v.status ? ' aria-current="page"' : ''}>${s}</a>`,
  ).join(' · ');
  const flash = v.flash
    ? `<p class="flash${v.flash.bad ? ' bad' : ''}" role="${v.flash.bad ? 'alert' : 'status'}" id="flash">${h(v.flash.text)}</p>`
    : '';
  const readOnly = v.canDecide
    ? ''
    : '<p class="muted" id="read-only">This token has no <code>approvals:decide</code> scope: the queue is read-only.</p>';
  const live = '<p id="live" class="muted" role="status" aria-live="polite"></p>';
  if (v.status === 'pending') {
    const canBulk = v.canDecide && v.csrf !== undefined && v.rows.length > 0;
    const columns = (canBulk ? 1 : 0) + 6;
    const body =
      v.rows.length === 0
        ? `<tr><td colspan="${columns}" class="muted">Nothing waits for a decision.</td></tr>`
        : v.rows.map((a) => pendingRow(a, v)).join('');
    const pickHead = canBulk ? '<th scope="col"><span class="sr-only">Select</span></th>' : '';
    return `<h2>Approvals</h2><p>Show: ${filters}</p>${flash}${readOnly}${live}${canBulk ? bulkForm(v.csrf as string, v.bulkDraft) : ''}
<table class="cards"><caption class="muted">Pending requests, oldest first</caption><thead><tr>${pickHead}<th scope="col">Class</th><th scope="col">Request</th><th scope="col">Requester</th><th scope="col">Age</th><th scope="col">Expires in</th><th scope="col">Decision</th></tr></thead>
<tbody data-poll="/console/approvals/pending.json" data-poll-ms="3000">${body}</tbody></table>`;
  }
  const body =
    v.rows.length === 0
      ? `<tr><td colspan="7" class="muted">No ${h(v.status)} requests.</td></tr>`
      : v.rows.map((a) => historyRow(a, v)).join('');
  return `<h2>Approvals</h2><p>Show: ${filters}</p>${flash}
<table class="cards"><caption class="muted">${h(v.status)} requests</caption><thead><tr><th scope="col">Class</th><th scope="col">Request</th><th scope="col">Status</th><th scope="col">By</th><th scope="col">When</th><th scope="col">Reason</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead><tbody>${body}</tbody></table>`;
}
