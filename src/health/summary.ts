import type { Queryable } from '../db/types.js';
import { createDeadline } from '../lib/deadline.js';
import { errorMessage } from '../lib/errors.js';
import { listAlertRules } from './alert-queries.js';
import { rulesAsThresholds } from './alert-rules.js';
import { healthFacts, pingDatabase, type SchedulerInstanceRow } from './queries.js';

/** How long a health probe waits for the database before it says "down" (the guarantee is an answer within 2 s). */
export const HEALTH_TIMEOUT_MS = 1_500;

/** The guide's target: workflow failure rate under 5 %. */
export const FAILURE_RATE_TARGET = 0.05;

interface SchedulerTick extends SchedulerInstanceRow {
  age_seconds: number;
}

interface HealthFacts {
  now: number;
  queues: {
    pending_approvals: number;
    due_unclaimed_workflows: number;
    queued_runs: number;
    running_runs: number;
    waiting_approval_runs: number;
  };
  runs_1h: { total: number; failed: number };
  runs_24h: { total: number; failed: number };
  schedulers: SchedulerTick[];
}

interface ErrorRate {
  window: '1h' | '24h';
  total: number;
  failed: number;
  rate: number | null;
  target: number;
  ok: boolean;
}

type HealthStatus = 'ok' | 'degraded' | 'down';

export interface HealthSummary {
  status: HealthStatus;
  reasons: string[];
  checked_at: string;
  uptime: { process_seconds: number; deployment_seconds: number | null };
  database: { ok: boolean; latency_ms: number | null; error?: string };
  queues: HealthFacts['queues'] | null;
  error_rates: ErrorRate[] | null;
  scheduler: { last_tick_at: number | null; age_seconds: number | null; stale: boolean; instances: SchedulerTick[] } | null;
}

export interface HealthThresholds {
  /** Seconds between scheduler ticks; stale after 3 of them without one. */
  schedulerIntervalSeconds: number;
  pendingApprovalsHigh: number;
  /** Fewer finished runs than this in a window say nothing about the failure rate. */
  minRunsForRate: number;
  /** Seconds without a tick before the scheduler is stale (default: 3 intervals); a tenant's scheduler_stale rule. */
  staleAfterSeconds?: number;
  /** The failure-rate target as a fraction (default FAILURE_RATE_TARGET); a tenant's failure_rate rule. */
  failureRateTarget?: number;
}

/** Everything the summary needs, in one round trip. */
async function readHealthFacts(db: Queryable, tenantId: string | null): Promise<HealthFacts> {
  const r = await healthFacts(db, tenantId);
  return {
    now: r.now,
    queues: {
      pending_approvals: r.pending_approvals,
      due_unclaimed_workflows: r.due_unclaimed_workflows,
      queued_runs: r.queued_runs,
      running_runs: r.running_runs,
      waiting_approval_runs: r.waiting_approval_runs,
    },
    runs_1h: { total: r.total_1h, failed: r.failed_1h },
    runs_24h: { total: r.total_24h, failed: r.failed_24h },
    schedulers: r.schedulers.map((s) => ({ ...s, age_seconds: Math.max(0, r.now - s.last_tick_at) })),
  };
}

function rate(window: '1h' | '24h', c: { total: number; failed: number }, minRuns: number, target: number): ErrorRate {
  const value = c.total === 0 ? null : c.failed / c.total;
  return { window, total: c.total, failed: c.failed, rate: value, target, ok: value === null || c.total < minRuns || value <= target };
}

/** Judges facts into ok / degraded with reasons (pure). */
function assessHealth(facts: HealthFacts, db: { latency_ms: number }, uptime: HealthSummary['uptime'], t: HealthThresholds): HealthSummary {
  const reasons: string[] = [];
  const target = t.failureRateTarget ?? FAILURE_RATE_TARGET;
  const errorRates = [rate('1h', facts.runs_1h, t.minRunsForRate, target), rate('24h', facts.runs_24h, t.minRunsForRate, target)];
  for (const e of errorRates) {
    if (!e.ok)
      reasons.push(
        `workflow failure rate over ${e.window} is ${((e.rate ?? 0) * 100).toFixed(1)} % (${e.failed} of ${e.total}), above the ${+(target * 100).toFixed(2)} % target`,
      );
  }
  const live = facts.schedulers.filter((s) => s.stopped_at === null);
  const latest = facts.schedulers[0];
  const staleAfter = t.staleAfterSeconds ?? 3 * t.schedulerIntervalSeconds;
  const stale = !latest || latest.age_seconds > staleAfter;
  if (!latest) reasons.push('no scheduler has ever ticked against this database');
  else if (stale)
    reasons.push(
      `no scheduler tick for ${Math.round(latest.age_seconds)} s (${t.staleAfterSeconds === undefined ? `more than 3 intervals of ${t.schedulerIntervalSeconds} s` : `threshold ${staleAfter} s`})`,
    );
  if (facts.queues.pending_approvals > t.pendingApprovalsHigh) {
    reasons.push(
      `${facts.queues.pending_approvals} approvals pending (threshold ${t.pendingApprovalsHigh}): approvers may be a bottleneck`,
    );
  }
  return {
    status: reasons.length ? 'degraded' : 'ok',
    reasons,
    checked_at: new Date(facts.now * 1000).toISOString(),
    uptime,
    database: { ok: true, latency_ms: db.latency_ms },
    queues: facts.queues,
    error_rates: errorRates,
    scheduler: {
      last_tick_at: latest?.last_tick_at ?? null,
      age_seconds: latest?.age_seconds ?? null,
      stale,
      instances: live.length ? live : facts.schedulers.slice(0, 5),
    },
  };
}

/**
 * The health summary: answers within `timeoutMs` even when the database hangs or is down,
 * saying so (`database.ok: false`, status `down`) instead of waiting.
 */
export async function healthSummary(
  db: Queryable,
  opts: HealthThresholds & { processStartedAt: number; timeoutMs?: number; nowMs?: () => number; tenantId?: string },
): Promise<HealthSummary> {
  const nowMs = opts.nowMs ?? Date.now;
  const started = nowMs();
  const processSeconds = Math.round(started / 1000 - opts.processStartedAt);
  const deadline = createDeadline(opts.timeoutMs ?? HEALTH_TIMEOUT_MS);
  try {
    const probeStart = nowMs();
    await deadline.race(pingDatabase(db));
    const latency = nowMs() - probeStart;
    const facts = await deadline.race(readHealthFacts(db, opts.tenantId ?? null));
    // A tenant's summary judges by the tenant's alert rules: the same truth its alerts use.
    const rules = opts.tenantId === undefined ? [] : await deadline.race(listAlertRules(db, opts.tenantId));
    const live = facts.schedulers.filter((s) => s.stopped_at === null && s.age_seconds <= 3 * opts.schedulerIntervalSeconds);
    const deploymentSince = live.length ? Math.min(...live.map((s) => s.started_at)) : null;
    return assessHealth(
      facts,
      { latency_ms: Math.round(latency * 10) / 10 },
      {
        process_seconds: processSeconds,
        deployment_seconds: deploymentSince === null ? null : Math.round(facts.now - deploymentSince),
      },
      rulesAsThresholds(rules, opts),
    );
  } catch (err) {
    return {
      status: 'down',
      reasons: [`database unreachable: ${errorMessage(err)}`],
      checked_at: new Date(started).toISOString(),
      uptime: { process_seconds: processSeconds, deployment_seconds: null },
      database: { ok: false, latency_ms: null, error: errorMessage(err) },
      queues: null,
      error_rates: null,
      scheduler: null,
    };
  } finally {
    deadline.clear();
  }
}
