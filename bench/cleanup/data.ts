// The benchmark's data: seeded with one INSERT … SELECT per table and kind of row, counted
// before the cleanup, and checked after it (exactly the expired rows gone, every other row kept).
import { performance } from 'node:perf_hooks';
import { one, type Client } from '../lib/db.js';
import { seedTenant } from '../lib/levqor.js';
import { load1 } from '../lib/machine.js';
import { round } from '../lib/stats.js';
import { DAY, DUE, EVENTS_PER_RUN, EXPIRED_RUNS, NULL_RUN_EVENTS, RECENT_RUNS, WORKFLOWS, log } from './config.js';

/** A counted or checked value, as the database or the CLI gave it. */
type Value = string | number | boolean | null | undefined;

export interface SeedInfo {
  now0: number;
  tenant: string;
  times: { label: string; rows: number | null; ms: number }[];
}

/** What must survive and what must go, counted from the data as seeded (sums are text: they are bigints). */
export interface Snapshot {
  events_of_old_runs: number;
  young_events_of_old_runs: number;
  old_runs: number;
  old_events: number;
  old_approvals: number;
  keep_runs: number;
  keep_runs_sum: string;
  keep_events: number;
  keep_events_sum: string;
  keep_approvals: number;
  keep_approvals_sum: string;
  pending: number;
  votes: number;
  audit: number;
  workflows: number;
  due: number;
}

/** What `levqor cleanup --json` printed. */
export interface CleanupResult {
  dry_run?: boolean;
  workflow_runs: number;
  workflow_events: number;
  approval_queue: number;
}

export interface After {
  expired_runs_left: number;
  expired_events_left: number;
  expired_approvals_left: number;
  runs: number;
  runs_sum: string;
  events: number;
  events_sum: string;
  approvals: number;
  approvals_sum: string;
  pending: number;
  orphan_votes: number;
  audit: number;
  workflows: number;
  due: number;
}

