// Cleanup benchmark: `npm run bench:cleanup` (builds lib/cli.js first).
//
// One fresh database, migrated by `levqor migrate`, seeded with 1,000,000 expired runs and
// 3,000,000 expired events (plus recent rows that must survive and 200 due workflows), then:
// 1. the scheduler's claim transaction (from src/scheduler/claim.ts, rolled back) in a loop
//    for 30 s: its latency without cleanup;
// 2. the same loop while `levqor cleanup --json` runs in a child process: cleanup wall time,
//    rows/s, claim latency during it, the ratio of the p99s (target ≤ 2×);
// 3. every statement of the cleanup timed by the server (log_min_duration_statement), so
//    each batch is timed and the longest statement is known (target: none over 1 s);
// 4. a check that exactly the expired rows went and every recent row survived (exit 1 if not).
// Before the measurements, single 5,000-row batches of each kind run under EXPLAIN ANALYZE in
// rolled-back transactions, with variants, to show where a batch's time goes.
// Writes the `## Cleanup` section of bench/RESULTS.md and drops its database.
//
// Flags: --keep (keep the database), --baseline-seconds N (default 30).
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import {
  ADMIN_URL, ROOT, childCpuSeconds, createDatabase, dbUrl, dropDatabase, load1, machineInfo, postgresCpuSeconds,
  replaceSection, runProcess, startProcess, statementLabel, table, withPg,
} from './lib.mjs';

const KEEP = process.argv.includes('--keep');
const NO_WAIT = process.argv.includes('--no-wait');
/** --quick: a 5 % scale smoke test of the script itself; it does not write RESULTS.md. */
const QUICK = process.argv.includes('--quick');
const SCALE = QUICK ? 0.05 : 1;
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const BASELINE_S = arg('--baseline-seconds', QUICK ? 5 : 30);
const AFTER_S = Math.max(5, Math.round(BASELINE_S / 2));
const RESULTS = join(ROOT, 'bench/RESULTS.md');
const BUILT_CLI = join(ROOT, 'lib/cli.js');
// Other sessions rebuild lib/cli.js while we run: the cleanup runs a snapshot taken at start,
// under node_modules/ so that its bare imports resolve to the project's packages.
const SNAPSHOT_DIR = join(ROOT, 'node_modules/.cache/levqor-bench-cleanup');
// The whole of lib/ (the CLI is split into chunks), under node_modules/ so bare imports resolve.
const CLI = join(SNAPSHOT_DIR, `lib-${process.pid}`, 'cli.js');
const DB = `levqor_bench_cleanup_${process.pid}`;
/** The second database, for the suggested variant of the cleanup. */
const DB2 = `${DB}_b`;

const DAY = 86_400;
const EXPIRED_RUNS = 1_000_000 * SCALE;
const EVENTS_PER_RUN = 3;
const RECENT_RUNS = 100_000 * SCALE;
const NULL_RUN_EVENTS = 2_000;
const WORKFLOWS = 300;
const DUE = 200;
const CLAIM_LIMIT = 200;
/** One claim starts every CLAIM_PERIOD_MS (or right after the previous one when it took longer). */
const CLAIM_PERIOD_MS = 20;
const BATCH = 5000; // runCleanup's default (src/health/options.ts)

const created = new Set();
const log = (...a) => console.log('[bench:cleanup]', ...a);
const round = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : Number(x.toFixed(d)));
const int = (x) => (x === null || x === undefined ? 'n/a' : Math.round(x).toLocaleString('en'));
const loads3 = () => loadavg().map((l) => round(l, 2)).join(' / ');

/** The claim SELECT exactly as src/scheduler/claim.ts sends it (read from the source, so the two cannot drift). */
function claimSql() {
  const src = readFileSync(join(ROOT, 'src/scheduler/claim.ts'), 'utf8');
  const m = /tx\.query<DueRow>\(\s*`([\s\S]*?)`/.exec(src);
  if (!m || !/FOR UPDATE OF w SKIP LOCKED/.test(m[1])) throw new Error('could not find the claim SELECT in src/scheduler/claim.ts');
  return m[1];
}

function percentiles(xs) {
  if (xs.length === 0) return { n: 0, min: null, p50: null, p99: null, max: null, mean: null };
  const s = [...xs].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return { n: s.length, min: s[0], p50: at(0.5), p99: at(0.99), max: s.at(-1), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

function readFrom(path, from, to = statSync(path).size) {
  const buf = Buffer.alloc(Math.max(0, to - from));
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, buf.length, from);
  } finally {
    closeSync(fd);
  }
  return buf.toString('utf8');
}

/** Other benchmarks that ran (used CPU) during a measurement, for the report. */
const seenOthers = new Set();
/** A pgrep line of another benchmark: node or npm running a bench script, not a linter reading one. */
const isOtherBenchmark = (l) => Boolean(l) && !/bench\/(cleanup|lib)\.mjs/.test(l) && !/eslint|tsc|vitest|prettier|biome/.test(l);
/** Other benchmark processes (bench/*.mjs) running now: pgrep lines. */
function otherBenchmarks() {
  let found = [];
  try {
    found = execFileSync('pgrep', ['-af', 'bench/[A-Za-z0-9_/-]+\\.mjs'], { encoding: 'utf8' }).split('\n').filter(isOtherBenchmark);
  } catch {
    // pgrep exits 1 when nothing matches
  }
  return found;
}

/** The same, without blocking the event loop (the claim loop is timing). */
function otherBenchmarksAsync() {
  return new Promise((resolve) => {
    execFile('pgrep', ['-af', 'bench/[A-Za-z0-9_/-]+\\.mjs'], { encoding: 'utf8' }, (err, stdout) => {
      resolve(err ? [] : stdout.split('\n').filter(isOtherBenchmark));
    });
  });
}

/** CPU ticks used so far by the given processes and all their descendants (from /proc). */
function treeCpuTicks(pids) {
  const procs = new Map();
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const text = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(d), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // gone meanwhile
    }
  }
  const tree = new Set(pids);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, p] of procs) if (!tree.has(pid) && tree.has(p.ppid)) grew = tree.add(pid) && true;
  }
  let ticks = 0;
  for (const pid of tree) ticks += procs.get(pid)?.ticks ?? 0;
  return ticks;
}

