import { FAILURE_RATE_TARGET } from '../health/summary.js';
import { compareText, duration, int, pct, ratio } from './format.js';
import type { WeeklyData } from './weekly-data.js';

/** The thresholds the weekly rules use; every recommendation names the number that crossed one. */
export const WEEKLY_THRESHOLDS = {
  /** Fewer finished runs than this say nothing about a failure rate. */
  minFinishedRuns: 20,
  /** A single workflow failing this share of its runs (with at least `minWorkflowRuns`). */
  workflowFailureRate: 0.25,
  minWorkflowRuns: 5,
  /** p95 duration growth week over week, when last week's p95 was at least `minP95Seconds`. */
  p95Growth: 0.5,
  minP95Seconds: 1,
  /** Median time from request to decision. */
  decisionMedianSeconds: 4 * 3600,
  /** Share of requests that expired or were rejected, with at least `minRequests`. */
  expiredShare: 0.1,
  rejectedShare: 0.3,
  minRequests: 5,
  /** p95 of how late scheduled runs started. */
  scheduleLagP95Seconds: 120,
} as const;

export interface Recommendation {
  /** Stable rule id, e.g. "failure-rate". */
  rule: string;
  /** What to do, with the number that triggered it. */
  message: string;
  /** The measured value and the threshold it crossed. */
  evidence: { value: number; threshold: number };
}

type Rule = (d: WeeklyData) => Recommendation | Recommendation[] | undefined;
const T = WEEKLY_THRESHOLDS;

const failureRate: Rule = (d) => {
  const finished = d.runs.succeeded + d.runs.failed;
  const rate = ratio(d.runs.failed, finished);
  if (rate === null || finished < T.minFinishedRuns || rate <= FAILURE_RATE_TARGET) return undefined;
  const worst = [...d.workflows].sort((a, b) => b.failed - a.failed || compareText(a.workflow, b.workflow))[0];
  return {
    rule: 'failure-rate',
    message: `Failure rate ${pct(rate)} is above the ${pct(FAILURE_RATE_TARGET)} target (${int(d.runs.failed)} of ${int(finished)} finished runs failed)${worst ? `; start with \`${worst.workflow}\` (${int(worst.failed)} failures)` : ''}.`,
    evidence: { value: rate, threshold: FAILURE_RATE_TARGET },
  };
};

const failingWorkflows: Rule = (d) =>
  d.workflows
    .filter((w) => w.runs >= T.minWorkflowRuns && (ratio(w.failed, w.succeeded + w.failed) ?? 0) >= T.workflowFailureRate)
    .map((w) => {
      const rate = ratio(w.failed, w.succeeded + w.failed) ?? 0;
      return {
        rule: 'workflow-failing',
        message: `\`${w.workflow}\` failed ${int(w.failed)} of ${int(w.succeeded + w.failed)} finished runs (${pct(rate)}, threshold ${pct(T.workflowFailureRate)}): fix or pause it (\`levqor doctor ${w.workflow}\`).`,
        evidence: { value: rate, threshold: T.workflowFailureRate },
      };
    });

const slower: Rule = (d) => {
  const now = d.runs.p95_seconds;
  const before = d.previous_runs.p95_seconds;
  if (now === null || before === null || before < T.minP95Seconds) return undefined;
  const growth = (now - before) / before;
  if (growth < T.p95Growth) return undefined;
  return {
    rule: 'p95-growth',
    message: `p95 run duration rose from ${duration(before)} to ${duration(now)} (+${(growth * 100).toFixed(0)} %, threshold +${(T.p95Growth * 100).toFixed(0)} %): check the slowest workflows below.`,
    evidence: { value: growth, threshold: T.p95Growth },
  };
};

const slowDecisions: Rule = (d) => {
  const median = d.approvals.median_decision_seconds;
  if (median === null || median <= T.decisionMedianSeconds) return undefined;
  return {
    rule: 'slow-decisions',
    message: `Approvals waited a median of ${duration(median)} for a decision (threshold ${duration(T.decisionMedianSeconds)}): add approvers or route requests to Slack.`,
    evidence: { value: median, threshold: T.decisionMedianSeconds },
  };
};

const expired: Rule = (d) => {
  const a = d.approvals;
  const share = ratio(a.expired, a.requested);
  if (share === null || a.requested < T.minRequests || share < T.expiredShare) return undefined;
  return {
    rule: 'expired-approvals',
    message: `${int(a.expired)} of ${int(a.requested)} approval requests expired undecided (${pct(share)}, threshold ${pct(T.expiredShare)}): runs were lost waiting; widen the approver group or raise the TTL.`,
    evidence: { value: share, threshold: T.expiredShare },
  };
};

const rejected: Rule = (d) => {
  const a = d.approvals;
  const share = ratio(a.rejected, a.requested);
  if (share === null || a.requested < T.minRequests || share < T.rejectedShare) return undefined;
  const top = d.reject_reasons[0];
  return {
    rule: 'rejected-approvals',
    message: `${int(a.rejected)} of ${int(a.requested)} approval requests were rejected (${pct(share)}, threshold ${pct(T.rejectedShare)})${top ? `; most often "${top.reason}" (${int(top.count)}×)` : ''}: change the workflows that ask for them.`,
    evidence: { value: share, threshold: T.rejectedShare },
  };
};

const lateSchedules: Rule = (d) => {
  const lag = d.scheduler.lag_p95_seconds;
  if (lag === null || lag <= T.scheduleLagP95Seconds) return undefined;
  return {
    rule: 'schedule-lag',
    message: `Scheduled runs started up to ${duration(lag)} late (p95, threshold ${duration(T.scheduleLagP95Seconds)}): run the scheduler more often or add a replica.`,
    evidence: { value: lag, threshold: T.scheduleLagP95Seconds },
  };
};

const idle: Rule = (d) => {
  if (d.runs.runs > 0 || d.scheduler.active_schedules === 0) return undefined;
  return {
    rule: 'no-runs',
    message: `No runs this week although ${int(d.scheduler.active_schedules)} workflows have active schedules: is a scheduler running? (\`levqor doctor <workflow>\`).`,
    evidence: { value: 0, threshold: 1 },
  };
};

const RULES: readonly Rule[] = [failureRate, failingWorkflows, slower, slowDecisions, expired, rejected, lateSchedules, idle];

/** Applies every weekly rule in a fixed order; the same data gives the same list. */
export function weeklyRecommendations(d: WeeklyData): Recommendation[] {
  return RULES.flatMap((rule) => {
    const out = rule(d);
    return out === undefined ? [] : Array.isArray(out) ? out : [out];
  });
}
