import type { Queryable } from '../db/types.js';
import { span } from '../lib/span.js';
import { readDoctorFacts, type DoctorFacts } from './doctor-queries.js';
import type { WorkflowRow } from './queries.js';

export interface Check {
  check: string;
  ok: boolean;
  detail: string;
}

function ago(seconds: number): string {
  const text = span(seconds);
  return seconds >= 0 ? `${text} ago` : `in ${text}`;
}

/** The guide's "Workflow Not Running" checklist, evaluated for one workflow (pure). */
function diagnose(wf: WorkflowRow, f: DoctorFacts, schedulerIntervalSeconds: number): Check[] {
  const checks: Check[] = [];
  checks.push({
    check: 'is_active',
    ok: wf.is_active,
    detail: wf.is_active ? 'true' : 'false: the scheduler ignores it (levqor workflow apply with is_active: true)',
  });
  const enabled = wf.schedule_config.enabled === true;
  checks.push({
    check: 'schedule_config.enabled',
    ok: enabled,
    detail: enabled ? 'true' : 'false: it runs only when started by hand (levqor run)',
  });
  const next = wf.next_run_at;
  checks.push({
    check: 'next run',
    ok: next !== null,
    detail:
      next === null ? 'none planned' : `${new Date(next * 1000).toISOString()} (${ago(f.now - next)}${next <= f.now ? ', due now' : ''})`,
  });
  const tickAge = f.lastTick ? f.now - f.lastTick.last_tick_at : Infinity;
  const alive = tickAge <= Math.max(3 * schedulerIntervalSeconds, 600);
  checks.push({
    check: 'scheduler running',
    ok: alive,
    detail: f.lastTick
      ? `last tick ${ago(tickAge)} by ${f.lastTick.id}${alive ? '' : ': no scheduler has ticked recently — start `levqor scheduler` or the cron entry'}`
      : 'no scheduler has ever ticked against this database — start `levqor scheduler` (or `--once` from cron)',
  });
  const blocking = f.active.filter((a) => a.n > 0);
  checks.push({
    check: 'no run in progress',
    ok: blocking.length === 0 || wf.schedule_config.overlap === 'allow',
    detail:
      blocking.length === 0
        ? 'none'
        : `${blocking.map((a) => `${a.n} ${a.status}`).join(', ')}${wf.schedule_config.overlap === 'allow' ? '' : ': new slots are skipped until it ends (overlap: skip)'}`,
  });
  checks.push({
    check: 'last run',
    ok: !f.lastRun || f.lastRun.status !== 'failed',
    detail: f.lastRun
      ? `${f.lastRun.status} ${ago(f.now - f.lastRun.started_at)}${f.lastRun.error ? `: ${f.lastRun.error}` : ''}`
      : 'never ran',
  });
  if (f.lastFailure && f.lastRun?.status !== 'failed') {
    checks.push({
      check: 'last error',
      ok: true,
      detail: `${ago(f.now - f.lastFailure.started_at)}: ${f.lastFailure.error ?? '(no message)'}`,
    });
  }
  return checks;
}

/** The "Workflow Not Running" checklist for one workflow, read from the database: what `levqor doctor WORKFLOW` and the console show. */
export async function checkWorkflow(db: Queryable, wf: WorkflowRow, schedulerIntervalSeconds: number): Promise<Check[]> {
  return diagnose(wf, await readDoctorFacts(db, wf.id), schedulerIntervalSeconds);
}
