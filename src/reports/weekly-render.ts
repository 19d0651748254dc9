import { cell, change, compareText, duration, int, pct, ratio, utcTime } from './format.js';
import { localDate } from './week.js';
import type { WeeklyData } from './weekly-data.js';
import { FAILURE_RATE_TARGET } from '../health/summary.js';
import { weeklyRecommendations, WEEKLY_THRESHOLDS, type Recommendation } from './weekly-rules.js';
import type { RunTotals, WorkflowWeek } from './weekly-queries.js';

const TOP = 5;

function table(head: string[], align: ('l' | 'r')[], rows: string[][]): string[] {
  return [
    `| ${head.join(' | ')} |`,
    `| ${align.map((a) => (a === 'r' ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

const failureRateOf = (r: RunTotals) => ratio(r.failed, r.succeeded + r.failed);

function summary(d: WeeklyData): string[] {
  const cur = d.runs;
  const prev = d.previous_runs;
  const rate = failureRateOf(cur);
  const verdict =
    rate === null
      ? 'No finished runs, so no failure rate this week.'
      : rate <= FAILURE_RATE_TARGET
        ? `Failure rate ${pct(rate)}: within the ${pct(FAILURE_RATE_TARGET)} target.`
        : `Failure rate ${pct(rate)}: **above** the ${pct(FAILURE_RATE_TARGET)} target.`;
  const row = (name: string, now: number | null, before: number | null, fmt: (v: number | null) => string, diff = change(now, before)) => [
    name,
    fmt(now),
    fmt(before),
    diff,
  ];
  const n = (v: number | null) => (v === null ? '–' : int(v));
  const prevRate = failureRateOf(prev);
  const pp = rate === null || prevRate === null ? null : (rate - prevRate) * 100;
  const rateDiff = pp === null ? '–' : `${pp >= 0 ? '+' : '−'}${Math.abs(pp).toFixed(1)} pp`;
  return [
    '## Summary',
    '',
    ...table(
      ['metric', 'this week', 'last week', 'change'],
      ['l', 'r', 'r', 'r'],
      [
        row('runs', cur.runs, prev.runs, n),
        row('succeeded', cur.succeeded, prev.succeeded, n),
        row('failed', cur.failed, prev.failed, n),
        row('rejected, expired or cancelled', cur.stopped, prev.stopped, n),
        row('still running or waiting', cur.in_progress, prev.in_progress, n),
        row(`failure rate (target < ${pct(FAILURE_RATE_TARGET)})`, rate, prevRate, pct, rateDiff),
        row('p50 duration', cur.p50_seconds, prev.p50_seconds, duration),
        row('p95 duration', cur.p95_seconds, prev.p95_seconds, duration),
        row('approval requests (Class C)', d.approvals.requested, d.previous_approvals.requested, n),
      ],
    ),
    '',
    verdict,
  ];
}

function failing(workflows: WorkflowWeek[]): string[] {
  const top = workflows
    .filter((w) => w.failed > 0)
    .sort((a, b) => b.failed - a.failed || compareText(a.workflow, b.workflow))
    .slice(0, TOP);
  if (top.length === 0) return ['## Top failing workflows', '', 'No failed runs this week.'];
  return [
    '## Top failing workflows',
    '',
    ...table(
      ['workflow', 'failed', 'finished', 'failure rate', 'last failure', 'last error'],
      ['l', 'r', 'r', 'r', 'l', 'l'],
      top.map((w) => [
        cell(w.workflow),
        int(w.failed),
        int(w.succeeded + w.failed),
        pct(ratio(w.failed, w.succeeded + w.failed)),
        utcTime(w.last_failed_at),
        cell(w.last_error ?? '(no message)'),
      ]),
    ),
  ];
}

function slowest(workflows: WorkflowWeek[]): string[] {
  const top = workflows
    .filter((w) => w.p95_seconds !== null)
    .sort((a, b) => (b.p95_seconds ?? 0) - (a.p95_seconds ?? 0) || compareText(a.workflow, b.workflow))
    .slice(0, TOP);
  if (top.length === 0) return ['## Slowest workflows', '', 'No finished runs this week.'];
  return [
    '## Slowest workflows',
    '',
    ...table(
      ['workflow', 'runs', 'p50', 'p95', 'max'],
      ['l', 'r', 'r', 'r', 'r'],
      top.map((w) => [cell(w.workflow), int(w.runs), duration(w.p50_seconds), duration(w.p95_seconds), duration(w.max_seconds)]),
    ),
  ];
}

function approvals(d: WeeklyData): string[] {
  const a = d.approvals;
  const lines = [
    '## Approvals',
    '',
    ...table(
      ['requested', 'approved', 'rejected', 'expired', 'pending', 'median time to decision', 'p95 time to decision'],
      ['r', 'r', 'r', 'r', 'r', 'r', 'r'],
      [
        [
          int(a.requested),
          int(a.approved),
          int(a.rejected),
          int(a.expired),
          int(a.pending),
          duration(a.median_decision_seconds),
          duration(a.p95_decision_seconds),
        ],
      ],
    ),
    '',
    ...(a.deciders ? [`Decisions by person: ${a.deciders.map((x) => `${cell(x.name, 60)} (${int(x.votes)})`).join(', ')}`, ''] : []),
    'Impact classes this week:',
    '',
    ...table(
      ['class', 'count', 'handling'],
      ['l', 'r', 'l'],
      [
        ['A — safe', int(a.by_class.A), 'runs and Class A actions, executed at once'],
        ['B — soft', int(a.by_class.B), 'changes written to the audit log'],
        ['C — critical', int(a.by_class.C), 'held for a human decision'],
      ],
    ),
  ];
  if (d.reject_reasons.length === 0) return [...lines, '', 'No rejections this week.'];
  return [
    ...lines,
    '',
    'Reject reasons:',
    '',
    ...table(
      ['reason', 'count'],
      ['l', 'r'],
      d.reject_reasons.map((r) => [cell(r.reason), int(r.count)]),
    ),
  ];
}

function scheduler(d: WeeklyData): string[] {
  const now = d.as_of;
  const s = d.scheduler;
  const lines = [
    '## Scheduler health',
    '',
    `- Scheduled runs: ${int(s.scheduled_runs)} from ${int(s.active_schedules)} active schedules.`,
    `- Start lag after the slot: p50 ${duration(s.lag_p50_seconds)}, p95 ${duration(s.lag_p95_seconds)}, max ${duration(s.lag_max_seconds)}.`,
  ];
  if (d.scheduler_instances.length === 0) return [...lines, '- No scheduler process has ticked since the week began.'];
  return [
    ...lines,
    '',
    ...table(
      ['scheduler process', 'host', 'last tick', 'state'],
      ['l', 'l', 'l', 'l'],
      d.scheduler_instances.map((i) => [
        cell(i.id),
        cell(i.hostname),
        utcTime(i.last_tick_at),
        i.stopped_at !== null ? 'stopped' : i.last_tick_at >= now - 600 ? 'running' : 'silent > 10 min',
      ]),
    ),
  ];
}

function recommendations(recs: Recommendation[]): string[] {
  if (recs.length === 0) return ['## Recommendations', '', 'None: every rule is within its threshold.'];
  return ['## Recommendations', '', ...recs.map((r, i) => `${i + 1}. **${r.rule}**: ${r.message}`)];
}

/** The weekly report as GitHub-flavoured markdown: a pure function of the data. */
export function renderWeeklyReport(d: WeeklyData): string {
  const header = [
    `# Levqor weekly report: ${d.tenant}, ${d.week}`,
    '',
    `Week ${d.week}, Monday ${localDate(d.from, d.timezone)} 00:00 to Monday ${localDate(d.to, d.timezone)} 00:00 (${d.timezone}), compared with ${d.previous_week}.`,
  ];
  const sections = [
    header,
    summary(d),
    failing(d.workflows),
    slowest(d.workflows),
    approvals(d),
    scheduler(d),
    recommendations(weeklyRecommendations(d)),
  ];
  return `${sections.map((s) => s.join('\n')).join('\n\n')}\n`;
}

/** The report as JSON: the data, derived rates and the recommendations. */
export function weeklyReportJson(d: WeeklyData): Record<string, unknown> {
  return {
    ...d,
    failure_rate: failureRateOf(d.runs),
    previous_failure_rate: failureRateOf(d.previous_runs),
    failure_rate_target: FAILURE_RATE_TARGET,
    thresholds: WEEKLY_THRESHOLDS,
    recommendations: weeklyRecommendations(d),
  };
}
