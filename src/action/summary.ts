import * as core from '@actions/core';
import type { ChecksReport } from '../checks/checks.js';
import { viewReport } from '../checks/render.js';
import { escapeHtml } from '../lib/html.js';

/** Text as HTML for the summary, line breaks kept (the builder inserts what it is given as HTML). */
function html(text: string): string {
  return escapeHtml(text).replace(/\r?\n/g, '<br>');
}

/**
 * Writes what the builder holds to the job summary. Without GITHUB_STEP_SUMMARY (a runner
 * too old, a local run) the summary goes to the log instead of being lost.
 */
export async function writeSummary(): Promise<void> {
  try {
    await core.summary.write();
  } catch (err) {
    core.debug(`no job summary file (${err instanceof Error ? err.message : String(err)}): printing it`);
    core.info(core.summary.stringify());
    core.summary.emptyBuffer();
  }
}

/** The checks' job summary: the table (check, status, duration, last lines), then the gate's details. */
export function addChecksSummary(report: ChecksReport): void {
  const v = viewReport(report);
  const s = core.summary.addHeading(html(v.headline), 3);
  s.addTable([
    ['Check', 'Status', 'Duration', 'Last lines'].map((data) => ({ data, header: true })),
    ...v.rows.map((r) => [html(r.name), html(r.status), html(r.duration), r.lastLines ? `<code>${html(r.lastLines)}</code>` : '']),
  ]);
  for (const w of v.warnings) s.addQuote(`⚠️ ${html(w)}`);
  if (v.gate) {
    s.addHeading('Critical files', 4).addList(v.gate.lines.map(html));
    if (v.gate.diffStat) s.addCodeBlock(escapeHtml(v.gate.diffStat));
    const a = v.gate.approval;
    if (a) s.addRaw(`<p>Approval: <strong>${html(a.state)}</strong>${a.by ? ` by ${html(a.by)}` : ''} — ${html(a.detail)}</p>`, true);
  }
  if (v.annotated > 0) s.addRaw(`<p>${v.annotated} problem(s) annotated on the files.</p>`, true);
}