/** Seeds with one INSERT … SELECT per table and kind of row; returns the timings and the anchor time. */
export async function seed(c: Client): Promise<SeedInfo> {
  const times: SeedInfo['times'] = [];
  const step = async (label: string, sql: string, params: unknown[] = []) => {
    const t0 = performance.now();
    const r = await c.query(sql, params);
    times.push({ label, rows: r.rowCount, ms: performance.now() - t0 });
    log(`seed: ${label}: ${r.rowCount ?? ''} in ${round((performance.now() - t0) / 1000, 1)} s (load ${load1()})`);
    return r;
  };
  // Autovacuum is off for the scratch tables only (the server's own setting is reported as found).
  for (const t of ['workflow_runs', 'workflow_events', 'approval_queue', 'approval_votes', 'approval_events', 'audit_log', 'workflows']) {
    await c.query(`ALTER TABLE ${t} SET (autovacuum_enabled = false)`);
  }
  const { now0 } = await one<{ now0: number }>(c, 'SELECT extract(epoch FROM now())::float8 AS now0');
  const tenant = await seedTenant(c);
  await step(
    'workflows',
    `INSERT INTO workflows (tenant_id, name, steps, schedule_config, next_run_at)
    SELECT $1, 'wf-' || lpad(i::text, 3, '0'), '[{"type":"noop"}]',
      CASE WHEN i <= $3 THEN '{"enabled": true, "interval_minutes": 60}' ELSE '{"enabled": false}' END::jsonb,
      CASE WHEN i <= $3 THEN $2::float8 - 60 END
    FROM generate_series(1, $4::int) i`,
    [tenant, now0, DUE, WORKFLOWS],
  );
  const wf = `(SELECT array_agg(id ORDER BY name) AS ids FROM workflows)`;
  // Expired: one run every 20 s from 91 days back (about 322 days of history), oldest first as they were written.
  await step(
    'expired workflow_runs',
    `INSERT INTO workflow_runs (tenant_id, workflow_id, status, trigger, scheduled_for, started_at, finished_at, context)
    SELECT $1, w.ids[1 + i % ${WORKFLOWS}], 'succeeded', 'schedule', t, t, t + 5, '{"steps": [{"ok": true, "ms": 12}]}'
    FROM ${wf} w, generate_series(1, $3::int) i, LATERAL (SELECT $2::float8 - 91 * ${DAY} - ($3::int - i) * 20 AS t) x`,
    [tenant, now0, EXPIRED_RUNS],
  );
  await step(
    'expired workflow_events',
    `INSERT INTO workflow_events (tenant_id, run_id, workflow_id, type, step_index, payload, created_at)
    SELECT r.tenant_id, r.id, r.workflow_id, (ARRAY['run_started', 'step_finished', 'run_finished'])[k], CASE WHEN k = 2 THEN 0 END,
      jsonb_build_object('trigger', 'schedule', 'owner', 'host-1:4242', 'scheduled_for', r.scheduled_for), r.started_at + k
    FROM workflow_runs r, generate_series(1, ${EVENTS_PER_RUN}) k`,
  );
  // Recent: 100,000 runs over the last 89 days (a 2-day gap to the expired ones, so the clock moving
  // during the benchmark cannot move a row across the 90-day line); the newest still running or waiting.
  await step(
    'recent workflow_runs',
    `INSERT INTO workflow_runs (tenant_id, workflow_id, status, trigger, scheduled_for, started_at, finished_at, context, lease_owner, lease_expires_at)
    SELECT $1, w.ids[1 + j % ${WORKFLOWS}], s, 'schedule', t, t, CASE WHEN s IN ('succeeded', 'failed') THEN t + 5 END,
      '{"steps": [{"ok": true, "ms": 12}]}', CASE WHEN s = 'running' THEN 'host-1:4242' END, CASE WHEN s = 'running' THEN $2::float8 + 600 END
    FROM ${wf} w, generate_series(1, $3::int) j,
      LATERAL (SELECT $2::float8 - 89 * ${DAY} + (j - 1) * ((89 * ${DAY} - 3600) / $3::float8) AS t,
                      CASE WHEN j > $3 - 50 THEN 'waiting_approval' WHEN j > $3 - 70 THEN 'running'
                           WHEN j % 20 = 0 THEN 'failed' ELSE 'succeeded' END AS s) x`,
    [tenant, now0, RECENT_RUNS],
  );
  await step(
    'recent workflow_events',
    `INSERT INTO workflow_events (tenant_id, run_id, workflow_id, type, step_index, payload, created_at)
    SELECT r.tenant_id, r.id, r.workflow_id, (ARRAY['run_started', 'step_finished', 'run_finished'])[k], CASE WHEN k = 2 THEN 0 END,
      jsonb_build_object('trigger', 'schedule', 'owner', 'host-1:4242', 'scheduled_for', r.scheduled_for), r.started_at + k
    FROM workflow_runs r, generate_series(1, ${EVENTS_PER_RUN}) k WHERE r.started_at > $1::float8 - 90 * ${DAY}`,
    [now0],
  );
  await step(
    'recent events without a run',
    `INSERT INTO workflow_events (tenant_id, run_id, workflow_id, type, payload, created_at)
    SELECT $1, NULL, w.ids[1 + i % ${DUE}], 'slot_skipped', '{"reason": "catch_up: latest", "count": 1}', $2::float8 - i * 3600
    FROM ${wf} w, generate_series(1, $3::int) i`,
    [tenant, now0, NULL_RUN_EVENTS],
  );
  // Approvals: 500 processed long ago on expired runs, 300 processed 31–89 days ago on recent runs (both
  // go), 950 processed in the last 29 days and 50 pending (both stay); a vote and events for each.
  const approval = (status: string, processed: string) => `SELECT r.tenant_id, r.id, r.workflow_id, 0, 'deploy', 'B', 'Deploy svc-' || r.n,
      jsonb_build_object('service', 'svc-' || r.n, 'version', '1.2.' || r.n, 'env', 'prod', 'replicas', 3), md5(r.id::text),
      ${status}, 'schedule:wf', r.started_at, r.started_at + 86400, ${processed}, CASE WHEN ${processed} IS NULL THEN NULL ELSE 'alice' END`;
  const cols = `(tenant_id, run_id, workflow_id, step_index, action_type, impact_class, summary, payload, payload_hash,
      status, requested_by, requested_at, expires_at, processed_at, processed_by)`;
  await step(
    'approvals',
    `INSERT INTO approval_queue ${cols}
    ${approval("CASE WHEN r.n % 4 = 0 THEN 'rejected' ELSE 'approved' END", 'r.started_at + 600')}
    FROM (SELECT r.*, row_number() OVER (ORDER BY started_at) AS n FROM workflow_runs r WHERE started_at < $1::float8 - 90 * ${DAY}) r
    WHERE r.n % 2000 = 0
    UNION ALL
    ${approval("'approved'", 'r.started_at + 600')}
    FROM (SELECT r.*, row_number() OVER (ORDER BY started_at) AS n FROM workflow_runs r
          WHERE started_at BETWEEN $1::float8 - 89 * ${DAY} AND $1::float8 - 31 * ${DAY}) r WHERE r.n % 200 = 0 AND r.n <= 60000
    UNION ALL
    ${approval("'approved'", 'r.started_at + 600')}
    FROM (SELECT r.*, row_number() OVER (ORDER BY started_at) AS n FROM workflow_runs r
          WHERE started_at BETWEEN $1::float8 - 29 * ${DAY} AND $1::float8 - 7200 AND status IN ('succeeded', 'failed')) r WHERE r.n % 30 = 0 AND r.n <= 28500
    UNION ALL
    ${approval("'pending'", 'NULL::float8')}
    FROM (SELECT r.*, row_number() OVER (ORDER BY started_at) AS n FROM workflow_runs r WHERE status = 'waiting_approval') r`,
    [now0],
  );
  await step(
    'approval votes',
    `INSERT INTO approval_votes (tenant_id, approval_id, actor, channel, vote, created_at)
    SELECT tenant_id, id, 'alice', 'slack', CASE WHEN status = 'rejected' THEN 'reject' ELSE 'approve' END, processed_at
    FROM approval_queue WHERE status <> 'pending'`,
  );
  await step(
    'approval events',
    `INSERT INTO approval_events (tenant_id, approval_id, type, payload, created_at)
    SELECT tenant_id, id, 'requested', '{}'::jsonb, requested_at FROM approval_queue
    UNION ALL SELECT tenant_id, id, status, '{"by": "alice"}', processed_at FROM approval_queue WHERE status <> 'pending'`,
  );
  await step(
    'audit_log',
    `INSERT INTO audit_log (tenant_id, actor, action, subject, created_at)
    SELECT $1, 'alice', 'approval.decide', 'approval:' || i, $2::float8 - (100 + i % 265) * ${DAY} FROM generate_series(1, 1000) i`,
    [tenant, now0],
  );
  // Production's old rows have long been vacuumed (hint bits, visibility map) and analyzed.
  const t0 = performance.now();
  await c.query('VACUUM ANALYZE');
  times.push({ label: 'VACUUM ANALYZE', rows: null, ms: performance.now() - t0 });
  log(`seed: VACUUM ANALYZE in ${round((performance.now() - t0) / 1000, 1)} s`);
  return { now0, tenant, times };
}

