import type { ApprovalRow, ApprovalStatus } from '../../approvals/types.js';
import { REASON_MAX } from '../../approvals/service.js';
import { h } from '../html.js';
import { span } from '../../lib/span.js';
import { redactPayload } from '../../lib/redact.js';
import { iso, json } from './layout.js';

export interface ApprovalsView {
  status: ApprovalStatus;
  rows: ApprovalRow[];
  now: number;
  /** The session's CSRF token; undefined when the viewer may not decide (read-only). */
  csrf: string | undefined;
  canDecide: boolean;
  canRerequest: boolean;
  flash?: { text: string; bad: boolean };
  /** A refused rejection: its reason goes back into that row's field, so nothing typed is lost. */
  draft?: { id: string; reason: string };
}

const FILTERS: ApprovalStatus[] = ['pending', 'approved', 'rejected', 'expired'];

function decideForms(a: ApprovalRow, csrf: string, draft: string | undefined): string {
  const id = h(a.id);
  return `<form class="inline" method="post" action="/console/approvals/${id}/approve" data-once>
<input type="hidden" name="csrf" value="${h(csrf)}"><button type="submit" aria-label="Approve ${h(a.summary)}">Approve</button></form>
<form class="inline" method="post" action="/console/approvals/${id}/reject" data-once>
<input type="hidden" name="csrf" value="${h(csrf)}">
<label for="reason-${id}">Reason (required to reject)</label>
<input id="reason-${id}" name="reason" required data-max-points="${REASON_MAX}" size="24"${draft === undefined ? '' : ` value="${h(draft)}" aria-invalid="true" aria-describedby="flash" autofocus`}>
<button type="submit" aria-label="Reject ${h(a.summary)}">Reject</button></form>`;
}

function pendingRow(a: ApprovalRow, v: ApprovalsView): string {
  const actions =
    v.canDecide && v.csrf
      ? decideForms(a, v.csrf, v.draft?.id === a.id ? v.draft.reason : undefined)
      : '<span class="muted">read-only</span>';
  return `<tr data-approval-id="${h(a.id)}">
<td>${h(a.impact_class)}</td>
<td><strong>${h(a.summary)}</strong><div class="muted"><code>${h(a.action_type)}</code> · ${h(a.id)}</div>
<details><summary>Payload (sha256 <code>${h(a.payload_hash)}</code>)</summary><pre>${json(redactPayload(a.payload))}</pre></details></td>
<td>${h(a.requested_by)}</td>
<td>${h(span(v.now - a.requested_at))}</td>
<td>${a.expires_at > v.now ? h(span(a.expires_at - v.now)) : '<span class="bad">expired</span>'}</td>
<td>${a.required_approvals > 1 ? `<div class="muted">${h(a.approvals_count)} of ${h(a.required_approvals)} approvals</div>` : ''}${actions}</td></tr>`;
}

function historyRow(a: ApprovalRow, v: ApprovalsView): string {
  const again =
    v.canRerequest && v.csrf && a.status !== 'approved'
      ? `<form class="inline" method="post" action="/console/approvals/${h(a.id)}/rerequest" data-once><input type="hidden" name="csrf" value="${h(v.csrf)}"><button type="submit" aria-label="Re-request ${h(a.summary)}">Re-request</button></form>`
      : '';
  return `<tr data-history-id="${h(a.id)}"><td>${h(a.impact_class)}</td><td><strong>${h(a.summary)}</strong><div class="muted"><code>${h(a.action_type)}</code> · ${h(a.id)}</div></td>
<td>${h(a.status)}</td><td>${h(a.processed_by ?? '—')}</td><td>${h(iso(a.processed_at))}</td><td>${h(a.reason ?? '')}</td><td>${again}</td></tr>`;
}

/** The approvals page: the pending queue (live) or one history filter. */
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
    const body =
      v.rows.length === 0
        ? '<tr><td colspan="6" class="muted">Nothing waits for a decision.</td></tr>'
        : v.rows.map((a) => pendingRow(a, v)).join('');
    return `<h2>Approvals</h2><p>Show: ${filters}</p>${flash}${readOnly}${live}
<table><caption class="muted">Pending requests, oldest first</caption><thead><tr><th>Class</th><th>Request</th><th>Requester</th><th>Age</th><th>Expires in</th><th>Decision</th></tr></thead>
<tbody data-poll="/console/approvals/pending.json" data-poll-ms="3000">${body}</tbody></table>`;
  }
  const body =
    v.rows.length === 0
      ? `<tr><td colspan="7" class="muted">No ${h(v.status)} requests.</td></tr>`
      : v.rows.map((a) => historyRow(a, v)).join('');
  return `<h2>Approvals</h2><p>Show: ${filters}</p>${flash}
<table><caption class="muted">${h(v.status)} requests</caption><thead><tr><th>Class</th><th>Request</th><th>Status</th><th>By</th><th>When</th><th>Reason</th><th></th></tr></thead><tbody>${body}</tbody></table>`;
}
