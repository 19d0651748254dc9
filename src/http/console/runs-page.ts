import type { ApprovalRow } from '../../approvals/types.js';
import type { EventRow, RunRow } from '../../runs/types.js';
import type { WorkflowRow } from '../../workflows/queries.js';
import { h } from '../html.js';
import { span } from '../../lib/span.js';
import { redactPayload } from '../../lib/redact.js';
import { json, localTime } from './layout.js';

type ListedRun = RunRow & { workflow_name: string };

function duration(r: RunRow): string {
  return r.finished_at === null ? '—' : span(r.finished_at - r.started_at);
}

/** The runs page: runs newest first, a page at a time (`older` links the next page), optionally of one workflow. */
export function renderRuns(
  runs: ListedRun[],
  workflows: WorkflowRow[],
  selected: string | undefined,
  paging: { older?: string | undefined; paged: boolean } = { paged: false },
): string {
  const options = [
    `<option value="">all workflows</option>`,
    ...workflows.map((w) => `<option value="${h(w.name)}"${w.name === selected ? ' selected' : ''}>${h(w.name)}</option>`),
  ].join('');
  const rows =
    runs.length === 0
      ? '<tr><td colspan="6" class="muted">No runs yet.</td></tr>'
      : runs
          .map(
            (r) =>
              `<tr data-run-id="${h(r.id)}"><td data-label="Workflow"><a href="/console/runs/${h(r.id)}">${h(r.workflow_name)}</a></td><td data-label="Status">${h(r.status)}</td><td data-label="Trigger">${h(r.trigger)}</td><td data-label="Slot">${localTime(r.scheduled_for)}</td><td data-label="Started">${localTime(r.started_at)}</td><td data-label="Duration">${h(duration(r))}</td></tr>`,
          )
          .join('');
  const newest = `/console/runs${selected ? `?workflow=${encodeURIComponent(selected)}` : ''}`;
  const pager = [
    paging.paged ? `<a href="${h(newest)}">Newest runs</a>` : '',
    paging.older ? `<a href="${h(paging.older)}" rel="next">Older runs</a>` : '',
  ].filter(Boolean);
  return `<h2>Runs</h2>
<form method="get" action="/console/runs"><label for="workflow">Workflow</label><select id="workflow" name="workflow">${options}</select> <button type="submit">Show</button></form>
<table class="cards"><caption class="muted">Newest first${paging.paged ? ' (older page)' : ''}</caption><thead><tr><th scope="col">Workflow</th><th scope="col">Status</th><th scope="col">Trigger</th><th scope="col">Slot</th><th scope="col">Started</th><th scope="col">Duration</th></tr></thead><tbody>${rows}</tbody></table>
${pager.length ? `<nav class="pager" aria-label="Run pages">${pager.join(' ')}</nav>` : ''}`;
}

function approvalLine(a: ApprovalRow): string {
  return `<li data-approval="${h(a.id)}">${h(a.summary)} — <strong>${h(a.status)}</strong>${a.processed_by ? ` by ${h(a.processed_by)} at ${localTime(a.processed_at)}` : ''}${a.reason ? `: ${h(a.reason)}` : ''}</li>`;
}

/** One run: its facts, its timeline (every event with its payload), its approvals and its workflow's next slots. */
export function renderRun(
  run: RunRow,
  workflow: WorkflowRow | undefined,
  events: EventRow[],
  approvals: ApprovalRow[],
  slots: string[],
): string {
  const timeline =
    events.length === 0
      ? '<li class="muted">No events recorded.</li>'
      : events
          .map(
            (e) =>
              `<li data-event="${h(e.type)}"><strong>${h(e.type)}</strong>${e.step_index === null ? '' : ` · step ${h(e.step_index + 1)}`} · ${localTime(e.created_at)}${Object.keys(e.payload).length ? `<pre>${json(redactPayload(e.payload))}</pre>` : ''}</li>`,
          )
          .join('');
  const next = slots.length === 0 ? '<li class="muted">Not scheduled.</li>' : slots.map((s) => `<li>${h(s)}</li>`).join('');
  return `<h2>Run of ${h(workflow?.name ?? run.workflow_id)}</h2>
<dl><dt>Id</dt><dd><code>${h(run.id)}</code></dd><dt>Status</dt><dd id="run-status">${h(run.status)}</dd><dt>Trigger</dt><dd>${h(run.trigger)}${run.started_by ? ` by ${h(run.started_by)}` : ''}</dd>
<dt>Slot</dt><dd>${localTime(run.scheduled_for)}</dd><dt>Started</dt><dd>${localTime(run.started_at)}</dd><dt>Finished</dt><dd>${localTime(run.finished_at)} (${h(duration(run))})</dd>
<dt>Attempt</dt><dd>${h(run.attempt)}</dd>${run.error ? `<dt>Error</dt><dd class="bad">${h(run.error)}</dd>` : ''}</dl>
<h3>Timeline</h3><ol id="timeline">${timeline}</ol>
<h3>Approvals</h3><ul id="run-approvals">${approvals.length ? approvals.map(approvalLine).join('') : '<li class="muted">None.</li>'}</ul>
<h3>Next slots of ${h(workflow?.name ?? 'its workflow')}</h3><ol id="next-slots">${next}</ol>`;
}