/** Whether a session of another benchmark's database (levqor_bench_*) is running a statement or inside a transaction. */
async function benchBackendsWorking() {
  const { rows: [r] } = await withPg(ADMIN_URL, (c) => c.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname LIKE 'levqor\\_bench\\_%' AND datname NOT LIKE $1
       AND state IS NOT NULL AND state <> 'idle' AND pid <> pg_backend_pid()`, [`${DB}%`]));
  return r.n > 0;
}

/**
 * Waits (up to maxMinutes) until no other benchmark runs, since they would measure each other. Other
 * benchmarks that only wait for this one (no CPU, no statement in their databases for 45 s) do not count.
 */
async function waitForQuiet(maxMinutes = 10) {
  const t0 = performance.now();
  if (NO_WAIT) return { waitedS: 0, busy: otherBenchmarks().length > 0 };
  let lastLog = -60_000;
  let last = null;
  let idleSince = null;
  for (let others = otherBenchmarks(); others.length; others = otherBenchmarks()) {
    const now = performance.now();
    if (now - t0 > maxMinutes * 60_000) {
      log(`still busy after ${maxMinutes} min, measuring anyway: ${others.join(' | ')}`);
      return { waitedS: (now - t0) / 1000, busy: true };
    }
    const ticks = treeCpuTicks(others.map((l) => Number(l.split(' ')[0])));
    const working = await benchBackendsWorking();
    if (last && !working && (ticks - last.ticks) / 100 / ((now - last.at) / 1000) < 0.03) idleSince ??= last.at;
    else if (last) idleSince = null;
    last = { ticks, at: now };
    if (idleSince !== null && now - idleSince > 45_000) {
      log(`other benchmarks are idle (waiting for this one): going on: ${others.join(' | ')}`);
      return { waitedS: (now - t0) / 1000, busy: false, idleOthers: others.length };
    }
    if (now - lastLog > 60_000) {
      log(`waiting for other benchmarks to finish: ${others.join(' | ')}`);
      lastLog = now;
    }
    await sleep(5_000);
  }
  return { waitedS: (performance.now() - t0) / 1000, busy: false };
}

// ------------------------------------------------------------------------------ seed

/** Seeds with one INSERT … SELECT per table and kind of row; returns the timings and the anchor time. */
async function seed(c) {
  const times = [];
  const step = async (label, sql, params = []) => {
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
  const { rows: [{ now0 }] } = await c.query('SELECT extract(epoch FROM now())::float8 AS now0');
  const { rows: [{ id: tenant }] } = await c.query("INSERT INTO tenants (name) VALUES ('bench') RETURNING id");
  await step('workflows', `INSERT INTO workflows (tenant_id, name, steps, schedule_config, next_run_at)
    SELECT $1, 'wf-' || lpad(i::text, 3, '0'), '[{"type":"noop"}]',
      CASE WHEN i <= $3 THEN '{"enabled": true, "interval_minutes": 60}' ELSE '{"enabled": false}' END::jsonb,
      CASE WHEN i <= $3 THEN $2::float8 - 60 END
    FROM generate_series(1, $4::int) i`, [tenant, now0, DUE, WORKFLOWS]);
  const wf = `(SELECT array_agg(id ORDER BY name) AS ids FROM workflows)`;
  // Expired: one run every 20 s from 91 days back (about 322 days of history), oldest first as they were written.
  await step('expired workflow_runs', `INSERT INTO workflow_runs (tenant_id, workflow_id, status, trigger, scheduled_for, started_at, finished_at, context)
    SELECT $1, w.ids[1 + i % ${WORKFLOWS}], 'succeeded', 'schedule', t, t, t + 5, '{"steps": [{"ok": true, "ms": 12}]}'
    FROM ${wf} w, generate_series(1, $3::int) i, LATERAL (SELECT $2::float8 - 91 * ${DAY} - ($3::int - i) * 20 AS t) x`,
  [tenant, now0, EXPIRED_RUNS]);
  await step('expired workflow_events', `INSERT INTO workflow_events (tenant_id, run_id, workflow_id, type, step_index, payload, created_at)
    SELECT r.tenant_id, r.id, r.workflow_id, (ARRAY['run_started', 'step_finished', 'run_finished'])[k], CASE WHEN k = 2 THEN 0 END,
      jsonb_build_object('trigger', 'schedule', 'owner', 'host-1:4242', 'scheduled_for', r.scheduled_for), r.started_at + k
    FROM workflow_runs r, generate_series(1, ${EVENTS_PER_RUN}) k`);
  // Recent: 100,000 runs over the last 89 days (a 2-day gap to the expired ones, so the clock moving
  // during the benchmark cannot move a row across the 90-day line); the newest still running or waiting.
  await step('recent workflow_runs', `INSERT INTO workflow_runs (tenant_id, workflow_id, status, trigger, scheduled_for, started_at, finished_at, context, lease_owner, lease_expires_at)
    SELECT $1, w.ids[1 + j % ${WORKFLOWS}], s, 'schedule', t, t, CASE WHEN s IN ('succeeded', 'failed') THEN t + 5 END,
      '{"steps": [{"ok": true, "ms": 12}]}', CASE WHEN s = 'running' THEN 'host-1:4242' END, CASE WHEN s = 'running' THEN $2::float8 + 600 END
    FROM ${wf} w, generate_series(1, $3::int) j,
      LATERAL (SELECT $2::float8 - 89 * ${DAY} + (j - 1) * ((89 * ${DAY} - 3600) / $3::float8) AS t,
                      CASE WHEN j > $3 - 50 THEN 'waiting_approval' WHEN j > $3 - 70 THEN 'running'
                           WHEN j % 20 = 0 THEN 'failed' ELSE 'succeeded' END AS s) x`, [tenant, now0, RECENT_RUNS]);
  await step('recent workflow_events', `INSERT INTO workflow_events (tenant_id, run_id, workflow_id, type, step_index, payload, created_at)
    SELECT r.tenant_id, r.id, r.workflow_id, (ARRAY['run_started', 'step_finished', 'run_finished'])[k], CASE WHEN k = 2 THEN 0 END,
      jsonb_build_object('trigger', 'schedule', 'owner', 'host-1:4242', 'scheduled_for', r.scheduled_for), r.started_at + k
    FROM workflow_runs r, generate_series(1, ${EVENTS_PER_RUN}) k WHERE r.started_at > $1::float8 - 90 * ${DAY}`, [now0]);
  await step('recent events without a run', `INSERT INTO workflow_events (tenant_id, run_id, workflow_id, type, payload, created_at)
    SELECT $1, NULL, w.ids[1 + i % ${DUE}], 'slot_skipped', '{"reason": "catch_up: latest", "count": 1}', $2::float8 - i * 3600
    FROM ${wf} w, generate_series(1, $3::int) i`, [tenant, now0, NULL_RUN_EVENTS]);
  // Approvals: 500 processed long ago on expired runs, 300 processed 31–89 days ago on recent runs (both
  // go), 950 processed in the last 29 days and 50 pending (both stay); a vote and events for each.
  const approval = (status, processed) => `SELECT r.tenant_id, r.id, r.workflow_id, 0, 'deploy', 'B', 'Deploy svc-' || r.n,
      jsonb_build_object('service', 'svc-' || r.n, 'version', '1.2.' || r.n, 'env', 'prod', 'replicas', 3), md5(r.id::text),
      ${status}, 'schedule:wf', r.started_at, r.started_at + 86400, ${processed}, CASE WHEN ${processed} IS NULL THEN NULL ELSE 'alice' END`;
  const cols = `(tenant_id, run_id, workflow_id, step_index, action_type, impact_class, summary, payload, payload_hash,
      status, requested_by, requested_at, expires_at, processed_at, processed_by)`;
  await step('approvals', `INSERT INTO approval_queue ${cols}
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
    FROM (SELECT r.*, row_number() OVER (ORDER BY started_at) AS n FROM workflow_runs r WHERE status = 'waiting_approval') r`, [now0]);
  await step('approval votes', `INSERT INTO approval_votes (tenant_id, approval_id, actor, channel, vote, created_at)
    SELECT tenant_id, id, 'alice', 'slack', CASE WHEN status = 'rejected' THEN 'reject' ELSE 'approve' END, processed_at
    FROM approval_queue WHERE status <> 'pending'`);
  await step('approval events', `INSERT INTO approval_events (tenant_id, approval_id, type, payload, created_at)
    SELECT tenant_id, id, 'requested', '{}'::jsonb, requested_at FROM approval_queue
    UNION ALL SELECT tenant_id, id, status, '{"by": "alice"}', processed_at FROM approval_queue WHERE status <> 'pending'`);
  await step('audit_log', `INSERT INTO audit_log (tenant_id, actor, action, subject, created_at)
    SELECT $1, 'alice', 'approval.decide', 'approval:' || i, $2::float8 - (100 + i % 265) * ${DAY} FROM generate_series(1, 1000) i`, [tenant, now0]);
  // Production's old rows have long been vacuumed (hint bits, visibility map) and analyzed.
  const t0 = performance.now();
  await c.query('VACUUM ANALYZE');
  times.push({ label: 'VACUUM ANALYZE', rows: null, ms: performance.now() - t0 });
  log(`seed: VACUUM ANALYZE in ${round((performance.now() - t0) / 1000, 1)} s`);
  return { now0, tenant, times };
}

/** What must survive and what must go, counted from the data as seeded. */
async function snapshot(c, now0) {
  const cut = `$1::float8 - 90 * ${DAY}`;
  const { rows: [s] } = await c.query(`SELECT
    (SELECT count(*) FROM workflow_runs WHERE started_at < ${cut})::int AS old_runs,
    (SELECT count(*) FROM workflow_events WHERE created_at < ${cut})::int AS old_events,
    (SELECT count(*) FROM workflow_events e JOIN workflow_runs r ON r.id = e.run_id WHERE r.started_at < ${cut})::int AS events_of_old_runs,
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
    (SELECT count(*) FROM workflows WHERE next_run_at <= extract(epoch FROM now()))::int AS due`, [now0]);
  return s;
}

/** Checks the database after cleanup against the snapshot; returns the problems found. */
async function verify(c, now0, before, result, claims) {
  const problems = [];
  const want = (what, got, exp) => {
    if (String(got) !== String(exp)) problems.push(`${what}: ${got}, expected ${exp}`);
  };
  want('seeded expired runs', before.old_runs, EXPIRED_RUNS);
  want('seeded expired events', before.old_events, EXPIRED_RUNS * EVENTS_PER_RUN);
  want('seeded events attached to expired runs', before.events_of_old_runs, EXPIRED_RUNS * EVENTS_PER_RUN);
  want('seeded recent runs', before.keep_runs, RECENT_RUNS);
  want('seeded recent events', before.keep_events, RECENT_RUNS * EVENTS_PER_RUN + NULL_RUN_EVENTS);
  want('cleanup result workflow_runs', result?.workflow_runs, before.old_runs);
  want('cleanup result workflow_events', result?.workflow_events, before.old_events);
  want('cleanup result approval_queue', result?.approval_queue, before.old_approvals);
  const { rows: [a] } = await c.query(`SELECT
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
    (SELECT count(*) FROM workflows WHERE next_run_at <= extract(epoch FROM now()))::int AS due`);
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

// --------------------------------------------------------------------- batch anatomy

const plan = (rows) => rows.map((r) => r['QUERY PLAN']);
const pick = (lines) => {
  const trig = lines.filter((l) => /^Trigger /.test(l.trim())).map((l) => l.trim());
  const exec = Number(/Execution Time: ([\d.]+)/.exec(lines.join('\n'))?.[1]);
  const top = lines.find((l) => /Buffers:/.test(l))?.trim() ?? '';
  const scan = lines.map((l) => l.trim()).filter((l) => /(Index|Seq|Bitmap).*Scan/.test(l)).map((l) => l.replace(/\s+\(cost=.*$/, '').replace(/^->\s+/, ''));
  return { exec, trig, buffers: top, scans: [...new Set(scans(scan))] };
};
const scans = (xs) => xs.map((s) => s.replace(/ \(actual.*$/, ''));

/**
 * Single 5,000-row batches under EXPLAIN (ANALYZE, BUFFERS), each in a transaction that is rolled
 * back, on the data as seeded: the statements runCleanup sends and the alternatives to them.
 */
async function anatomy(c) {
  const cut = `extract(epoch FROM now()) - ${90 * DAY}`;
  const out = [];
  const explain = async (label, sql, params) => {
    const r = await c.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
    const p = pick(plan(r.rows));
    out.push({ label, ...p });
    return p;
  };
  const inTx = async (fn) => {
    await c.query('BEGIN');
    try {
      await c.query('SET LOCAL statement_timeout = 60000');
      await fn();
    } finally {
      await c.query('ROLLBACK');
    }
  };
  const ids = async (sql) => (await c.query(sql)).rows.map((r) => r.id);
  // Events phase.
  await inTx(async () => {
    await explain('events: SELECT … ORDER BY id LIMIT 5000 FOR UPDATE SKIP LOCKED (runCleanup)',
      `SELECT id FROM workflow_events WHERE created_at < ${cut} ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, [BATCH]);
  });
  await inTx(async () => {
    await explain('events: same, ORDER BY created_at', `SELECT id FROM workflow_events WHERE created_at < ${cut} ORDER BY created_at LIMIT $1 FOR UPDATE SKIP LOCKED`, [BATCH]);
  });
  await inTx(async () => {
    const ev = await ids(`SELECT id FROM workflow_events WHERE created_at < ${cut} ORDER BY id LIMIT ${BATCH}`);
    await explain('events: DELETE … WHERE id = ANY($1) (runCleanup)', 'DELETE FROM workflow_events WHERE id = ANY($1)', [ev]);
  });
  // Runs phase.
  await inTx(async () => {
    await explain('runs: SELECT … ORDER BY id LIMIT 5000 FOR UPDATE SKIP LOCKED (runCleanup; id is a random uuid)',
      `SELECT id FROM workflow_runs WHERE started_at < ${cut} ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, [BATCH]);
  });
  await inTx(async () => {
    await explain('runs: same, ORDER BY started_at', `SELECT id FROM workflow_runs WHERE started_at < ${cut} ORDER BY started_at LIMIT $1 FOR UPDATE SKIP LOCKED`, [BATCH]);
  });
  const runIds = `SELECT id FROM workflow_runs WHERE started_at < ${cut} ORDER BY id LIMIT ${BATCH}`;
  const runIdsByTime = `SELECT id FROM workflow_runs WHERE started_at < ${cut} ORDER BY started_at LIMIT ${BATCH}`;
  await inTx(async () => {
    const r = await ids(runIds);
    await explain("runs: DELETE events WHERE run_id = ANY($1) (runCleanup's explicit delete; here the events are still there)",
      'DELETE FROM workflow_events WHERE run_id = ANY($1::uuid[])', [r]);
    await explain('runs: DELETE runs WHERE id = ANY($1), events already gone (runCleanup, uuid order)', 'DELETE FROM workflow_runs WHERE id = ANY($1)', [r]);
  });
  await inTx(async () => {
    const r = await ids(runIdsByTime);
    await c.query('DELETE FROM workflow_events WHERE run_id = ANY($1::uuid[])', [r]);
    await explain('runs: same DELETE, batch taken in started_at order', 'DELETE FROM workflow_runs WHERE id = ANY($1)', [r]);
  });
  await inTx(async () => {
    const r = await ids(runIds);
    await explain('runs: DELETE runs with their events still there (runs first, ON DELETE CASCADE does the events)', 'DELETE FROM workflow_runs WHERE id = ANY($1)', [r]);
  });
  await inTx(async () => {
    await c.query('CREATE INDEX bench_approval_queue_run_idx ON approval_queue (run_id)');
    const r = await ids(runIds);
    await c.query('DELETE FROM workflow_events WHERE run_id = ANY($1::uuid[])', [r]);
    await explain('runs: DELETE runs, events gone, with an index on approval_queue (run_id) (not in the schema)', 'DELETE FROM workflow_runs WHERE id = ANY($1)', [r]);
  });
  // The counts runCleanup takes before each target, outside any transaction.
  await explain('count: SELECT count(*) FROM workflow_events WHERE created_at < … (runCleanup)', `SELECT count(*)::int AS n FROM workflow_events WHERE created_at < ${cut}`);
  await explain('count: SELECT count(*) FROM workflow_runs WHERE started_at < … (runCleanup)', `SELECT count(*)::int AS n FROM workflow_runs WHERE started_at < ${cut}`);
  const { rows: [sz] } = await c.query(`SELECT pg_relation_size('approval_queue') / 8192 AS aq_pages, (SELECT count(*) FROM approval_queue)::int AS aq_rows,
    pg_relation_size('workflow_runs') / 8192 AS runs_pages, pg_relation_size('workflow_events') / 8192 AS events_pages,
    pg_size_pretty(pg_total_relation_size('workflow_runs')) AS runs_total, pg_size_pretty(pg_total_relation_size('workflow_events')) AS events_total`);
  return { rows: out, sizes: sz };
}

// -------------------------------------------------------------------------- the claim

/** A separate connection running the claim transaction (BEGIN; claim SELECT; ROLLBACK) until `until` settles. */
async function claimLoop(url, sql, until) {
  const client = new pg.Client({ connectionString: url, application_name: 'levqor-bench-claim' });
  await client.connect();
  const { rows: [{ pid }] } = await client.query('SELECT pg_backend_pid() AS pid');
  let done = false;
  const stop = () => (done = true);
  const samples = [];
  const started = {};
  const ready = new Promise((resolve, reject) => Object.assign(started, { resolve, reject }));
  const run = (async () => {
    try {
      // Two warm-up claims, not recorded (plan cache, catalog cache).
      for (let i = 0; i < 2; i++) {
        await client.query('BEGIN');
        await client.query(sql, [CLAIM_LIMIT, null]);
        await client.query('ROLLBACK');
      }
      started.resolve();
      Promise.resolve(until()).then(stop, stop);
      while (!done) {
        const at = Date.now();
        const t0 = performance.now();
        await client.query('BEGIN');
        const t1 = performance.now();
        const r = await client.query(sql, [CLAIM_LIMIT, null]);
        const t2 = performance.now();
        await client.query('ROLLBACK');
        const t3 = performance.now();
        samples.push({ at, select: t2 - t1, tx: t3 - t0, rows: r.rowCount });
        const wait = CLAIM_PERIOD_MS - (t3 - t0);
        if (wait > 0 && !done) await sleep(wait);
      }
    } finally {
      await client.end();
    }
    return samples;
  })();
  run.catch((err) => started.reject(err));
  return { pid, ready, run };
}

/** Samples load and what the claim and cleanup backends (and every other backend on the server) are doing. */
function sampler(db) {
  let done = false;
  const counts = { cleanup: new Map(), claim: new Map() };
  const loads = [];
  const others = [];
  let samples = 0;
  // Other benchmarks: their CPU (process trees, from /proc) is read before and after, never during
  // the measurement; one that only waits for this one uses none and does not count.
  const t0 = Date.now();
  const seen = new Map(); // pid → command line
  for (const l of otherBenchmarks()) seen.set(Number(l.split(' ')[0]), l.replace(/^\d+\s+/, '').slice(0, 120));
  const ticks0 = new Map([...seen.keys()].map((pid) => [pid, treeCpuTicks([pid])]));
  const run = withPg(ADMIN_URL, async (c) => {
    let lastLoad = 0;
    let lastPgrep = 0;
    while (!done) {
      if (Date.now() - lastPgrep > 5000) {
        lastPgrep = Date.now();
        void otherBenchmarksAsync().then((f) => {
          for (const l of f) if (!seen.has(Number(l.split(' ')[0]))) seen.set(Number(l.split(' ')[0]), l.replace(/^\d+\s+/, '').slice(0, 120));
        });
      }
      const { rows } = await c.query(
        `SELECT datname = $1 AS ours, application_name AS app,
                CASE WHEN state = 'idle' THEN 'idle (between transactions)'
                     WHEN state LIKE 'idle in transaction%' THEN 'idle in transaction (client working)'
                     WHEN wait_event IS NULL THEN 'active: on CPU'
                     ELSE 'active: ' || wait_event_type || ':' || wait_event END AS what
         FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`, [db]);
      for (const r of rows) {
        const map = r.ours && r.app === 'levqor' ? counts.cleanup : r.ours && r.app === 'levqor-bench-claim' ? counts.claim : null;
        if (map) map.set(r.what, (map.get(r.what) ?? 0) + 1);
      }
      others.push(rows.filter((r) => !r.ours && r.what.startsWith('active')).length);
      samples++;
      if (Date.now() - lastLoad > 1000) {
        loads.push(loadavg()[0]);
        lastLoad = Date.now();
      }
      await sleep(50);
    }
  });
  return {
    stop: async () => {
      done = true;
      await run;
      const seconds = (Date.now() - t0) / 1000;
      let benchmarks = 0;
      for (const [pid, cmd] of seen) {
        const alive = existsSync(`/proc/${pid}`);
        const cpu = alive ? (treeCpuTicks([pid]) - (ticks0.get(pid) ?? 0)) / 100 / seconds : null;
        // Gone before the end (it finished: it ran), or used more than 3 % of a core.
        if (!alive || cpu > 0.03) {
          benchmarks++;
          seenOthers.add(cmd);
        }
      }
      return { counts, samples, loadMax: Math.max(...loads, 0), othersMean: others.reduce((a, b) => a + b, 0) / Math.max(1, others.length), benchmarks };
    },
  };
}

async function counters(c) {
  const { rows: [r] } = await c.query(`SELECT pg_current_wal_lsn()::text AS lsn,
    (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter)::int AS checkpoints,
    (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database())::bigint AS commits`);
  return r;
}

/** Baseline: the claim loop alone for `seconds`. */
async function baseline(url, sql, db, seconds, label) {
  const l0 = load1();
  const s = sampler(db);
  const loop = await claimLoop(url, sql, () => sleep(seconds * 1000));
  const samples = await loop.run;
  const sample = await s.stop();
  const l1 = load1();
  log(`${label}: ${samples.length} claims, select p50 ${round(percentiles(samples.map((x) => x.select)).p50)} ms, p99 ${round(percentiles(samples.map((x) => x.select)).p99)} ms (load ${l0} → ${l1})`);
  return { samples, loads: [l0, l1, round(sample.loadMax)], sample, busy: sample.benchmarks > 0 };
}

// ------------------------------------------------------------------------ the server log

/** Every duration line of database `db` in the log text: time, pid, server ms, statement label. */
function durationLines(text, db) {
  const out = [];
  const pending = new Map(); // parse/bind time waiting for its execute, per pid
  for (const line of text.split('\n')) {
    const m = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) (\S+) \[(\d+)\] \S*@(\S+) LOG: {2}duration: ([\d.]+) ms {2}(statement: |(parse|bind|execute) [^:]*: )(.*)$/.exec(line);
    if (!m || m[4] !== db) continue;
    const [, ts, zone, pid, , ms, , step, sql] = m;
    const at = zone === 'UTC' || zone === 'GMT' ? Date.parse(`${ts.replace(' ', 'T')}Z`) : Date.parse(ts);
    if (step === 'parse' || step === 'bind') {
      pending.set(pid, (pending.get(pid) ?? 0) + Number(ms));
      continue;
    }
    const extra = pending.get(pid) ?? 0;
    pending.delete(pid);
    out.push({ at, pid: Number(pid), ms: Number(ms) + extra, label: statementLabel(sql) });
  }
  return out;
}

const KINDS = [
  ['begin', /^BEGIN/],
  ['set', /^SET LOCAL statement_timeout/],
  ['count', /^SELECT count\(\*\)/],
  ['select', /^SELECT (id|\*) FROM (\w+)/],
  ['delete events of runs', /^DELETE FROM workflow_events WHERE run_id/],
  ['delete', /^DELETE FROM (\w+) WHERE id/],
  ['commit', /^COMMIT/],
  ['rollback', /^ROLLBACK/],
];
const kindOf = (label) => KINDS.find(([, re]) => re.test(label))?.[0] ?? 'other';

/** Groups the cleanup's statements into batches (BEGIN … COMMIT) and phases (one per table). */
function batches(lines) {
  const out = [];
  const counts = [];
  let cur = null;
  for (const l of lines) {
    const kind = kindOf(l.label);
    if (kind === 'count') {
      counts.push({ table: /FROM (\w+)/.exec(l.label)?.[1], ms: l.ms, at: l.at });
      continue;
    }
    if (kind === 'begin') {
      cur = { start: l.at - l.ms, ms: {}, server: 0, table: null };
      continue;
    }
    if (!cur) continue;
    cur.ms[kind] = (cur.ms[kind] ?? 0) + l.ms;
    cur.server += l.ms;
    if (kind === 'select') cur.table = /FROM (\w+)/.exec(l.label)?.[1];
    if (kind === 'commit' || kind === 'rollback') {
      cur.end = l.at;
      cur.wall = cur.end - cur.start;
      out.push(cur);
      cur = null;
    }
  }
  return { batches: out, counts };
}

// ------------------------------------------------------------------------------ report

function claimRow(label, samples, loads) {
  const s = percentiles(samples.map((x) => x.select));
  const t = percentiles(samples.map((x) => x.tx));
  return [label, s.n, round(s.min), round(s.p50), round(s.p99), round(s.max), round(t.p50), round(t.p99), round(t.max), loads];
}

function report(ctx) {
  const { machine, date, build, seedInfo, sizes, anat, base, during, after, cleanup, phases, longest, slow, verified, sample, variant, mine } = ctx;
  const b = percentiles(base.samples.map((x) => x.select));
  const d = percentiles(during.samples.map((x) => x.select));
  const bt = percentiles(base.samples.map((x) => x.tx));
  const dt = percentiles(during.samples.map((x) => x.tx));
  const ratio = d.p99 / b.p99;
  const ratioTx = dt.p99 / bt.p99;
  const rows = cleanup.result.workflow_runs + cleanup.result.workflow_events;
  const rate = rows / (cleanup.ms / 1000);
  const seedTotal = seedInfo.times.reduce((a, t) => a + t.ms, 0);
  const stateLine = (m) => [...m].sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${Math.round((v / sample.samples) * 100)} %`).join(', ');
  const phaseRows = phases.map((p) => {
    const w = percentiles(p.batches.map((x) => x.wall));
    const kinds = ['select', 'delete events of runs', 'delete', 'commit'].map((k) => percentiles(p.batches.map((x) => x.ms[k] ?? 0)));
    const tenth = Math.max(1, Math.floor(p.batches.length / 10));
    const mean = (xs) => xs.reduce((a, x) => a + x.wall, 0) / Math.max(1, xs.length);
    return [p.table, p.batches.length, int(p.rows), round(p.seconds, 1), int(p.rows / Math.max(p.seconds, 1e-9)),
      round(p.countMs, 0), `${round(kinds[0].p50, 0)} / ${round(kinds[0].max, 0)}`,
      p.table === 'workflow_runs' ? `${round(kinds[1].p50, 0)} / ${round(kinds[1].max, 0)}` : '–',
      `${round(kinds[2].p50, 0)} / ${round(kinds[2].max, 0)}`, `${round(kinds[3].p50, 1)} / ${round(kinds[3].max, 0)}`,
      `${round(w.p50, 0)} / ${round(w.p99, 0)} / ${round(w.max, 0)}`,
      `${round(mean(p.batches.slice(0, tenth)), 0)} → ${round(mean(p.batches.slice(-tenth)), 0)}`,
      p.claims ? `${p.claims.n} / ${round(p.claims.p50)} / ${round(p.claims.p99)} / ${round(p.claims.max)}` : '–'];
  });
  const anatRows = anat.rows.map((r) => [r.label, round(r.exec, 0), r.trig.map((t) => `\`${t.replace(/^Trigger (for constraint )?/, '')}\``).join('<br>') || '–',
    `\`${r.buffers.replace('Buffers: ', '')}\``, r.scans.map((s) => `\`${s}\``).join('<br>')]);
  const pass = (ok) => (ok ? 'met' : '**not met**');
  const busy = (m) => (m.busy ? ' — **another benchmark was running**' : '');
  // Statements at or over 1 s, grouped by session and statement, against all calls of that statement.
  const groups = new Map();
  for (const l of slow) {
    const key = `${l.who}\u0000${l.label}`;
    const g = groups.get(key) ?? { who: l.who, label: l.label, n: 0, max: 0 };
    g.n++;
    g.max = Math.max(g.max, l.ms);
    groups.set(key, g);
  }
  const calls = (label) => mine.filter((l) => l.label === label);
  const slowRows = [...groups.values()].map((g) => {
    const all = g.who === 'cleanup' ? calls(g.label) : [];
    return [g.who, `\`${g.label}\``, g.n, all.length || '–', all.length ? round(percentiles(all.map((l) => l.ms)).p50, 0) : '–', round(g.max, 0)];
  });
  // The suggested variant, phase by phase, against the CLI run.
  const v = variant;
  const vd = percentiles(v.samples.map((x) => x.select));
  const vRows = v.run.result.workflow_runs + v.run.result.workflow_events;
  let vLongest = { ms: 0, label: 'n/a' };
  for (const x of v.run.batches) for (const [k, ms] of Object.entries(x.ms)) if (ms > vLongest.ms) vLongest = { ms, label: `${k} (${x.table})` };
  const vPhase = (t) => {
    const pb = v.run.batches.filter((x) => x.table === t);
    if (!pb.length) return null;
    const w = percentiles(pb.map((x) => x.wall));
    const sel = percentiles(pb.map((x) => x.ms.select ?? 0));
    const del = percentiles(pb.map((x) => x.ms.delete ?? 0));
    const seconds = (pb.at(-1).end - pb[0].start) / 1000;
    return { n: pb.length, seconds, rows: pb.reduce((a, x) => a + x.rows, 0), w, sel, del };
  };
  const cmpRows = ['workflow_events', 'workflow_runs', 'approval_queue'].flatMap((t) => {
    const a = phases.find((p) => p.table === t);
    const b = vPhase(t);
    const aw = percentiles(a.batches.map((x) => x.wall));
    const as = percentiles(a.batches.map((x) => x.ms.select ?? 0));
    const ad = percentiles(a.batches.map((x) => (x.ms.delete ?? 0) + (x.ms['delete events of runs'] ?? 0)));
    return [
      [`${t}: as shipped`, round(a.seconds, 1), int(a.rows / Math.max(a.seconds, 1e-9)), round(a.countMs, 0), `${round(as.p50, 0)} / ${round(as.max, 0)}`, `${round(ad.p50, 0)} / ${round(ad.max, 0)}`, `${round(aw.p50, 0)} / ${round(aw.p99, 0)} / ${round(aw.max, 0)}`],
      b ? [`${t}: suggested`, round(b.seconds, 1), int(b.rows / Math.max(b.seconds, 1e-9)), '–', `${round(b.sel.p50, 0)} / ${round(b.sel.max, 0)}`, `${round(b.del.p50, 0)} / ${round(b.del.max, 0)}`, `${round(b.w.p50, 0)} / ${round(b.w.p99, 0)} / ${round(b.w.max, 0)}`] : [`${t}: suggested`, '–', '–', '–', '–', '–', '–'],
    ];
  });

  const an = (prefix) => anat.rows.find((r) => r.label.startsWith(prefix));
  const trig = (r, name) => Number(new RegExp(`${name}: time=([\\d.]+)`).exec(r?.trig.join(' ') ?? '')?.[1] ?? NaN);
  const dirtied = (r) => Number(/dirtied=(\d+)/.exec(r?.buffers ?? '')?.[1] ?? 0);
  const runsPhase = phases.find((p) => p.table === 'workflow_runs');
  const eventsPhase = phases.find((p) => p.table === 'workflow_events');
  const rp = (k) => percentiles(runsPhase.batches.map((x) => x.ms[k] ?? 0)).p50;
  const rw = percentiles(runsPhase.batches.map((x) => x.wall)).p50;
  const delRuns = an('runs: DELETE runs WHERE id = ANY($1), events already gone');
  const delIdx = an('runs: DELETE runs, events gone, with an index');
  const delCascade = an('runs: DELETE runs with their events still there');
  const preDel = an('runs: DELETE events WHERE run_id');
  const selId = an('runs: SELECT … ORDER BY id');
  const selTime = an('runs: same, ORDER BY started_at');
  const countEv = (t) => phases.find((p) => p.table === t)?.countMs;
  const maxDel = Math.max(...runsPhase.batches.map((x) => x.ms.delete ?? 0));
  const share = trig(delRuns, 'approval_queue_run_id_fkey') / (delRuns?.exec ?? NaN);
  const grow = (5000 - maxDel * (1 - share)) / (maxDel * share);
  const claimLockWaits = [...sample.counts.claim].filter(([k]) => /^active: Lock:/.test(k)).reduce((a, [, n]) => a + n, 0);
  const diagnosis = [
    `- **The runs phase is the cleanup**: ${round(runsPhase.seconds, 0)} s of ${round(cleanup.ms / 1000, 0)} s (${Math.round((runsPhase.seconds / (cleanup.ms / 1000)) * 100)} %), ${int(runsPhase.rows / runsPhase.seconds)} runs/s,
  against ${round(eventsPhase.seconds, 0)} s for three times as many events. A median runs batch (${round(rw, 0)} ms) is \`DELETE FROM workflow_runs\` ${round(rp('delete'), 0)} ms,
  \`SELECT … ORDER BY id … FOR UPDATE SKIP LOCKED\` ${round(rp('select'), 0)} ms and runCleanup's \`DELETE FROM workflow_events WHERE run_id = ANY($1)\`
  ${round(rp('delete events of runs'), 0)} ms — which deletes nothing here: the events phase already took every event of an expired run.`,
    `- **\`DELETE FROM workflow_runs\` is dominated by the ON DELETE SET NULL of \`approval_queue.run_id\`**: approval_queue has no index that serves
  \`run_id = $1\` (its one index on run_id is partial, \`WHERE status = 'pending'\`), so the foreign-key trigger scans the whole table
  (${sizes.aq_pages} pages) once per deleted run: ${round(trig(delRuns, 'approval_queue_run_id_fkey'), 0)} ms of a ${round(delRuns?.exec, 0)} ms batch in the anatomy below,
  against ${round(trig(delIdx, 'approval_queue_run_id_fkey'), 0)} ms (${round(delIdx?.exec, 0)} ms for the whole DELETE) with \`CREATE INDEX … ON approval_queue (run_id)\`.
  The cost grows with approval_queue × runs deleted: the slowest \`DELETE FROM workflow_runs\` already took ${int(maxDel)} ms with ${int(sizes.aq_rows)} approvals,
  so about ${round(grow, 1)}× as many approvals (~${int(sizes.aq_rows * grow)}) would put such batches past the 5 s \`statement_timeout\` (taking the trigger's
  ${Math.round(share * 100)} % share of the anatomy's DELETE as the part that grows with the table), and
  \`levqor cleanup\` (and the daily run in \`levqor serve\`) would then fail with an error instead of finishing.`,
    `- **Random uuid order scatters every runs batch over the heap**: \`ORDER BY id\` picks 5,000 runs from all over the table, so one batch
  locks and dirties ${int(dirtied(selId))} heap pages (${round(selId?.exec, 0)} ms), against ${int(dirtied(selTime))} pages (${round(selTime?.exec, 0)} ms) for \`ORDER BY started_at\`,
  which walks workflow_runs_started_idx and matches the insertion order. Each page is then written again after every checkpoint (full-page
  images): ${int(cleanup.walMB)} MiB of WAL and ${cleanup.checkpoints} checkpoints during the cleanup, ${int(v.walMB)} MiB and ${v.checkpoints} with the changes below.`,
    `- **Events first is the right order**, but the extra DELETE by run_id is not: deleting a batch's events through the cascade costs
  ${round(trig(delCascade, 'workflow_events_run_id_fkey'), 0)} ms of trigger time per 5,000 runs (one index probe per run) and the explicit \`DELETE … WHERE run_id = ANY($1)\`
  ${round(preDel?.exec, 0)} ms (the events of uuid-ordered runs sit on ${int(dirtied(preDel))} pages), while the events phase removes the same 15,000 events in
  physical order in three batches of ~${round(percentiles(eventsPhase.batches.map((x) => x.wall)).p50, 0)} ms. The cascade trigger still fires once per run when nothing is
  left (${round(trig(delRuns, 'workflow_events_run_id_fkey'), 0)} ms per batch), so the explicit DELETE only pays off for \`--archive\`, which must see the events.`,
    `- **The up-front \`count(*)\`** of each table runs outside the batches and outside any statement timeout: ${round(countEv('workflow_events'), 0)} ms for the events and
  ${round(countEv('workflow_runs'), 0)} ms for the runs here, growing with the table. It only feeds the progress bar (\`--json\` and \`levqor serve\` have none).`,
    `- **The claim is not blocked by the cleanup**: the two touch different rows (the claim locks workflows; its busy check reads a partial index of
  active runs), and the claim backend was seen waiting on a heavyweight lock in ${claimLockWaits} of ${sample.samples} samples; what raises its tail is CPU and I/O
  on two shared cores.`,
  ].join('\n');
  return `_Written by \`npm run bench:cleanup\` (bench/cleanup.mjs) on ${date}. Rerun it to refresh this section._

### Summary

- **Cleanup of ${int(cleanup.result.workflow_runs)} runs + ${int(cleanup.result.workflow_events)} events** (and ${int(cleanup.result.approval_queue)} processed approvals):
  **${round(cleanup.ms / 1000, 1)} s** wall (\`levqor cleanup --json\`, process start to exit), **${int(rate)} rows/s** (runs + events ÷ wall).
- **Claim p99 during cleanup / without: ${round(ratio)}×** (${round(d.p99)} ms against ${round(b.p99)} ms; the claim SELECT's round trip;
  the whole BEGIN … ROLLBACK transaction: ${round(ratioTx)}×). Target ≤ 2×: ${pass(ratio <= 2)}. Max during: ${round(d.max)} ms (without: ${round(b.max)} ms).
- **Longest statement of the cleanup: ${round(longest.ms, 0)} ms**, \`${longest.label}\`. Target no statement over 1 s: ${pass(slow.length === 0)}
  (${slow.length} statement(s) of the scratch database at or over 1,000 ms during the cleanup, listed below).
- Verified after the cleanup: ${verified}.
- **With the changes suggested below** (measured on a second database seeded the same way, same claim loop): **${round(v.run.ms / 1000, 1)} s**,
  **${int(vRows / (v.run.ms / 1000))} rows/s**, longest statement ${round(vLongest.ms, 0)} ms (client side), ${v.slow.length} statement(s) ≥ 1 s in the server log,
  claim p99 ${round(vd.p99)} ms = ${round(vd.p99 / b.p99)}× the baseline.

### Where the time goes

${diagnosis}

### Machine and build

- CPU: ${machine.cpu}, \`nproc\` = ${machine.nproc}; memory ${machine.memGiB} GiB. Postgres, the cleanup and the claim loop share these cores.
- ${machine.postgres} on the same machine (${machine.postgresSettings}); autovacuum was also switched off on the scratch tables.
- Node ${machine.node}. Levqor: lib/cli.js built from git ${build.head}${build.dirty ? ` plus uncommitted changes (${build.dirty} files under src/ or migrations/)` : ''},
  sha256 ${build.sha}…; src/maintenance/cleanup.ts sha256 ${build.cleanupSha}…; the cleanup ran a copy of lib/cli.js taken at start.
- Load average (1 / 5 / 15 min) at start: ${ctx.loadsStart}; at end: ${ctx.loadsEnd}. The machine and the server are shared with other
  sessions (test suites, other benchmarks): on average ${round(sample.othersMean, 1)} backends of other databases were active during the
  cleanup. Single numbers carry ±20 % noise or more; the load is listed with each measurement.
- ${ctx.wait.waitedS >= 1 ? `Waited ${Math.round(ctx.wait.waitedS)} s at start for other benchmarks to finish${ctx.wait.idleOthers ? ` (then went on: the ${ctx.wait.idleOthers} left were idle, waiting for this one)` : ''}. ` : ''}${ctx.others.length ? `Other benchmarks seen during the measurements: ${ctx.others.map((o) => `\`${o}\``).join(', ')} (flagged in the tables).` : 'No other benchmark (bench/*.mjs) ran during the measurements.'}

### Commands

\`\`\`sh
npm run bench:cleanup          # node scripts/build.mjs && node bench/cleanup.mjs [--keep] [--baseline-seconds N]
DATABASE_URL=postgres://…/DB node lib/cli.js migrate
ALTER DATABASE DB SET log_min_duration_statement = 1000; ALTER DATABASE DB SET log_parameter_max_length = 0
DATABASE_URL=postgres://…/DB PGOPTIONS='-c log_min_duration_statement=0 -c log_parameter_max_length=0' node lib/cli.js cleanup --json
\`\`\`

The cleanup's own sessions log every statement (PGOPTIONS; a per-session override of the database's 1,000 ms, which
still applies to the claim connection), so every batch is timed by the server: durations and times are read from
\`${ctx.logPath}\`. \`pg_stat_statements\` is not in \`shared_preload_libraries\` on this server, so it was not used.

**Seed** (${round(seedTotal / 1000, 1)} s in all, one \`INSERT … SELECT … generate_series\` per table and kind of row, nothing disabled but autovacuum):
${seedInfo.times.map((t) => `${t.label} ${t.rows === null ? '' : `${int(t.rows)} `}${round(t.ms / 1000, 1)} s`).join('; ')}.
One tenant, ${WORKFLOWS} workflows of which ${DUE} are due (\`next_run_at\` a minute ago); ${int(EXPIRED_RUNS)} succeeded runs started 91–322 days ago
(one per 20 s, oldest first; random uuid ids), ${EVENTS_PER_RUN} events each; ${int(RECENT_RUNS)} recent runs over the last 89 days (5 % failed, 20 running,
50 waiting for approval) with ${EVENTS_PER_RUN} events each, and ${int(NULL_RUN_EVENTS)} recent events without a run; ${int(sizes.aq_rows)} approvals (${sizes.aq_pages} pages):
500 processed on expired runs and 300 processed 31–89 days ago (both expired), 950 processed in the last 29 days and 50 pending (both kept),
one vote and one or two approval events each; 1,000 audit_log rows up to a year old. Then \`VACUUM ANALYZE\` (old rows in production have
long been vacuumed and analyzed) and a \`CHECKPOINT\` before each measurement. Sizes: workflow_runs ${sizes.runs_total} (heap ${int(sizes.runs_pages)} pages),
workflow_events ${sizes.events_total} (heap ${int(sizes.events_pages)} pages), indexes included.

**Claim loop**: one connection runs the claim transaction of src/scheduler/claim.ts (its SELECT read from the source file) —
\`BEGIN\`; the \`SELECT … FOR UPDATE OF w SKIP LOCKED\` with $1 = ${CLAIM_LIMIT}, $2 = NULL; \`ROLLBACK\` — one claim every ${CLAIM_PERIOD_MS} ms
(back to back when one takes longer), so the same ${DUE} workflows are claimed every time (checked: every claim returned ${DUE}).
"select" is the SELECT's round trip, "tx" the whole transaction.

### Claim latency (ms)

${table(['claim loop', 'claims', 'select min', 'select p50', 'select p99', 'select max', 'tx p50', 'tx p99', 'tx max', 'load at start / end / max'], [
    claimRow(`without cleanup, ${BASELINE_S} s before${busy(base)}`, base.samples, base.loads.join(' / ')),
    claimRow(`during cleanup (${round(cleanup.ms / 1000, 1)} s)${busy(during)}`, during.samples, during.loads.join(' / ')),
    claimRow(`without cleanup, ${AFTER_S} s after (dead rows left behind)${busy(after)}`, after.samples, after.loads.join(' / ')),
    claimRow(`during the suggested variant (${round(v.run.ms / 1000, 1)} s, second database)${busy({ busy: v.sample.benchmarks > 0 })}`, v.samples, v.loads.join(' / ')),
  ])}

**Ratio p99 during / without: ${round(ratio)}×** (select), ${round(ratioTx)}× (tx); p50 ${round(d.p50 / b.p50)}×.
What the backends were doing during the cleanup (pg_stat_activity every 50 ms, ${sample.samples} samples):
cleanup — ${stateLine(sample.counts.cleanup) || 'n/a'}; claim — ${stateLine(sample.counts.claim) || 'n/a'}.

### The cleanup

- \`levqor cleanup --json\` printed \`${JSON.stringify(cleanup.result)}\`, exit ${cleanup.code}, ${round(cleanup.ms / 1000, 1)} s wall;
  Node CPU ${round(cleanup.nodeCpu, 1)} s, Postgres CPU (server-wide) ${round(cleanup.pgCpu, 1)} s; ${int(cleanup.commits)} commits;
  WAL ${int(cleanup.walMB)} MiB (server-wide); ${cleanup.checkpoints} checkpoint(s) during it.
- Rows per second: **${int(rate)}** runs + events per second of wall time (${int(cleanup.result.workflow_runs / (cleanup.ms / 1000))} runs/s and ${int(cleanup.result.workflow_events / (cleanup.ms / 1000))} events/s).

Per phase, from the server log (ms; "a / b" is p50 / max over the phase's batches; a batch is BEGIN … COMMIT of ${int(BATCH)} rows;
"wall" is from BEGIN to the end of COMMIT, server and round trips; "first → last 10 %" is the mean batch wall of the first and last tenth):

${table(['phase', 'batches', 'rows', 'seconds', 'rows/s', 'count(*) ms', 'SELECT … FOR UPDATE', 'DELETE events of the runs', 'DELETE', 'COMMIT', 'batch wall p50 / p99 / max', 'first → last 10 %', 'claims: n / p50 / p99 / max'], phaseRows)}

Statements of the scratch database at or over 1,000 ms during the cleanup (the cleanup's sessions log all, the claim's ≥ 1 s):

${slowRows.length ? table(['session', 'statement (first line)', 'calls ≥ 1 s', 'calls', 'p50 ms of all calls', 'max ms'], slowRows) : '(none)'}

### Anatomy of one batch

Single batches of ${int(BATCH)} rows on the seeded data under \`EXPLAIN (ANALYZE, BUFFERS)\` (per-node timing makes them slower than in the
real run: read the differences), each in its own transaction, rolled back. approval_queue holds ${int(sizes.aq_rows)} rows (${sizes.aq_pages} pages) here.

${table(['statement', 'ms', 'FK triggers (time ms, calls)', 'buffers', 'scans'], anatRows)}

### The suggested changes, measured

A second database, seeded exactly like the first (seed ${round(v.seedMs / 1000, 1)} s), plus
\`CREATE INDEX approval_queue_run_idx ON approval_queue (run_id)\` (${round(v.indexMs, 0)} ms). The cleanup ran from this script as
runCleanup's loop does — \`BEGIN; SET LOCAL statement_timeout = 5000; SELECT id … LIMIT 5000 FOR UPDATE SKIP LOCKED; DELETE … WHERE id = ANY($1); COMMIT\`
per batch, events, then runs, then approvals — with three changes: no \`count(*)\` before each table; runs selected
\`ORDER BY started_at\` instead of \`ORDER BY id\`; no explicit \`DELETE FROM workflow_events WHERE run_id = ANY($1)\` before the runs
(ON DELETE CASCADE removes whatever is left). Statements timed client side (round trip included); the same claim loop ran
alongside (load at start / end / max ${v.loads.join(' / ')}); verified exactly like the CLI run.

${table(['', 'as shipped (`levqor cleanup`)', 'suggested'], [
    ['wall s', round(cleanup.ms / 1000, 1), round(v.run.ms / 1000, 1)],
    ['runs + events per second', int(rate), int(vRows / (v.run.ms / 1000))],
    ['longest statement ms', `${round(longest.ms, 0)} (server)`, `${round(vLongest.ms, 0)} (client, ${vLongest.label})`],
    ['statements ≥ 1 s (server log)', slow.length, v.slow.length],
    ['claim select p50 / p99 / max ms during', `${round(d.p50)} / ${round(d.p99)} / ${round(d.max)}`, `${round(vd.p50)} / ${round(vd.p99)} / ${round(vd.max)}`],
    ['claim p99 ÷ baseline p99', `${round(ratio)}×`, `${round(vd.p99 / b.p99)}×`],
    ['Postgres CPU s (server-wide)', round(cleanup.pgCpu, 1), round(v.pgCpu, 1)],
    ['WAL MiB (server-wide) / checkpoints', `${int(cleanup.walMB)} / ${cleanup.checkpoints}`, `${int(v.walMB)} / ${v.checkpoints}`],
  ])}

Per phase (ms; "as shipped" from the server log, "suggested" client side; DELETE includes runCleanup's DELETE of the runs' events):

${table(['phase', 'seconds', 'rows/s', 'count(*) ms', 'SELECT p50 / max', 'DELETE p50 / max', 'batch wall p50 / p99 / max'], cmpRows)}
`;
}

// ------------------------------------------------------------------- the suggested variant

/**
 * The cleanup with the changes this benchmark suggests, run from here as runCleanup's loop is
 * (BEGIN; SET LOCAL statement_timeout = 5000; SELECT … FOR UPDATE SKIP LOCKED; DELETE; COMMIT, 5,000
 * rows), each statement timed client side: no count(*) up front; runs taken in started_at order
 * (their index) instead of uuid order; no explicit DELETE of the runs' events (ON DELETE CASCADE
 * removes any left; it is needed only to archive them); an index on approval_queue (run_id) for
 * the ON DELETE SET NULL of approval_queue.run_id.
 */
async function suggestedCleanup(url) {
  const c = new pg.Client({ connectionString: url, application_name: 'levqor' });
  await c.connect();
  const targets = [
    { table: 'workflow_events', select: `SELECT id FROM workflow_events WHERE created_at < extract(epoch FROM now()) - $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`, days: 90 },
    { table: 'workflow_runs', select: `SELECT id FROM workflow_runs WHERE started_at < extract(epoch FROM now()) - $1 ORDER BY started_at LIMIT $2 FOR UPDATE SKIP LOCKED`, days: 90 },
    { table: 'approval_queue', select: `SELECT id FROM approval_queue WHERE status <> 'pending' AND processed_at < extract(epoch FROM now()) - $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`, days: 30 },
  ];
  const result = { workflow_events: 0, workflow_runs: 0, approval_queue: 0 };
  const out = [];
  const timed = async (b, k, sql, params) => {
    const t0 = performance.now();
    const r = await c.query(sql, params);
    b.ms[k] = (b.ms[k] ?? 0) + performance.now() - t0;
    return r;
  };
  const t0 = performance.now();
  try {
    for (const t of targets) {
      for (;;) {
        const b = { table: t.table, start: Date.now(), ms: {} };
        const w0 = performance.now();
        await timed(b, 'begin', 'BEGIN');
        await timed(b, 'set', 'SET LOCAL statement_timeout = 5000');
        const { rows } = await timed(b, 'select', t.select, [t.days * DAY, BATCH]);
        let n = 0;
        if (rows.length) n = (await timed(b, 'delete', `DELETE FROM ${t.table} WHERE id = ANY($1)`, [rows.map((r) => r.id)])).rowCount;
        await timed(b, 'commit', 'COMMIT');
        b.wall = performance.now() - w0;
        b.end = Date.now();
        b.rows = n;
        result[t.table] += n;
        if (n > 0) out.push(b);
        if (rows.length < BATCH) break;
      }
    }
  } finally {
    await c.end();
  }
  return { result, batches: out, ms: performance.now() - t0 };
}

/** A fresh database with the benchmark's data, migrated by `levqor migrate`. */
async function prepare(name) {
  const url = dbUrl(name);
  await createDatabase(name);
  created.add(name);
  const mig = await runProcess(process.execPath, [CLI, 'migrate'], { env: levqorEnv(url) });
  if (mig.code !== 0) throw new Error(`migrate failed (${mig.code}): ${mig.stderr || mig.stdout}`);
  return url;
}

// --------------------------------------------------------------------------------- main

async function snapshotBuild() {
  if (!existsSync(BUILT_CLI)) throw new Error('lib/cli.js is missing: run `npm run bench:cleanup` (it builds first)');
  mkdirSync(SNAPSHOT_DIR, { recursive: true });
  cpSync(dirname(BUILT_CLI), dirname(CLI), { recursive: true });
  const sha = createHash('sha256').update(readFileSync(CLI)).digest('hex').slice(0, 12);
  const cleanupSha = createHash('sha256').update(readFileSync(join(ROOT, 'src/maintenance/cleanup.ts'))).digest('hex').slice(0, 12);
  const git = async (args) => (await runProcess('git', args)).stdout.trim();
  const head = await git(['rev-parse', '--short', 'HEAD']);
  const dirty = (await git(['status', '--porcelain', '--', 'src', 'migrations'])).split('\n').filter(Boolean).length;
  return { sha, cleanupSha, head, dirty };
}

function levqorEnv(url, extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LEVQOR_') && k !== 'PGOPTIONS'));
  return { ...env, DATABASE_URL: url, LEVQOR_LOG_LEVEL: 'warn', ...extra };
}

async function main() {
  const t00 = performance.now();
  const build = await snapshotBuild();
  const machine = await machineInfo();
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const sql = claimSql();
  const wait = await waitForQuiet();
  const loadsStart = loads3();
  log(`machine: ${machine.cpu} ×${machine.nproc}, ${machine.postgres}, Node ${machine.node}; load ${loadsStart}; build ${build.sha}`);

  const url = await prepare(DB);

  const { seedInfo, before, anat, logPath } = await withPg(url, async (c) => {
    const seedInfo = await seed(c);
    const before = await snapshot(c, seedInfo.now0);
    log(`seeded: ${JSON.stringify(before)}`);
    const anat = await anatomy(c);
    for (const r of anat.rows) log(`anatomy: ${r.label}: ${round(r.exec, 0)} ms ${r.trig.join('; ')}`);
    const { rows: [{ f }] } = await c.query('SELECT pg_current_logfile() AS f');
    const { rows: [{ dir }] } = await c.query("SELECT current_setting('data_directory') AS dir");
    const candidates = [process.env.BENCH_PG_LOG, f && (f.startsWith('/') ? f : join(dir, f)), `/var/log/postgresql/postgresql-${machine.postgresMajor}-main.log`].filter(Boolean);
    const logPath = candidates.find((p) => existsSync(p)) ?? null;
    await c.query(`ALTER DATABASE "${DB}" SET log_min_duration_statement = 1000`);
    await c.query(`ALTER DATABASE "${DB}" SET log_parameter_max_length = 0`);
    await c.query('CHECKPOINT');
    return { seedInfo, before, anat, logPath };
  });
  if (!logPath) throw new Error('cannot find the server log (set BENCH_PG_LOG)');

  // 1. Without cleanup.
  const base = await baseline(url, sql, DB, BASELINE_S, 'without cleanup');

  // 2. During cleanup.
  const cleanup = await withPg(ADMIN_URL, async (admin) => {
    await admin.query('CHECKPOINT');
    return withPg(url, async (c) => {
      const c0 = await counters(c);
      const offset = statSync(logPath).size;
      const l0 = load1();
      const s = sampler(DB);
      let childExited;
      const exited = new Promise((r) => (childExited = r));
      const loop = await claimLoop(url, sql, () => exited);
      await loop.ready;
      const cpu0 = { node: childCpuSeconds(), pg: postgresCpuSeconds() };
      const child = startProcess(process.execPath, [CLI, 'cleanup', '--json'],
        { env: levqorEnv(url, { PGOPTIONS: '-c log_min_duration_statement=0 -c log_parameter_max_length=0' }) });
      const startedAt = Date.now();
      const out = await child.done.finally(() => childExited());
      const endedAt = Date.now();
      const cpu1 = { node: childCpuSeconds(), pg: postgresCpuSeconds() };
      const samples = await loop.run;
      const sample = await s.stop();
      const l1 = load1();
      const offsetEnd = statSync(logPath).size;
      const c1 = await counters(c);
      const { rows: [w] } = await c.query('SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::float8 AS bytes', [c1.lsn, c0.lsn]);
      let result = null;
      try {
        result = JSON.parse(out.stdout)[0];
      } catch {
        /* reported below */
      }
      log(`cleanup: exit ${out.code} in ${round(out.ms / 1000, 1)} s: ${out.stdout.replace(/\s+/g, ' ')} ${out.stderr.trim()}`);
      return {
        code: out.code, stderr: out.stderr, result, ms: out.ms, startedAt, endedAt, claimPid: loop.pid,
        samples: samples.filter((x) => x.at >= startedAt && x.at <= endedAt), loads: [l0, l1, round(sample.loadMax)], sample,
        nodeCpu: cpu1.node - cpu0.node, pgCpu: cpu0.pg === null ? null : cpu1.pg - cpu0.pg,
        commits: Number(c1.commits) - Number(c0.commits), walMB: w.bytes / 2 ** 20, checkpoints: c1.checkpoints - c0.checkpoints,
        logText: readFrom(logPath, offset, offsetEnd),
      };
    });
  });
  const during = { samples: cleanup.samples, loads: cleanup.loads, busy: cleanup.sample.benchmarks > 0 };

  // After: the claim alone again, with the dead rows the cleanup left.
  const after = await baseline(url, sql, DB, AFTER_S, 'after cleanup');

  // 3. The server log: per-batch times, the longest statement, everything over 1 s.
  const lines = durationLines(cleanup.logText, DB);
  const mine = lines.filter((l) => l.pid !== cleanup.claimPid);
  const { batches: bs, counts } = batches(mine);
  const phases = ['workflow_events', 'workflow_runs', 'approval_queue'].map((t) => {
    const pb = bs.filter((x) => x.table === t);
    const count = counts.find((x) => x.table === t);
    const start = count ? count.at - count.ms : pb[0]?.start;
    const end = pb.at(-1)?.end ?? count?.at;
    const rows = t === 'workflow_events' ? before.old_events : t === 'workflow_runs' ? before.old_runs : before.old_approvals;
    const claims = start && end ? percentiles(during.samples.filter((x) => x.at >= start && x.at <= end).map((x) => x.select)) : null;
    return { table: t, batches: pb, countMs: count?.ms ?? null, rows, seconds: start && end ? (end - start) / 1000 : null, claims };
  });
  const longest = mine.reduce((a, l) => (l.ms > a.ms ? l : a), { ms: 0, label: 'n/a' });
  const slow = lines.filter((l) => l.ms >= 1000).map((l) => ({ ...l, who: l.pid === cleanup.claimPid ? 'claim' : 'cleanup' }));
  log(`log: ${lines.length} statements, ${bs.length} batches; longest ${round(longest.ms, 0)} ms ${longest.label}; ${slow.length} at or over 1 s`);
  if (bs.length === 0) log('warning: no cleanup batches found in the server log');

  // 4. Verify.
  const check = await withPg(url, (c) => verify(c, seedInfo.now0, before, cleanup.result, [...base.samples, ...during.samples, ...after.samples]));
  if (cleanup.code !== 0) check.problems.unshift(`levqor cleanup exited ${cleanup.code}: ${cleanup.stderr.trim().slice(0, 500)}`);
  if (check.problems.length) {
    for (const p of check.problems) console.error(`[bench:cleanup] CHECK FAILED: ${p}`);
    throw new Error(`verification failed (${check.problems.length} problem(s)); RESULTS.md not written`);
  }
  const a = check.after;

  // 5. The suggested variant, on a second database seeded the same way.
  if (!KEEP) {
    await dropDatabase(DB);
    created.delete(DB);
  }
  const url2 = await prepare(DB2);
  const variant = await withPg(url2, async (c) => {
    const seedInfo2 = await seed(c);
    const before2 = await snapshot(c, seedInfo2.now0);
    const t0 = performance.now();
    await c.query('CREATE INDEX IF NOT EXISTS approval_queue_run_idx ON approval_queue (run_id)');
    const indexMs = performance.now() - t0;
    await c.query(`ALTER DATABASE "${DB2}" SET log_min_duration_statement = 1000`);
    await c.query(`ALTER DATABASE "${DB2}" SET log_parameter_max_length = 0`);
    await c.query('CHECKPOINT');
    const c0 = await counters(c);
    const offset = statSync(logPath).size;
    const l0 = load1();
    const s = sampler(DB2);
    let finish;
    const finished = new Promise((r) => (finish = r));
    const loop = await claimLoop(url2, sql, () => finished);
    await loop.ready;
    const pg0 = postgresCpuSeconds();
    const startedAt = Date.now();
    const run = await suggestedCleanup(url2).finally(() => finish());
    const endedAt = Date.now();
    const pg1 = postgresCpuSeconds();
    const samples = await loop.run;
    const sample = await s.stop();
    const l1 = load1();
    const c1 = await counters(c);
    const { rows: [w] } = await c.query('SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::float8 AS bytes', [c1.lsn, c0.lsn]);
    const slow2 = durationLines(readFrom(logPath, offset), DB2).filter((l) => l.ms >= 1000 && l.at <= endedAt + 1000);
    const during2 = samples.filter((x) => x.at >= startedAt && x.at <= endedAt);
    log(`suggested: ${JSON.stringify(run.result)} in ${round(run.ms / 1000, 1)} s; claim p99 ${round(percentiles(during2.map((x) => x.select)).p99)} ms; ${slow2.length} statement(s) ≥ 1 s`);
    const check2 = await verify(c, seedInfo2.now0, before2, run.result, during2);
    if (check2.problems.length) {
      for (const p of check2.problems) console.error(`[bench:cleanup] CHECK FAILED (suggested variant): ${p}`);
      throw new Error(`verification of the suggested variant failed (${check2.problems.length} problem(s)); RESULTS.md not written`);
    }
    return {
      run, samples: during2, loads: [l0, l1, round(sample.loadMax)], sample, slow: slow2, indexMs, seedMs: seedInfo2.times.reduce((x, t) => x + t.ms, 0),
      pgCpu: pg0 === null ? null : pg1 - pg0, walMB: w.bytes / 2 ** 20, checkpoints: c1.checkpoints - c0.checkpoints,
      commits: Number(c1.commits) - Number(c0.commits),
    };
  });

  const verified = `no run or event older than 90 days and no processed approval older than 30 days left; the ${int(a.runs)} runs,
  ${int(a.events)} events and ${int(a.approvals)} approvals left are exactly the recent ones seeded (counts and checksums of ids), the
  ${a.pending} pending approvals, ${a.audit} audit_log rows and ${a.workflows} workflows (${a.due} due) untouched; the cleanup's counts match the seed;
  every claim returned ${DUE} workflows`;
  const body = report({
    machine, date, build, seedInfo, sizes: anat.sizes, anat, base, during, after, cleanup, phases, longest, slow, verified, variant, mine,
    sample: cleanup.sample, loadsStart, loadsEnd: loads3(), logPath, wait, others: [...seenOthers],
  });
  if (QUICK) {
    writeFileSync(join(SNAPSHOT_DIR, 'quick.md'), body);
    log(`--quick: section written to ${join(SNAPSHOT_DIR, 'quick.md')}, not to RESULTS.md`);
    return;
  }
  const old = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmarks\n';
  writeFileSync(RESULTS, replaceSection(old, 'Cleanup', body));
  log(`wrote the Cleanup section of ${RESULTS} (total ${round((performance.now() - t00) / 60000, 1)} min)`);
}

async function dropAll() {
  rmSync(dirname(CLI), { recursive: true, force: true });
  if (KEEP) {
    if (created.size) log(`kept databases: ${[...created].join(', ')}`);
    return;
  }
  for (const db of created) await dropDatabase(db).catch((err) => log(`could not drop ${db}: ${err.message}`));
}

process.on('SIGINT', () => {
  void dropAll().finally(() => process.exit(130));
});

try {
  await main();
} catch (err) {
  console.error('[bench:cleanup] FAILED:', err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
} finally {
  await dropAll();
}
