import type { ApprovalRow } from '../../approvals/types.js';
import { REASON_MAX } from '../../approvals/service.js';
import { redactPayload } from '../../lib/redact.js';
import { h } from '../html.js';
import { json, localTime, plainConsolePage } from './layout.js';

/**
 * The page an emailed decision link opens: what exactly is being decided (payload and the hash
 * the decision binds to), who is deciding, and Approve / Reject buttons that POST. Opening it
 * decides nothing.
 */
export function decideLinkPage(opts: { approval: ApprovalRow; identity: string; token: string; problem?: string; flash?: string }): string {
  const a = opts.approval;
  const facts = `<dl>
<dt>Action</dt><dd><code>${h(a.action_type)}</code> (Class ${h(a.impact_class)})</dd>
<dt>Requested by</dt><dd>${h(a.requested_by)}</dd>
<dt>Expires</dt><dd>${localTime(a.expires_at)}</dd>
<dt>Status</dt><dd>${h(a.status)}</dd>
</dl>
<details open><summary>Payload (sha256 <code class="hash">${h(a.payload_hash)}</code>)</summary><pre>${json(redactPayload(a.payload))}</pre></details>`;
  const flash = opts.flash ?? opts.problem;
  const form = opts.problem
    ? ''
    : `<form method="post" action="/console/decide/${h(opts.token)}" data-once>
<p>You are deciding as <strong>${h(opts.identity)}</strong>. This link works once.</p>
<label for="reason">Reason (required to reject)</label>
<input id="reason" name="reason" data-max-points="${REASON_MAX}" size="40">
<button type="submit" name="verb" value="approve">Approve</button>
<button type="submit" name="verb" value="reject">Reject</button></form>`;
  return plainConsolePage({
    title: 'Decide',
    body: `<h2>${h(a.summary)}</h2>${flash ? `<p class="flash${opts.problem ? ' bad' : ''}" role="${opts.problem ? 'alert' : 'status'}" id="flash">${h(flash)}</p>` : ''}${facts}${form}`,
  });
}

/** The answer after a decision through a link. */
export function decidedLinkPage(a: ApprovalRow, text: string, bad: boolean): string {
  return plainConsolePage({
    title: 'Decided',
    body: `<h2>${h(a.summary)}</h2><p class="flash${bad ? ' bad' : ''}" role="${bad ? 'alert' : 'status'}" id="flash">${h(text)}</p>`,
  });
}
