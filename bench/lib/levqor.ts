// Levqor as the benchmarks drive it: its environment, `levqor migrate`, seeded workflows, slots
// made due, and the counters read around a measurement.
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { one, rows, withPg, type Client } from './db.js';
import { postgresCpuSeconds, runProcess } from './proc.js';

/** The environment of a Levqor process: ours without LEVQOR_* settings and PGOPTIONS, plus the given ones. */
export function levqorEnv(url: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LEVQOR_') && k !== 'PGOPTIONS'));
  return { ...env, DATABASE_URL: url, LEVQOR_LOG_LEVEL: 'warn', ...extra };
}

/** `levqor migrate` (of the CLI at `cli`) on an empty database; its milliseconds. */
export async function migrateLevqor(cli: string, url: string): Promise<number> {
  const r = await runProcess(process.execPath, [cli, 'migrate'], { env: levqorEnv(url) });
  if (r.code !== 0) throw new Error(`levqor migrate failed (${r.code}): ${r.stderr || r.stdout}`);
  return r.ms;
}

/** What a CLI command printed with --json for its one result: an object (a one-element list before issue 25). */
export function parseCliResult<T>(stdout: string): T | null {
  const value = JSON.parse(stdout) as T | T[];
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

/** Creates the benchmark's tenant; its id. */
export async function seedTenant(c: Client): Promise<string> {
  return (await one<{ id: string }>(c, `INSERT INTO tenants (name) VALUES ('bench') RETURNING id`)).id;
}

/** `n` no-op workflows wf-1 … wf-n of tenant $1, hourly, next_run_at the SQL expression given (`i` is the workflow's number). */
export const seedWorkflowsSql = (n: number, nextRunAt: string): string =>
  `INSERT INTO workflows (tenant_id, name, steps, schedule_config, next_run_at)
   SELECT $1, 'wf-' || i, '[{"type":"noop"}]', '{"enabled": true, "interval_minutes": 60}', ${nextRunAt}
   FROM generate_series(1, ${n}) AS i`;

/** A tenant and `n` no-op workflows (see seedWorkflowsSql); the tenant's id. */
export async function seedWorkflows(c: Client, n: number, nextRunAt: string): Promise<string> {
  const tenant = await seedTenant(c);
  await c.query(seedWorkflowsSql(n, nextRunAt), [tenant]);
  return tenant;
}

/** Empties run history and makes `where` workflows due at a new slot; returns the slot. */
export async function resetDue(c: Client, where = 'true'): Promise<number> {
  // CASCADE: also whatever later migrations hang off runs and approvals.
  await c.query('TRUNCATE workflow_events, workflow_runs, scheduler_instances CASCADE');
  const { slot } = await one<{ slot: number }>(c, `SELECT (extract(epoch FROM now()) - 1)::float8 AS slot`);
  await c.query(`UPDATE workflows SET next_run_at = $1, last_run_at = NULL WHERE ${where}`, [slot]);
  await c.query('VACUUM ANALYZE workflows');
  await c.query('CHECKPOINT');
  return slot;
}

export interface SlotRunCounts {
  runs: number;
  succeeded: number;
  slots: number;
  workflows: number;
  other_slot: number;
}

/** The runs a scheduler benchmark made for one slot: how many, succeeded, distinct (workflow, slot) pairs and workflows, runs for another slot. */
export function slotRunCounts(c: Client, slot: number): Promise<SlotRunCounts> {
  return one<SlotRunCounts>(
    c,
    `SELECT count(*)::int AS runs, count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
            count(DISTINCT (workflow_id, scheduled_for))::int AS slots, count(DISTINCT workflow_id)::int AS workflows,
            count(*) FILTER (WHERE scheduled_for IS DISTINCT FROM $1)::int AS other_slot
     FROM workflow_runs`,
    [slot],
  );
}

/** A run's timeline entries (workflow_runs.timeline: its start, Class A steps, its end) as rows (run_id, type, step_index, created_at). */
export const TIMELINE_ENTRIES = `(SELECT r.id AS run_id, t.e ->> 'type' AS type, (t.e ->> 'step_index')::int AS step_index,
    (t.e ->> 'created_at')::float8 AS created_at FROM workflow_runs r, jsonb_array_elements(r.timeline) AS t(e))`;

/**
 * Exactly once, after schedulers ran `expected` due no-op workflows for `slot`: as many runs, all
 * succeeded, one per (workflow, slot), every due workflow moved on past now, one run_started, one
 * step_started and one run_finished on each run's timeline, and no workflow_events row (Class A
 * runs record on their timeline only).
 */
export async function verifyScheduledRuns(c: Client, expected: number, slot: number): Promise<{ problems: string[]; entriesPerRun: number }> {
  const r = await slotRunCounts(c, slot);
  const w = await one<{ ran: number; advanced: number; still_due: number }>(
    c,
    `SELECT count(*) FILTER (WHERE last_run_at IS NOT NULL)::int AS ran,
            count(*) FILTER (WHERE last_run_at IS NOT NULL AND next_run_at > $1 AND next_run_at > extract(epoch FROM now()))::int AS advanced,
            count(*) FILTER (WHERE next_run_at <= extract(epoch FROM now()))::int AS still_due
     FROM workflows`,
    [slot],
  );
  const e = await one<{ started: number; finished: number; stepped: number; steps: number; entries: number; ledger: number }>(
    c,
    `SELECT count(*) FILTER (WHERE type = 'run_started')::int AS started, count(*) FILTER (WHERE type = 'run_finished')::int AS finished,
            count(DISTINCT run_id) FILTER (WHERE type = 'step_started')::int AS stepped, count(*) FILTER (WHERE type = 'step_started')::int AS steps,
            count(*)::int AS entries, (SELECT count(*)::int FROM workflow_events) AS ledger
     FROM ${TIMELINE_ENTRIES} e`,
  );
  const problems: string[] = [];
  if (r.runs !== expected) problems.push(`${r.runs} runs, expected ${expected}`);
  if (r.succeeded !== r.runs) problems.push(`${r.runs - r.succeeded} runs did not succeed`);
  if (r.slots !== r.runs || r.workflows !== r.runs) problems.push(`duplicates: ${r.runs} runs, ${r.slots} distinct slots, ${r.workflows} workflows`);
  if (r.other_slot !== 0) problems.push(`${r.other_slot} runs for a slot other than ${slot}`);
  if (w.ran !== expected || w.advanced !== expected) problems.push(`${w.ran} workflows ran, ${w.advanced} advanced past now, expected ${expected}`);
  if (w.still_due !== 0) problems.push(`${w.still_due} workflows still due`);
  if (e.started !== expected || e.finished !== expected || e.steps !== expected || e.stepped !== expected) {
    problems.push(`timelines: ${e.started} run_started, ${e.steps} step_started (${e.stepped} runs), ${e.finished} run_finished`);
  }
  if (e.ledger !== 0) problems.push(`${e.ledger} workflow_events rows for Class A runs, expected none`);
  return { problems, entriesPerRun: e.entries / Math.max(1, r.runs) };
}

export interface Counters {
  commits: number;
  tuples: number;
  lsn: string;
  pgCpu: number | null;
}

/** Transactions committed in `db` so far, the WAL position and Postgres's CPU seconds. */
export async function counters(c: Client, db: string): Promise<Counters> {
  const s = await one<{ commits: string; tuples: string; lsn: string }>(
    c,
    `SELECT xact_commit::bigint AS commits, (tup_inserted + tup_updated + tup_deleted)::bigint AS tuples,
            pg_current_wal_lsn()::text AS lsn FROM pg_stat_database WHERE datname = $1`,
    [db],
  );
  return { commits: Number(s.commits), tuples: Number(s.tuples), lsn: s.lsn, pgCpu: postgresCpuSeconds() };
}

export interface CounterDelta {
  commits: number;
  /** Heap tuples inserted, updated and deleted in the database. */
  tuples: number;
  walMB: number;
  pgCpu: number | null;
}

/** Transactions committed in `db`, WAL written (server-wide) and Postgres CPU since `before`. */
export async function counterDelta(c: Client, db: string, before: Counters): Promise<CounterDelta> {
  await sleep(300); // exiting backends flush their statistics
  const after = await counters(c, db);
  const w = await one<{ bytes: number }>(c, 'SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::float8 AS bytes', [after.lsn, before.lsn]);
  return {
    commits: after.commits - before.commits,
    tuples: after.tuples - before.tuples,
    walMB: w.bytes / 2 ** 20,
    pgCpu: after.pgCpu === null || before.pgCpu === null ? null : after.pgCpu - before.pgCpu,
  };
}

export interface BackendSamples {
  samples: number;
  counts: Map<string, number>;
}

/**
 * Samples, every `everyMs` until `until` settles, what the Levqor backends of database `db` are
 * doing (pg_stat_activity): on CPU, waiting for the client, or a wait event. Connect with a `url`
 * to another database, so that the samples don't count as commits of `db`.
 */
export async function sampleBackends(url: string, db: string, until: Promise<unknown>, everyMs = 20): Promise<BackendSamples> {
  let done = false;
  until.then(
    () => (done = true),
    () => (done = true),
  );
  const counts = new Map<string, number>();
  let samples = 0;
  await withPg(url, async (c) => {
    while (!done) {
      const found = await rows<{ what: string }>(
        c,
        `SELECT CASE WHEN state = 'idle' THEN 'idle: between transactions, Node working'
                     WHEN state LIKE 'idle in transaction%' THEN 'idle in transaction: Node working inside a transaction'
                     WHEN wait_event IS NULL THEN 'active: on CPU'
                     ELSE 'active: waiting on ' || wait_event_type || ':' || wait_event END AS what
         FROM pg_stat_activity WHERE datname = $1 AND application_name = 'levqor' AND backend_type = 'client backend'`,
        [db],
      );
      for (const r of found) counts.set(r.what, (counts.get(r.what) ?? 0) + 1);
      samples++;
      await sleep(everyMs);
    }
  });
  return { samples, counts };
}

/** The sampled states, most seen first, each with its share: "active: on CPU 40 %, …". */
export function backendLine(b: BackendSamples): string {
  const total = [...b.counts.values()].reduce((x, y) => x + y, 0);
  return [...b.counts]
    .sort((x, y) => y[1] - x[1])
    .map(([k, v]) => `${k} ${Math.round((v / total) * 100)} %`)
    .join(', ');
}
