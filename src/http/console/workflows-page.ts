import type { Check } from '../../workflows/doctor.js';
import type { WorkflowRow } from '../../workflows/queries.js';
import { h } from '../html.js';

export interface WorkflowView {
  workflow: WorkflowRow;
  schedule: string;
  slots: string[];
  lastRun: { id: string; status: string } | undefined;
  /** The doctor's failing checks; empty when it runs as it should. */
  problems: Check[];
}

/** The workflows page: schedule in words, next slots in the workflow's zone, last run, doctor verdict. */
export function renderWorkflows(views: WorkflowView[]): string {
  const rows =
    views.length === 0
      ? '<tr><td colspan="5" class="muted">No workflows (levqor workflow apply -f FILE).</td></tr>'
      : views
          .map((v) => {
            const last = v.lastRun
              ? `<a href="/console/runs/${h(v.lastRun.id)}">${h(v.lastRun.status)}</a>`
              : '<span class="muted">never ran</span>';
            const verdict =
              v.problems.length === 0
                ? '<span class="good">running as scheduled</span>'
                : `<ul class="bad">${v.problems.map((c) => `<li><code>${h(c.check)}</code>: ${h(c.detail)}</li>`).join('')}</ul>`;
            const slots = v.slots.length
              ? `<ol>${v.slots.map((s) => `<li>${h(s)}</li>`).join('')}</ol>`
              : '<span class="muted">none</span>';
            return `<tr data-workflow="${h(v.workflow.name)}"><td><a href="/console/runs?workflow=${encodeURIComponent(v.workflow.name)}">${h(v.workflow.name)}</a><div class="muted">${h(v.workflow.description ?? '')}</div></td>
<td>${h(v.schedule)}</td><td>${slots}</td><td>${last}</td><td>${verdict}</td></tr>`;
          })
          .join('');
  return `<h2>Workflows</h2><table><thead><tr><th>Workflow</th><th>Schedule</th><th>Next 5 slots</th><th>Last run</th><th>Doctor</th></tr></thead><tbody>${rows}</tbody></table>`;
}