/** What must survive and what must go, counted from the data as seeded. */
export async function snapshot(c: Client, now0: number): Promise<Snapshot> {
  const cut = `$1::float8 - 90 * ${DAY}`;
  // young_events_of_old_runs: events inside their window that go with an expired run (none are seeded).
  return one<Snapshot>(
    c,
    `SELECT j.*,
    (SELECT count(*) FROM workflow_runs WHERE started_at < ${cut})::int AS old_runs,
    (SELECT count(*) FROM workflow_events WHERE created_at < ${cut})::int AS old_events,
    (SELECT count(*) FROM approval_queue WHERE status <> 'pending' AND processed_at < $1::float8 - 30 * ${DAY})::int AS old_approvals,
    (SELECT count(*) FROM workflow_runs WHERE started_at >= ${cut})::int AS keep_runs,
    (SELECT coalesce(sum(hashtext(id::text)::bigint), 0)::text FROM workflow_runs WHERE started_at >= ${cut}) AS keep_runs_sum,
    (SELECT count(*) FROM workflow_events WHERE created_at >= ${cut})::int AS keep_events,
    (SELECT coalesce(sum(id), 0)::text FROM workflow_events WHERE created_at >= ${cut}) AS keep_events_sum,
    (SELECT count(*) FROM approval_queue WHERE NOT (status <> 'pending' AND processed_at < $1::float8 - 30 * ${DAY}))::int AS keep_approvals,
    (SELECT coalesce(sum(hashtext(id::text || coalesce(run_id::text, '-'))::bigint), 0)::text FROM approval_queue
       WHERE NOT (status <> 'pending' AND processed_at < $1::float8 - 30 * ${DAY})) AS keep_approvals_sum,
    (SELECT count(*) FROM approval_queue WHERE status = 'pending')::int AS pending,
    (SELECT count(*) FROM approval_votes)::int AS votes,
    (SELECT count(*) FROM audit_log)::int AS audit,
    (SELECT count(*) FROM workflows)::int AS workflows,
    (SELECT count(*) FROM workflows WHERE next_run_at <= extract(epoch FROM now()))::int AS due
    FROM (SELECT count(*)::int AS events_of_old_runs, (count(*) FILTER (WHERE e.created_at >= ${cut}))::int AS young_events_of_old_runs
          FROM workflow_events e JOIN workflow_runs r ON r.id = e.run_id WHERE r.started_at < ${cut}) j`,
    [now0],
  );
}

