import type { ChecksReport } from './checks.js';
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

/** The job-summary (and PR comment) markdown: one row per check, then the gate's details. */
export function renderMarkdown(report: ChecksReport, opts: { tailLines?: number } = {}): string {
  const n = opts.tailLines ?? 5;
  const head =
    report.result === 'pass'
      ? `### ✅ Levqor safety checks: ${report.passed}/${report.total} passed`
      : `### ❌ Levqor safety checks: ${report.passed}/${report.total} passed — all ${report.total}/${report.total} must pass before deployment`;
  const rows = report.checks.map((c) => {
    const tail = lastLines(c.output, n).map((l) => (l.length > 200 ? `${l.slice(0, 199)}…` : l));
    const text = [c.detail, ...(c.status === 'pass' ? tail.slice(-2) : tail)].filter(Boolean).join('\n');
    return `| ${c.name} | ${ICON[c.status]} | ${seconds(c.durationMs)} | ${text ? `<code>${cell(text)}</code>` : ''} |`;
  });
  const parts = [head, '', '| Check | Status | Duration | Last lines |', '| --- | --- | --- | --- |', ...rows];
  const gate = report.gate;
  if (gate && (gate.lines.length > 0 || gate.diffStat)) {
    parts.push('', '#### Critical files', '', ...gate.lines.map((l) => `- ${cell(l)}`));
    if (gate.diffStat) parts.push('', '```', gate.diffStat.replace(/```/g, "'''"), '```');
    if (gate.approval)
      parts.push(
        '',
        `Approval: **${gate.approval.state}**${gate.approval.by ? ` by ${cell(gate.approval.by)}` : ''} — ${cell(gate.approval.detail)}`,
      );
  }
  if (report.annotations.length > 0) parts.push('', `${report.annotations.length} problem(s) annotated on the files.`);
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
