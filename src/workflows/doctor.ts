import type { Queryable } from '../db/types.js';
import { dbNow } from '../db/now.js';
import type { WorkflowRow } from './queries.js';

export interface Check {
  check: string;
  ok: boolean;
  detail: string;
}

interface Facts {
  now: number;
  lastTick: { id: string; last_tick_at: number; stopped_at: number | null } | undefined;
  lastRun: { status: string; started_at: number; error: string | null } | undefined;
  lastFailure: { started_at: number; error: string | null } | undefined;
  active: { status: string; n: number }[];
}

function ago(seconds: number): string {
  const s = Math.abs(seconds);
  const text =
    s < 90
      ? `${Math.round(s)} s`
      : s < 5400
        ? `${Math.round(s / 60)} min`
        : s < 172_800
          ? `${(s / 3600).toFixed(1)} h`
          : `${(s / 86_400).toFixed(1)} days`;
  return seconds >= 0 ? `${text} ago` : `in ${text}`;
}

/** The guide's "Workflow Not Running" checklist, evaluated for one workflow (pure). */
export function diagnose(wf: WorkflowRow, f: Facts, schedulerIntervalSeconds: number): Check[] {
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

/** Gathers the facts for diagnose() from the database. */
export async function gatherFacts(db: Queryable, wf: WorkflowRow): Promise<Facts> {
  const now = await dbNow(db);
  const lastTick = (
    await db.query<Facts['lastTick'] & object>(
      'SELECT id, last_tick_at, stopped_at FROM scheduler_instances ORDER BY last_tick_at DESC LIMIT 1',
    )
  ).rows[0];
  const lastRun = (
    await db.query<NonNullable<Facts['lastRun']>>(
      'SELECT status, started_at, error FROM workflow_runs WHERE workflow_id = $1 ORDER BY started_at DESC LIMIT 1',
      [wf.id],
    )
  ).rows[0];
  const lastFailure = (
    await db.query<NonNullable<Facts['lastFailure']>>(
      `SELECT started_at, error FROM workflow_runs WHERE workflow_id = $1 AND status = 'failed' ORDER BY started_at DESC LIMIT 1`,
      [wf.id],
    )
  ).rows[0];
  const active = (
    await db.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM workflow_runs
     WHERE workflow_id = $1 AND status IN ('queued', 'running', 'waiting_approval') GROUP BY status ORDER BY status`,
      [wf.id],
    )
  ).rows;
  return { now, lastTick, lastRun, lastFailure, active };
}

/** The "Workflow Not Running" checklist for one workflow, read from the database: what `levqor doctor WORKFLOW` and the console show. */
export async function checkWorkflow(db: Queryable, wf: WorkflowRow, schedulerIntervalSeconds: number): Promise<Check[]> {
  return diagnose(wf, await gatherFacts(db, wf), schedulerIntervalSeconds);
}
