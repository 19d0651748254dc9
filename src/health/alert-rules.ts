import { AppError } from '../lib/errors.js';
import type { AlertKind } from './queries.js';
import type { HealthThresholds } from './summary.js';

/** The guide's "Monitoring Best Practices" as tenant alert rules, in evaluation order. */
export const ALERT_RULES = ['scheduler_stale', 'approval_queue_depth', 'failure_rate'] as const satisfies readonly AlertKind[];

/** What each rule's threshold means, for `levqor alerts list` and the docs. */
export const ALERT_RULE_DOCS: Record<AlertKind, { unit: string; doc: string }> = {
  scheduler_stale: { unit: 's', doc: 'seconds without a scheduler tick before the alert fires (default: 3 scheduler intervals)' },
  approval_queue_depth: { unit: 'pending', doc: 'pending approvals above which the alert fires (default LEVQOR_ALERT_PENDING_APPROVALS)' },
  failure_rate: { unit: '%', doc: 'workflow failure rate over the last hour, in percent, above which the alert fires (guide: < 5 %)' },
};

/** A tenant's rule as stored. */
export interface AlertRule {
  rule: AlertKind;
  threshold: number;
  enabled: boolean;
  updated_at: number;
  updated_by: string;
}

/** Fewer finished runs than this in the last hour say nothing about the failure rate. */
export const MIN_RUNS_FOR_RATE = 20;

/** The values a new tenant's rules start from: the guide's thresholds and this process's configuration. */
export function defaultAlertThresholds(t: { schedulerIntervalSeconds: number; pendingApprovalsHigh: number }): Record<AlertKind, number> {
  return { scheduler_stale: 3 * t.schedulerIntervalSeconds, approval_queue_depth: t.pendingApprovalsHigh, failure_rate: 5 };
}

/** Checks a rule name and threshold from a face: AppError naming what is wrong. */
export function parseAlertRule(rule: string, threshold?: number): AlertKind {
  const known = ALERT_RULES.find((r) => r === rule);
  if (!known) throw new AppError('bad_input', `unknown alert rule "${rule}": use one of ${ALERT_RULES.join(', ')}`);
  if (threshold !== undefined) {
    if (!Number.isFinite(threshold) || threshold < 0) throw new AppError('bad_input', `--threshold for ${rule} must be a number ≥ 0`);
    if (known === 'failure_rate' && threshold > 100)
      throw new AppError('bad_input', '--threshold for failure_rate is a percentage (0–100)');
  }
  return known;
}

/** What one tenant's alert rules look at. */
export interface AlertFacts {
  pending_approvals: number;
  /** Seconds since the most recent scheduler tick; null: no scheduler ever ticked. */
  tick_age_seconds: number | null;
  runs_1h: { total: number; failed: number };
}

/** One rule read against the facts: whether it holds, and the current value in words. */
export interface RuleReading {
  kind: AlertKind;
  active: boolean;
  message: string;
  detail: Record<string, unknown>;
}

function readRule(rule: AlertRule, f: AlertFacts): RuleReading {
  const th = rule.threshold;
  switch (rule.rule) {
    case 'scheduler_stale': {
      const age = f.tick_age_seconds;
      const over = age === null || age > th;
      const message =
        age === null
          ? 'no scheduler has ever ticked'
          : over
            ? `no scheduler tick for ${Math.round(age)} s (threshold ${th} s)`
            : `last scheduler tick ${Math.round(age)} s ago (threshold ${th} s)`;
      return { kind: rule.rule, active: over, message, detail: { age_seconds: age, threshold: th } };
    }
    case 'approval_queue_depth': {
      const pending = f.pending_approvals;
      return {
        kind: rule.rule,
        active: pending > th,
        message: `${pending} approvals pending (threshold ${th})`,
        detail: { pending, threshold: th },
      };
    }
    case 'failure_rate': {
      const { total, failed } = f.runs_1h;
      const rate = total === 0 ? null : failed / total;
      const detail = { rate, failed, total, threshold: th };
      if (rate === null) return { kind: rule.rule, active: false, message: 'no finished runs in the last hour', detail };
      const pct = `${(rate * 100).toFixed(1)} %`;
      const active = total >= MIN_RUNS_FOR_RATE && rate * 100 > th;
      const judged =
        total >= MIN_RUNS_FOR_RATE ? (active ? `above ${th} %` : `at or below ${th} %`) : `too few runs to judge (< ${MIN_RUNS_FOR_RATE})`;
      return {
        kind: rule.rule,
        active,
        message: `workflow failure rate ${pct} over the last hour (${failed} of ${total}), ${judged}`,
        detail,
      };
    }
  }
}

/** Reads every rule against the facts (pure); a disabled rule never holds and says so. */
export function readAlertRules(rules: readonly AlertRule[], facts: AlertFacts): RuleReading[] {
  return rules.map((r) => {
    const reading = readRule(r, facts);
    return r.enabled ? reading : { ...reading, active: false, message: `${reading.message}; rule disabled` };
  });
}

/** A tenant's enabled rules as the health summary's thresholds; disabled or unstored rules leave the base (pure). */
export function rulesAsThresholds(rules: readonly AlertRule[], base: HealthThresholds): HealthThresholds {
  const t: HealthThresholds = { ...base };
  for (const r of rules.filter((x) => x.enabled)) {
    if (r.rule === 'scheduler_stale') t.staleAfterSeconds = r.threshold;
    else if (r.rule === 'approval_queue_depth') t.pendingApprovalsHigh = r.threshold;
    else t.failureRateTarget = r.threshold / 100;
  }
  return t;
}
