import type { ChecksReport } from './checks.js';
import type { ApprovalOutcome } from './gate.js';
import { lastLines, type CheckResult } from './run.js';

/** The hidden marker that finds the sticky pull-request comment. */
export const COMMENT_MARKER = '<!-- levqor-checks -->';

const ICON: Record<CheckResult['status'], string> = { pass: '✅ pass', fail: '❌ fail', timeout: '⏱️ timeout', error: '💥 error' };

/** Escapes text for a markdown table cell. */
function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r?\n/g, '<br>');
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** One row of the checks table as plain text: each face escapes it for its own format. */
export interface CheckRow {
  name: string;
  status: string;
  duration: string;
  /** The check's detail and last output lines, one per line ('' when there is nothing to show). */
  lastLines: string;
}

/** The plain-text parts of a checks report: its headline, one row per check, the gate's details. */
export interface ReportView {
  headline: string;
  rows: CheckRow[];
  gate?: { lines: string[]; diffStat?: string; approval?: ApprovalOutcome };
  warnings: string[];
  annotated: number;
}

/** The report as plain values, shared by the job summary (HTML) and the PR comment (markdown). */
export function viewReport(report: ChecksReport, opts: { tailLines?: number } = {}): ReportView {
  const n = opts.tailLines ?? 5;
  const headline =
    report.result === 'pass'
      ? `✅ Levqor safety checks: ${report.passed}/${report.total} passed`
      : `❌ Levqor safety checks: ${report.passed}/${report.total} passed — all ${report.total}/${report.total} must pass before deployment`;
  const rows = report.checks.map((c) => {
    const tail = lastLines(c.output, n).map((l) => (l.length > 200 ? `${l.slice(0, 199)}…` : l));
    const text = [c.detail, ...(c.status === 'pass' ? tail.slice(-2) : tail)].filter(Boolean).join('\n');
    return { name: c.name, status: ICON[c.status], duration: seconds(c.durationMs), lastLines: text };
  });
  const g = report.gate;
  const gate = g && (g.lines.length > 0 || g.diffStat) ? { lines: g.lines, diffStat: g.diffStat, approval: g.approval } : undefined;
  return { headline, rows, gate, warnings: g?.warnings ?? [], annotated: report.annotations.length };
}

/** The PR comment's markdown: one row per check, then the gate's details. */
function renderMarkdown(report: ChecksReport, opts: { tailLines?: number } = {}): string {
  const v = viewReport(report, opts);
  const rows = v.rows.map((r) => `| ${r.name} | ${r.status} | ${r.duration} | ${r.lastLines ? `<code>${cell(r.lastLines)}</code>` : ''} |`);
  const parts = [`### ${v.headline}`, '', '| Check | Status | Duration | Last lines |', '| --- | --- | --- | --- |', ...rows];
  if (v.warnings.length > 0) parts.push('', ...v.warnings.map((w) => `> ⚠️ ${cell(w)}`));
  if (v.gate) {
    parts.push('', '#### Critical files', '', ...v.gate.lines.map((l) => `- ${cell(l)}`));
    if (v.gate.diffStat) parts.push('', '```', v.gate.diffStat.replace(/```/g, "'''"), '```');
    const a = v.gate.approval;
    if (a) parts.push('', `Approval: **${a.state}**${a.by ? ` by ${cell(a.by)}` : ''} — ${cell(a.detail)}`);
  }
  if (v.annotated > 0) parts.push('', `${v.annotated} problem(s) annotated on the files.`);
  return `${parts.join('\n')}\n`;
}

/** The sticky comment body: the marker first, so it is found again. */
export function renderComment(report: ChecksReport, runUrl?: string): string {
  return `${COMMENT_MARKER}\n${renderMarkdown(report, { tailLines: 3 })}${runUrl ? `\n[Workflow run](${runUrl})\n` : ''}`;
}

/** The `report` output: compact JSON, output tails only. */
export function renderJson(report: ChecksReport): string {
  return JSON.stringify({
    passed: `${report.passed}/${report.total}`,
    result: report.result,
    duration_ms: report.durationMs,
    checks: report.checks.map((c) => ({
      name: c.name,
      status: c.status,
      duration_ms: c.durationMs,
      exit_code: c.exitCode,
      detail: c.detail ?? null,
      command: c.command ?? null,
      tail: lastLines(c.output, 20),
    })),
    annotations: report.annotations,
    gate: report.gate
      ? {
          mode: report.gate.mode,
          passed: report.gate.passed,
          detail: report.gate.detail,
          changes: report.gate.changes,
          approval: report.gate.approval ?? null,
        }
      : null,
  });
}