/** Checks the database after the cleanup against the snapshot; returns the problems found. */
export async function verify(
  c: Client,
  before: Snapshot,
  result: CleanupResult | null,
  claims: readonly { rows: number }[],
): Promise<{ problems: string[]; after: After }> {
  const problems: string[] = [];
  const want = (what: string, got: Value, exp: Value) => {
    if (String(got) !== String(exp)) problems.push(`${what}: ${got}, expected ${exp}`);
  };
  want('seeded expired runs', before.old_runs, EXPIRED_RUNS);
  want('seeded expired events', before.old_events, EXPIRED_RUNS * EVENTS_PER_RUN);
  want('seeded events attached to expired runs', before.events_of_old_runs, EXPIRED_RUNS * EVENTS_PER_RUN);
  want('seeded recent events attached to expired runs', before.young_events_of_old_runs, 0);
  want('seeded recent runs', before.keep_runs, RECENT_RUNS);
  want('seeded recent events', before.keep_events, RECENT_RUNS * EVENTS_PER_RUN + NULL_RUN_EVENTS);
  want('cleanup result workflow_runs', result?.workflow_runs, before.old_runs);
  want('cleanup result workflow_events', result?.workflow_events, before.old_events);
  want('cleanup result approval_queue', result?.approval_queue, before.old_approvals);
  const a = await one<After>(
    c,
    `SELECT
    (SELECT count(*) FROM workflow_runs WHERE started_at < extract(epoch FROM now()) - 90 * ${DAY})::int AS expired_runs_left,
    (SELECT count(*) FROM workflow_events WHERE created_at < extract(epoch FROM now()) - 90 * ${DAY})::int AS expired_events_left,
    (SELECT count(*) FROM approval_queue WHERE status <> 'pending' AND processed_at < extract(epoch FROM now()) - 30 * ${DAY})::int AS expired_approvals_left,
    (SELECT count(*) FROM workflow_runs)::int AS runs, (SELECT coalesce(sum(hashtext(id::text)::bigint), 0)::text FROM workflow_runs) AS runs_sum,
    (SELECT count(*) FROM workflow_events)::int AS events, (SELECT coalesce(sum(id), 0)::text FROM workflow_events) AS events_sum,
    (SELECT count(*) FROM approval_queue)::int AS approvals,
    (SELECT coalesce(sum(hashtext(id::text || coalesce(run_id::text, '-'))::bigint), 0)::text FROM approval_queue) AS approvals_sum,
    (SELECT count(*) FROM approval_queue WHERE status = 'pending')::int AS pending,
    (SELECT count(*) FROM approval_votes v WHERE NOT EXISTS (SELECT 1 FROM approval_queue q WHERE q.id = v.approval_id))::int AS orphan_votes,
    (SELECT count(*) FROM audit_log)::int AS audit,
    (SELECT count(*) FROM workflows)::int AS workflows,
    (SELECT count(*) FROM workflows WHERE next_run_at <= extract(epoch FROM now()))::int AS due`,
  );
  want('expired runs left', a.expired_runs_left, 0);
  want('expired events left', a.expired_events_left, 0);
  want('expired processed approvals left', a.expired_approvals_left, 0);
  want('runs left (all recent)', a.runs, before.keep_runs);
  want('checksum of runs left', a.runs_sum, before.keep_runs_sum);
  want('events left (all recent)', a.events, before.keep_events);
  want('checksum of events left', a.events_sum, before.keep_events_sum);
  want('approvals left', a.approvals, before.keep_approvals);
  want('checksum of approvals left (id, run_id)', a.approvals_sum, before.keep_approvals_sum);
  want('pending approvals', a.pending, before.pending);
  want('orphan votes', a.orphan_votes, 0);
  want('audit_log rows', a.audit, before.audit);
  want('workflows', a.workflows, before.workflows);
  want('due workflows', a.due, DUE);
  const short = claims.filter((s) => s.rows !== DUE).length;
  if (short) problems.push(`${short} claims returned fewer than ${DUE} workflows (a lock or a lost row?)`);
  return { problems, after: a };
}

/** Checks what `levqor cleanup --dry-run --json` printed against the snapshot; returns the problems found. */
export function verifyDryRun(before: Snapshot, result: CleanupResult | null): string[] {
  const problems: string[] = [];
  const want = (what: string, got: Value, exp: Value) => {
    if (String(got) !== String(exp)) problems.push(`dry run ${what}: ${got}, expected ${exp}`);
  };
  want('dry_run', result?.dry_run, true);
  want('workflow_runs', result?.workflow_runs, before.old_runs);
  want('workflow_events', result?.workflow_events, before.old_events + before.young_events_of_old_runs);
  want('approval_queue', result?.approval_queue, before.old_approvals);
  return problems;
}
