// Peer benchmark: `npm run bench:peers` (builds lib/cli.js first).
//
// Levqor side by side with graphile-worker 0.17 and pg-boss 10, in one run on one server, each
// system in its own fresh database:
// 1. the physical limit of the server: pgbench -N (first and last);
// 2. throughput: 10,000 trivial units (Levqor: due no-op workflows run by `levqor scheduler --once`;
//    peers: queued no-op jobs), several configurations each, every unit verified to run exactly once;
// 3. start latency: one unit at a time, "became due / was added" → "started";
// 4. startup and shutdown of an empty runner.
// Writes the `## Peers` section of bench/RESULTS.md and drops every database it made. Exits
// non-zero when any exactly-once check fails (nothing is written then).
//
// Flags: --quick (fewer units and repeats, for trying the script out), --keep (keep the databases).
// Child processes: bench/peers/graphile-worker.mjs and bench/peers/pg-boss-worker.mjs.
import { cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import gw from 'graphile-worker';
import PgBoss from 'pg-boss';
import { floorUnits, timeFloor } from './peers/floor.mjs';
import {
  ADMIN_URL, ROOT, childCpuSeconds, createDatabase, dbUrl, dropDatabase, load1, machineInfo, postgresCpuSeconds, replaceSection,
  runProcess, startProcess, table, withPg,
} from './lib.mjs';

const QUICK = process.argv.includes('--quick');
const KEEP = process.argv.includes('--keep');
const BUILT_CLI = join(ROOT, 'lib/cli.js');
// Other sessions rebuild lib/cli.js while we run: every Levqor process runs a copy taken at start,
// next to this script so that its bare imports resolve to the project's node_modules.
// The build may split lib/ into chunks: the whole folder is copied, so its relative imports hold.
const CLI_SNAPSHOT = join(ROOT, `bench/peers/.cli-snapshot-${process.pid}`);
const CLI = join(CLI_SNAPSHOT, 'cli.js');
const RESULTS = join(ROOT, 'bench/RESULTS.md');
const GRAPHILE_CHILD = join(ROOT, 'bench/peers/graphile-worker.mjs');
const BOSS_CHILD = join(ROOT, 'bench/peers/pg-boss-worker.mjs');
const N = QUICK ? 2_000 : 10_000;
const LAT_N = QUICK ? 100 : 1_000;
/** pg-boss polls: one unit costs a poll interval, so fewer units (stated in the report). */
const BOSS_LAT_N = QUICK ? 20 : 200;
const BOSS_DEFAULT_LAT_N = QUICK ? 5 : 15;
/** pg-boss with defaults works ~0.5 jobs/s: measured for this long, then extrapolated. */
const BOSS_DEFAULT_CAP_S = QUICK ? 10 : 20;
const REPEATS = QUICK ? 1 : 2;
/** Passes of the Levqor and graphile-worker latency measures (LAT_N units each). */
const LAT_PASSES = QUICK ? 1 : 2;
const STARTUP_REPEATS = QUICK ? 2 : 5;
const PGBENCH_SECONDS = QUICK ? 5 : 10;
/** Spacing of the scheduled latency workflows' slots (one due at a time). */
const SLOT_SPACING_S = 0.05;
const TRACE_N = QUICK ? 50 : 200;
/** Passes of the write-floor measure (bench/peers/floor.mjs). */
const FLOOR_PASSES = QUICK ? 1 : 3;

const created = new Set();
/** Child processes still running, killed by cleanup() if the benchmark fails half-way. */
const running = new Set();
const phases = [];
const log = (...a) => console.log('[peers]', ...a);
const round = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) || !Number.isFinite(x) ? 'n/a' : Number(x.toFixed(d)));
const pct = (x) => (x === null || Number.isNaN(x) || !Number.isFinite(x) ? 'n/a' : `${Math.round(x * 100)} %`);
const times = (x) => (x === null || Number.isNaN(x) || !Number.isFinite(x) ? 'n/a' : `${x >= 10 ? Math.round(x) : round(x, 2)}×`);
/** The median; of an even count, the mean of the middle two. */
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
/** One row of several tries of a configuration: every numeric field the median of the tries', the load the highest seen. */
function medianRow(tries) {
  const row = { ...tries[0] };
  for (const [k, v] of Object.entries(tries[0])) if (typeof v === 'number') row[k] = median(tries.map((t) => t[k]));
  row.load = Math.max(...tries.map((t) => t.load));
  row.loads = tries.map((t) => t.load);
  return row;
}
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
const wallNow = () => performance.timeOrigin + performance.now();

class CheckFailed extends Error {}

/** A promise that rejects with `message` after `ms`, unless cancelled first (then it never settles). */
function deadline(ms, message) {
  const ac = new AbortController();
  const promise = sleep(ms, undefined, { signal: ac.signal }).then(
    () => { throw new Error(message); },
    () => new Promise(() => undefined),
  );
  promise.catch(() => undefined);
  return { promise, cancel: () => ac.abort() };
}

/** Waits for `p`, failing after `ms`. */
async function within(ms, message, ...ps) {
  const d = deadline(ms, message);
  try {
    return await Promise.race([...ps, d.promise]);
  } finally {
    d.cancel();
  }
}

function version(pkg) {
  return JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version;
}

async function scratchDb(label) {
  const name = `levqor_peers_${label}_${process.pid}`;
  created.add(name);
  await createDatabase(name);
  return name;
}

function readProcs() {
  const procs = new Map();
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const text = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(p), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
    } catch {
      // exited meanwhile
    }
  }
  return procs;
}

/** Processes `pids` and all their descendants. */
function processTree(pids, procs = readProcs()) {
  const tree = new Set(pids);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, s] of procs) if (!tree.has(pid) && tree.has(s.ppid)) grew = tree.add(pid) && true;
  }
  return tree;
}

/** CPU ticks used so far by processes `pids` and all their descendants (live ones, plus reaped children). */
function treeCpuTicks(pids) {
  const procs = readProcs();
  const tree = processTree(pids, procs);
  let ticks = 0;
  for (const pid of tree) ticks += procs.get(pid)?.ticks ?? 0;
  return ticks;
}

/** Other benchmarks running (bench/*.mjs of any session, bench/scheduler.mjs and bench/api.mjs among them), not ours. */
function otherBenchmarks() {
  let out;
  try {
    out = execFileSync('pgrep', ['-af', 'bench/[A-Za-z0-9_/.-]+\\.mjs'], { encoding: 'utf8' });
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
  const ours = processTree([process.pid]);
  return out.split('\n').filter((l) => l && !l.includes('bench/peers')).map((l) => Number(l.split(' ')[0])).filter((pid) => !ours.has(pid));
}

/** Whether any session of another benchmark's database (levqor_bench_*) is running a statement or inside a transaction. */
async function benchBackendsWorking() {
  const { rows: [r] } = await withPg(ADMIN_URL, (c) => c.query(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname LIKE 'levqor\\_bench\\_%' AND state IS NOT NULL AND state <> 'idle' AND pid <> pg_backend_pid()`));
  return r.n > 0;
}

/**
 * Waits until no other benchmark runs (they would share the 2 cores), then records the load.
 * A benchmark that has itself been waiting (for us: bench/api.mjs waits for any bench/*.mjs) uses no
 * CPU and runs no statement in its database: after IDLE_WINDOW_S of that, we go on rather than wait
 * for each other.
 */
/** Other benchmarks last seen idle, waiting for this one: not waited for again while they stay idle. */
const idleOthers = new Set();
const MAX_PHASE_WAIT_S = 60;
const WAIT_BUDGET_S = 180;
let waitedMs = 0;

async function phase(name) {
  const IDLE_WINDOW_S = 10;
  const t0 = performance.now();
  // Not more than this per phase (nor WAIT_BUDGET_S in all): the run must end; the load is recorded either way.
  const maxWaitMs = Math.min(MAX_PHASE_WAIT_S * 1000, Math.max(0, WAIT_BUDGET_S * 1000 - waitedMs));
  let warned = false;
  let idleSince = null;
  let last = null;
  let note = '';
  for (;;) {
    const pids = otherBenchmarks();
    if (pids.length === 0) break;
    const ticks = treeCpuTicks(pids);
    const working = await benchBackendsWorking();
    const now = performance.now();
    const idle = last !== null && !working && (ticks - last.ticks) / 100 / ((now - last.at) / 1000) < 0.03;
    if (idle) idleSince ??= last.at;
    else if (last) {
      idleSince = null;
      idleOthers.clear();
    }
    last = { ticks, at: now };
    // Seen idle before and still idle over a short sample: they are still waiting for us.
    const known = pids.every((pid) => idleOthers.has(pid));
    if (idleSince !== null && (known || now - idleSince > IDLE_WINDOW_S * 1000)) {
      note = 'other benchmarks running but idle (waiting for this one)';
      for (const pid of pids) idleOthers.add(pid);
      if (!known) log(`${note}: going on`);
      break;
    }
    if (now - t0 >= maxWaitMs) {
      note = `another benchmark still running after ${Math.round((now - t0) / 1000)} s: measured anyway`;
      log(note);
      break;
    }
    if (!warned && !known) log(`waiting for another benchmark to finish (${pids.join(', ')})`);
    warned = true;
    await sleep(known ? 2000 : 5000);
  }
  waitedMs += performance.now() - t0;
  const p = { name, waitedS: (performance.now() - t0) / 1000, load: load1(), note };
  phases.push(p);
  log(`phase ${name}: load ${p.load}${p.waitedS > 3 ? `, waited ${round(p.waitedS, 0)} s for another benchmark` : ''}`);
  return p;
}

/** startProcess from lib.mjs, remembering the child until it exits. */
function spawnChild(cmd, args, opts) {
  const p = startProcess(cmd, args, opts);
  running.add(p.child);
  p.done.finally(() => running.delete(p.child)).catch(() => undefined);
  return p;
}

/** Splits a child's stdout into lines. */
function onLines(child, fn) {
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      fn(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
}

async function commits(c, db) {
  const { rows: [s] } = await c.query(
    'SELECT xact_commit::bigint AS commits, pg_current_wal_lsn()::text AS lsn FROM pg_stat_database WHERE datname = $1', [db]);
  return { commits: Number(s.commits), lsn: s.lsn, pgCpu: postgresCpuSeconds() };
}

/** Transactions committed in `db` and WAL written (server-wide) since `before`. */
async function counterDelta(c, db, before) {
  await sleep(300); // exiting backends flush their statistics
  const after = await commits(c, db);
  const { rows: [w] } = await c.query('SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::float8 AS bytes', [after.lsn, before.lsn]);
  return { commits: after.commits - before.commits, walMB: w.bytes / 2 ** 20, pgCpu: after.pgCpu - before.pgCpu };
}

// ---------------------------------------------------------------------------- pgbench

async function pgbench(state, when) {
  await phase(`pgbench (${when})`);
  const bin = [`/usr/lib/postgresql/${state.major}/bin/pgbench`, '/usr/bin/pgbench'].find((b) => existsSync(b)) ?? 'pgbench';
  const u = new URL(ADMIN_URL);
  const env = { ...process.env, PGHOST: u.hostname, PGPORT: u.port || '5432', PGUSER: decodeURIComponent(u.username || 'postgres') };
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  if (!state.db) {
    state.db = await scratchDb('pgbench');
    const init = await runProcess(bin, ['-i', '-s', '10', '-q', state.db], { env });
    if (init.code !== 0) throw new Error(`pgbench -i failed: ${init.stderr}`);
  }
  await withPg(dbUrl(state.db), (c) => c.query('CHECKPOINT'));
  const args = ['-N', '-c', '4', '-j', '2', '-T', String(PGBENCH_SECONDS), state.db];
  const load = load1();
  const r = await runProcess(bin, args, { env });
  const tps = /tps = ([\d.]+) \((?:without initial connection time|excluding connections establishing)\)/.exec(r.stdout);
  if (r.code !== 0 || !tps) throw new Error(`pgbench failed: ${r.stderr}\n${r.stdout}`);
  const latency = Number(/latency average = ([\d.]+) ms/.exec(r.stdout)?.[1]);
  log(`pgbench -N -c 4 (${when}): ${tps[1]} tps`);
  return { when, cmd: `pgbench ${args.join(' ').replace(state.db, 'DB')}`, tps: Number(tps[1]), latency, load };
}

// ---------------------------------------------------------------------------- Levqor

/** The environment of a Levqor process: ours without LEVQOR_* settings, plus the given ones. */
function levqorEnv(url, extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LEVQOR_')));
  return { ...env, DATABASE_URL: url, LEVQOR_LOG_LEVEL: 'warn', ...extra };
}

async function migrateLevqor(url) {
  const r = await runProcess(process.execPath, [CLI, 'migrate'], { env: levqorEnv(url) });
  if (r.code !== 0) throw new Error(`levqor migrate failed (${r.code}): ${r.stderr || r.stdout}`);
}

const SEED_TENANT = `INSERT INTO tenants (name) VALUES ('bench') RETURNING id`;
const seedSql = (n, nextRunAt) =>
  `INSERT INTO workflows (tenant_id, name, steps, schedule_config, next_run_at)
   SELECT $1, 'wf-' || i, '[{"type":"noop"}]', '{"enabled": true, "interval_minutes": 60}', ${nextRunAt}
   FROM generate_series(1, ${n}) AS i`;

/** Empties run history and makes every workflow due at a new slot (as bench/scheduler.mjs does); returns the slot. */
async function resetDue(c) {
  await c.query('TRUNCATE workflow_events, workflow_runs, scheduler_instances CASCADE');
  const { rows: [r] } = await c.query('SELECT (extract(epoch FROM now()) - 1)::float8 AS slot');
  await c.query('UPDATE workflows SET next_run_at = $1, last_run_at = NULL', [r.slot]);
  await c.query('VACUUM ANALYZE workflows');
  await c.query('CHECKPOINT');
  return r.slot;
}

/** Exactly once: N runs, all succeeded, one per (workflow, slot), every workflow moved on, one start and one end event each. */
async function verifyLevqorThroughput(c, slot) {
  const { rows: [r] } = await c.query(
    `SELECT count(*)::int AS runs, count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
            count(DISTINCT (workflow_id, scheduled_for))::int AS slots, count(DISTINCT workflow_id)::int AS workflows,
            count(*) FILTER (WHERE scheduled_for IS DISTINCT FROM $1)::int AS other_slot
     FROM workflow_runs`, [slot]);
  const { rows: [w] } = await c.query(
    `SELECT count(*) FILTER (WHERE last_run_at IS NOT NULL AND next_run_at > $1 AND next_run_at > extract(epoch FROM now()))::int AS advanced
     FROM workflows`, [slot]);
  const { rows: [e] } = await c.query(
    `SELECT count(*) FILTER (WHERE type = 'run_started')::int AS started, count(*) FILTER (WHERE type = 'run_finished')::int AS finished,
            count(DISTINCT run_id) FILTER (WHERE type = 'step_started')::int AS stepped, count(*) FILTER (WHERE type = 'step_started')::int AS steps
     FROM workflow_events`);
  const problems = [];
  if (r.runs !== N) problems.push(`${r.runs} runs, expected ${N}`);
  if (r.succeeded !== r.runs) problems.push(`${r.runs - r.succeeded} runs did not succeed`);
  if (r.slots !== r.runs || r.workflows !== r.runs) problems.push(`duplicates: ${r.runs} runs, ${r.slots} slots, ${r.workflows} workflows`);
  if (r.other_slot !== 0) problems.push(`${r.other_slot} runs for another slot`);
  if (w.advanced !== N) problems.push(`${w.advanced} workflows advanced, expected ${N}`);
  if (e.started !== N || e.finished !== N || e.steps !== N || e.stepped !== N) {
    problems.push(`events: ${e.started} run_started, ${e.steps} step_started (${e.stepped} runs), ${e.finished} run_finished`);
  }
  return problems;
}

const LEVQOR_CONFIGS = [
  { procs: 1, args: [], label: 'defaults: batch 200, concurrency 20' },
  { procs: 4, args: [], label: 'defaults: batch 200, concurrency 20' },
  { procs: 1, args: ['--batch-size', '1000', '--concurrency', '50'], label: 'batch 1000, concurrency 50' },
];

/** Levqor's throughput database: migrated, N no-op workflows seeded. */
async function levqorSetup() {
  const db = await scratchDb('levqor');
  const url = dbUrl(db);
  await migrateLevqor(url);
  await withPg(url, async (c) => {
    const { rows: [t] } = await c.query(SEED_TENANT);
    await c.query(seedSql(N, 'extract(epoch FROM now()) - 1'), [t.id]);
  });
  return { db, url };
}

function levqorThroughput({ db, url }) {
  return LEVQOR_CONFIGS.map(({ procs, args, label }) => ({
    runTry: async (i) => {
      const t = await withPg(url, async (c) => {
        const slot = await resetDue(c);
        const { load } = await phase(`Levqor throughput, ${procs} × ${label} #${i + 1}`);
        const before = await commits(c, db);
        const cpu0 = childCpuSeconds();
        const t0 = performance.now();
        const started = Array.from({ length: procs }, () => spawnChild(process.execPath, [CLI, 'scheduler', '--once', ...args], { env: levqorEnv(url) }));
        const results = await Promise.all(started.map((p) => p.done));
        const nodeCpu = childCpuSeconds() - cpu0;
        const wallS = (Math.max(...results.map((r) => r.endedAt)) - t0) / 1000;
        const delta = await counterDelta(c, db, before);
        const { rows: [s] } = await c.query(
          `SELECT (SELECT max(last_tick_at) FROM scheduler_instances) - (SELECT min(started_at) FROM workflow_runs) AS span,
                  (SELECT max(last_tick_at) - min(started_at) FROM scheduler_instances) AS tick`);
        const problems = await verifyLevqorThroughput(c, slot);
        for (const r of results) if (r.code !== 0) problems.push(`scheduler exit ${r.code}: ${(r.stderr || r.stdout).slice(0, 1000)}`);
        if (problems.length) throw new CheckFailed(`Levqor ${procs} proc: exactly-once check failed:\n  ${problems.join('\n  ')}`);
        return { wallS, spanS: s.span, tickS: s.tick, load, nodeCpu, ...delta };
      });
      log(`Levqor ${procs} × ${label} #${i + 1}: wall ${round(t.wallS)} s, span ${round(t.spanS)} s → ${Math.round(N / t.spanS)} units/s (verified exactly once)`);
      return t;
    },
    row: (tries) => {
      const best = medianRow(tries);
      return {
        system: 'Levqor', config: `\`scheduler --once${args.length ? ` ${args.join(' ')}` : ''}\`, ${procs} process${procs > 1 ? 'es' : ''} (${label})`,
        procs, units: N, ...best, spans: tries.map((t) => t.spanS), verified: `${N} runs, one per (workflow, slot), all succeeded, schedules advanced, 1 run_started + 1 step_started + 1 run_finished event each`,
      };
    },
  }));
}

// ---------------------------------------------------------------------------- graphile-worker

const silentGraphileLogger = new gw.Logger(() => (level, message) => {
  if (level === 'error') process.stderr.write(`[graphile ${level}] ${message}\n`);
});

async function graphileSetup() {
  const db = await scratchDb('graphile');
  const url = dbUrl(db);
  await gw.runMigrations({ connectionString: url, logger: silentGraphileLogger });
  return { db, url };
}

/** Adds N noop jobs in one add_jobs call (before the runner starts); returns their ids. */
async function graphileAddJobs(url) {
  const utils = await gw.makeWorkerUtils({ connectionString: url, logger: silentGraphileLogger });
  try {
    const jobs = await utils.addJobs(Array.from({ length: N }, (_, i) => ({ identifier: 'noop', payload: { i } })));
    return jobs.map((j) => String(j.id));
  } finally {
    await utils.release();
  }
}

/** Every added id handled exactly once across the processes, and the queue empty. */
function checkIds(label, added, handledLists) {
  const problems = [];
  const seen = new Map();
  for (const list of handledLists) for (const id of list) seen.set(String(id), (seen.get(String(id)) ?? 0) + 1);
  const twice = [...seen.values()].filter((n) => n > 1).length;
  const handled = [...seen.values()].reduce((a, n) => a + n, 0);
  const addedSet = new Set(added.map(String));
  const missing = added.filter((id) => !seen.has(String(id))).length;
  const foreign = [...seen.keys()].filter((id) => !addedSet.has(id)).length;
  if (twice) problems.push(`${label}: ${twice} jobs handled more than once`);
  if (missing) problems.push(`${label}: ${missing} of ${added.length} jobs never handled`);
  if (foreign) problems.push(`${label}: ${foreign} handled ids were never added`);
  return { problems, handled, unique: seen.size };
}

const GRAPHILE_BATCHED = { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 };
const GRAPHILE_CONFIGS = [
  { label: 'defaults (concurrency 1, pool 10, no batching)', procs: 1, cfg: {} },
  { label: 'concurrency 24, no batching', procs: 4, cfg: { concurrency: 24 } },
  { label: 'concurrency 24, batched: localQueue.size 500, completeJobBatchDelay 0, failJobBatchDelay 0', procs: 1, cfg: { concurrency: 24, preset: { worker: GRAPHILE_BATCHED } } },
  { label: 'concurrency 24, batched: localQueue.size 500, completeJobBatchDelay 0, failJobBatchDelay 0', procs: 4, cfg: { concurrency: 24, preset: { worker: GRAPHILE_BATCHED } } },
];

function graphileThroughput({ db, url }) {
  return GRAPHILE_CONFIGS.map((conf) => ({
    runTry: async (i) => {
      const t = await withPg(url, async (c) => {
        await c.query('TRUNCATE graphile_worker._private_jobs CASCADE');
        const added = await graphileAddJobs(url);
        await c.query('VACUUM ANALYZE graphile_worker._private_jobs');
        await c.query('CHECKPOINT');
        const { load } = await phase(`graphile-worker throughput, ${conf.procs} × ${conf.label} #${i + 1}`);
        const before = await commits(c, db);
        const outs = Array.from({ length: conf.procs }, (_, k) => join(tmpdir(), `levqor-peers-gw-${process.pid}-${k}.json`));
        const cpu0 = childCpuSeconds();
        const t0Wall = wallNow();
        const t0 = performance.now();
        const started = outs.map((out) => spawnChild(process.execPath, [GRAPHILE_CHILD, 'once', JSON.stringify({ url, out, ...conf.cfg })]));
        const results = await Promise.all(started.map((p) => p.done));
        const nodeCpu = childCpuSeconds() - cpu0;
        const wallS = (Math.max(...results.map((r) => r.endedAt)) - t0) / 1000;
        const delta = await counterDelta(c, db, before);
        const problems = results.filter((r) => r.code !== 0).map((r) => `graphile child exit ${r.code}: ${r.stderr.slice(0, 1000)}`);
        if (problems.length) throw new CheckFailed(problems.join('\n'));
        const reports = outs.map((o) => JSON.parse(readFileSync(o, 'utf8')));
        for (const o of outs) rmSync(o, { force: true });
        const check = checkIds('graphile-worker', added, reports.map((r) => r.ids));
        const { rows: [left] } = await c.query('SELECT count(*)::int AS n, count(*) FILTER (WHERE attempts > 1 OR last_error IS NOT NULL)::int AS retried FROM graphile_worker._private_jobs');
        if (left.n !== 0) check.problems.push(`graphile-worker: ${left.n} jobs left in the queue (${left.retried} retried or failed)`);
        if (check.problems.length) throw new CheckFailed(`graphile-worker ${conf.label}: exactly-once check failed:\n  ${check.problems.join('\n  ')}`);
        // Startup excluded: the first job's locked_at (database clock) to the end of the last runOnce().
        // (A process that found the queue already emptied by the others reports no job.)
        const working = reports.filter((r) => r.ids.length > 0);
        const first = Math.min(...working.map((r) => r.firstLocked));
        const end = Math.max(...reports.map((r) => r.tEnd));
        return { wallS, spanS: (end - first) / 1000, load, nodeCpu, split: reports.map((r) => r.ids.length).join('/'), startupS: (Math.min(...working.map((r) => r.firstStart)) - t0Wall) / 1000, ...delta };
      });
      log(`graphile ${conf.procs} × ${conf.label} #${i + 1}: wall ${round(t.wallS)} s, span ${round(t.spanS)} s → ${Math.round(N / t.spanS)} units/s (verified exactly once)`);
      return t;
    },
    row: (tries) => {
      const best = medianRow(tries);
      return {
        system: 'graphile-worker', config: `\`runOnce\`, ${conf.procs} process${conf.procs > 1 ? 'es' : ''}, ${conf.label}`, procs: conf.procs, units: N, ...best,
        spans: tries.map((x) => x.spanS), verified: `each of the ${N} added job ids handled once (ids recorded by the task), queue empty afterwards, no retries`,
      };
    },
  }));
}

// ---------------------------------------------------------------------------- pg-boss

/** A pg-boss instance for the benchmark's own use: installs the schema, creates the queue, inserts; no maintenance. */
async function bossClient(url) {
  const boss = new PgBoss({ connectionString: url, supervise: false, schedule: false, max: 2 });
  boss.on('error', (err) => log(`pg-boss (bench client) error: ${err.message}`));
  await boss.start();
  return boss;
}

async function bossSetup() {
  const db = await scratchDb('pgboss');
  const url = dbUrl(db);
  const boss = await bossClient(url);
  await boss.createQueue('noop');
  return { db, url, boss };
}

async function bossReset(c, boss) {
  await c.query('TRUNCATE pgboss.job, pgboss.archive');
  for (let i = 0; i < N; i += 5_000) {
    await boss.insert(Array.from({ length: Math.min(5_000, N - i) }, (_, k) => ({ name: 'noop', data: { i: i + k } })));
  }
  const { rows } = await c.query(`SELECT id::text AS id FROM pgboss.job WHERE name = 'noop' AND state = 'created'`);
  await c.query('VACUUM ANALYZE pgboss.job');
  await c.query('CHECKPOINT');
  return rows.map((r) => r.id);
}

const BOSS_CONFIGS = [
  { label: 'defaults (1 worker, batchSize 1, pollingIntervalSeconds 2)', procs: 1, workers: 1, work: {}, capS: BOSS_DEFAULT_CAP_S },
  { label: 'tuned: 4 workers each (work() called 4 times), batchSize 100, pollingIntervalSeconds 0.5', procs: 4, workers: 4, work: { batchSize: 100, pollingIntervalSeconds: 0.5 } },
];

function bossThroughput({ db, url, boss }) {
  return BOSS_CONFIGS.map((conf) => ({
    runTry: async (i) => {
      const t = await withPg(url, async (c) => {
        const added = await bossReset(c, boss);
        if (added.length !== N) throw new Error(`pg-boss insert: ${added.length} jobs created, expected ${N}`);
        const { load } = await phase(`pg-boss throughput, ${conf.procs} × ${conf.label} #${i + 1}`);
        const before = await commits(c, db);
        const outs = Array.from({ length: conf.procs }, (_, k) => join(tmpdir(), `levqor-peers-boss-${process.pid}-${k}.json`));
        const cpu0 = childCpuSeconds();
        let handled = 0;
        let allHandled;
        const handledAll = new Promise((resolve) => (allHandled = resolve));
        const t0 = performance.now();
        const t0Wall = wallNow();
        const started = outs.map((out) => {
          const p = spawnChild(process.execPath, [BOSS_CHILD, 'work', JSON.stringify({ url, out, workers: conf.workers, work: conf.work })]);
          onLines(p.child, (line) => {
            if (line.startsWith('handled ')) handled += Number(line.slice(8));
            if (handled >= N) allHandled();
          });
          return p;
        });
        const exited = Promise.all(started.map((p) => p.done));
        let doneWall;
        if (conf.capS) {
          const cap = deadline(conf.capS * 1000, 'cap');
          await Promise.race([handledAll, cap.promise.catch(() => undefined), exited]);
          cap.cancel();
        } else {
          await within(300_000, 'pg-boss: the jobs were not all handled within 300 s', handledAll, exited);
          // complete() is not awaited by pg-boss's worker: wait until the database says every job is completed.
          for (let k = 0; k < 500; k++) {
            const { rows: [r] } = await c.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE state = 'completed'`);
            if (r.n >= N) break;
            await sleep(20);
          }
        }
        doneWall = wallNow();
        for (const p of started) p.child.kill('SIGTERM');
        const results = await exited;
        const nodeCpu = childCpuSeconds() - cpu0;
        const wallS = (Math.max(...results.map((r) => r.endedAt)) - t0) / 1000;
        const delta = await counterDelta(c, db, before);
        const problems = results.filter((r) => r.code !== 0).map((r) => `pg-boss child exit ${r.code}: ${r.stderr.slice(0, 1000)}`);
        if (problems.length) throw new CheckFailed(problems.join('\n'));
        const reports = outs.map((o) => JSON.parse(readFileSync(o, 'utf8')));
        for (const o of outs) rmSync(o, { force: true });
        const { rows: [s] } = await c.query(
          `SELECT count(*) FILTER (WHERE state = 'completed')::int AS completed, count(*) FILTER (WHERE state = 'created')::int AS created,
                  count(*) FILTER (WHERE state NOT IN ('completed', 'created'))::int AS other,
                  count(*) FILTER (WHERE retry_count > 0)::int AS retried,
                  (extract(epoch FROM max(completed_on)) - extract(epoch FROM min(started_on)))::float8 AS span
           FROM pgboss.job WHERE name = 'noop'`);
        const { rows: doneIds } = await c.query(`SELECT id::text AS id FROM pgboss.job WHERE state = 'completed'`);
        const handledIds = reports.flatMap((r) => r.ids);
        const check = checkIds('pg-boss', conf.capS ? doneIds.map((r) => r.id) : added, reports.map((r) => r.ids));
        if (s.completed !== handledIds.length) check.problems.push(`pg-boss: ${handledIds.length} handled but ${s.completed} completed in the database`);
        if (s.other !== 0 || s.retried !== 0) check.problems.push(`pg-boss: ${s.other} jobs neither created nor completed, ${s.retried} retried`);
        if (!conf.capS && s.completed !== N) check.problems.push(`pg-boss: ${s.completed} completed, expected ${N}`);
        if (s.completed + s.created !== N) check.problems.push(`pg-boss: ${s.completed} completed + ${s.created} waiting ≠ ${N}`);
        if (check.problems.length) throw new CheckFailed(`pg-boss ${conf.label}: exactly-once check failed:\n  ${check.problems.join('\n  ')}`);
        const firstStart = Math.min(...reports.map((r) => r.firstStart));
        // Capped: the rate while working (first job start to the stop), extrapolated to N.
        const units = s.completed;
        const spanS = conf.capS ? (doneWall - firstStart) / 1000 : s.span;
        return { wallS, spanS, units, capped: Boolean(conf.capS), load, nodeCpu, split: reports.map((r) => r.ids.length).join('/'), startupS: (firstStart - t0Wall) / 1000, ...delta };
      });
      log(`pg-boss ${conf.procs} × ${conf.label} #${i + 1}: ${t.units} units, wall ${round(t.wallS)} s, span ${round(t.spanS)} s → ${round(t.units / t.spanS, 1)} units/s (verified exactly once)`);
      return t;
    },
    row: (tries) => {
      const best = medianRow(tries);
      return {
        system: 'pg-boss', config: `${conf.procs} process${conf.procs > 1 ? 'es' : ''}, ${conf.label}`, procs: conf.procs, ...best,
        spans: tries.map((x) => x.spanS),
        verified: best.capped
          ? `stopped after ${conf.capS} s: each completed job handled once, the other ${N - best.units} still waiting, no retries`
          : `each of the ${N} inserted job ids handled once (ids recorded by the handler), all completed, no retries`,
      };
    },
  }));
}

/**
 * Runs every configuration's tries round by round (try 1 of each, then try 2 of each…), so that
 * the machine's load, which drifts with the other sessions' work, falls on all systems alike;
 * then one row per configuration from the medians of its tries.
 */
async function throughputInterleaved(configs) {
  const tries = configs.map(() => []);
  for (let i = 0; i < REPEATS; i++) {
    for (const [k, conf] of configs.entries()) tries[k].push(await conf.runTry(i));
  }
  return configs.map((conf, k) => conf.row(tries[k]));
}

// ---------------------------------------------------------------------------- write floors

/**
 * Each system's unit written by Postgres alone (bench/peers/floor.mjs), FLOOR_PASSES times, round
 * by round across the definitions; the units to write are made ready first (workflows due, jobs
 * added) and the dead tuples the rolled-back writes leave are vacuumed after.
 */
async function floors({ levqor, graphile, boss }) {
  const urls = { Levqor: levqor.url, 'graphile-worker': graphile.url, 'pg-boss': boss.url };
  await withPg(levqor.url, (c) => resetDue(c));
  await withPg(graphile.url, async (c) => {
    await c.query('TRUNCATE graphile_worker._private_jobs CASCADE');
    await graphileAddJobs(graphile.url);
    await c.query('VACUUM ANALYZE graphile_worker._private_jobs');
  });
  await withPg(boss.url, (c) => bossReset(c, boss.boss));
  const units = floorUnits(N);
  const tries = units.map(() => []);
  for (let i = 0; i < FLOOR_PASSES; i++) {
    const { load } = await phase(`write floors, pass ${i + 1}`);
    for (const [k, unit] of units.entries()) {
      const t = await withPg(urls[unit.system], (c) => timeFloor(c, unit, N));
      tries[k].push({ ...t, load });
      log(`floor ${unit.system} (${unit.tuples} tuples a unit) pass ${i + 1}: ${round(t.ms, 0)} ms (${t.statementsMs.map((x) => Math.round(x)).join(" + ")}) → ${Math.round(N / (t.ms / 1000))} units/s`);
    }
  }
  for (const url of Object.values(urls)) await withPg(url, (c) => c.query('VACUUM'));
  return units.map((unit, k) => {
    const ms = median(tries[k].map((t) => t.ms));
    return {
      system: unit.system, what: unit.what, tuples: unit.tuples, statements: unit.writes.length, ms, all: tries[k].map((t) => t.ms),
      perStatement: unit.writes.map((_, j) => median(tries[k].map((t) => t.statementsMs[j]))), loads: tries[k].map((t) => t.load),
    };
  });
}

// ---------------------------------------------------------------------------- latency

function stats(ms) {
  if (ms.length === 0) return { n: 0, samples: [] };
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, min: s[0], p50: quantile(s, 0.5), p99: quantile(s, 0.99), max: s.at(-1), samples: ms };
}

/** Several passes of one latency measure as one: percentiles over all their samples, each pass's p50 and load listed, counters summed. */
function pooled(passes) {
  const all = stats(passes.flatMap((p) => p.samples));
  const loads = passes.map((p) => p.load).filter((l) => l !== undefined);
  const sum = (k) => (passes.every((p) => typeof p[k] === 'number') ? passes.reduce((a, p) => a + p[k], 0) : undefined);
  return { ...all, passes: passes.map((p) => p.p50), load: loads.length ? loads.join(', ') : undefined, commits: sum('commits') };
}

/** Each key of several passes' results pooled. */
function poolAll(results, keys) {
  return Object.fromEntries(keys.map((k) => [k, pooled(results.map((r) => r[k]))]));
}

/** The SQL of src/scheduler/manual.ts startRun({ enqueue: true }): dbNow, then run + run_started event + NOTIFY in one transaction. */
async function levqorEnqueue(c, wf, id) {
  const { rows: [n] } = await c.query('SELECT extract(epoch FROM now())::float8 AS now');
  await c.query('BEGIN');
  await c.query(
    `INSERT INTO workflow_runs (id, tenant_id, workflow_id, status, trigger, scheduled_for, started_at, lease_owner, lease_expires_at)
     SELECT id, tenant_id, workflow_id, status, trigger, scheduled_for, started_at, lease_owner, lease_expires_at
     FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, tenant_id uuid, workflow_id uuid, status text, trigger text,
       scheduled_for double precision, started_at double precision, lease_owner text, lease_expires_at double precision)
     ON CONFLICT (workflow_id, scheduled_for) DO NOTHING
     RETURNING id`,
    [JSON.stringify([{ id, tenant_id: wf.tenant_id, workflow_id: wf.id, status: 'queued', trigger: 'manual', scheduled_for: null, started_at: n.now, lease_owner: null, lease_expires_at: null }])],
  );
  await c.query(
    `INSERT INTO workflow_events (tenant_id, run_id, workflow_id, type, step_index, payload, created_at)
     SELECT tenant_id, run_id, workflow_id, type, step_index, coalesce(payload, '{}'), created_at
     FROM jsonb_to_recordset($1::jsonb) AS e(tenant_id uuid, run_id uuid, workflow_id uuid, type text,
       step_index integer, payload jsonb, created_at double precision)`,
    [JSON.stringify([{ tenant_id: wf.tenant_id, run_id: id, workflow_id: wf.id, type: 'run_started', payload: { trigger: 'manual', by: 'bench' }, created_at: n.now }])],
  );
  await c.query('SELECT pg_notify($1, $2)', ['levqor_scheduler', 'run']);
  const commitSent = wallNow(); // the NOTIFY goes out with this commit
  await c.query('COMMIT');
  return commitSent;
}

/**
 * A `levqor scheduler` loop (interval 60 s) started once: `units` manual runs queued one at a time with
 * NOTIFY, then `units` scheduled workflows due one at a time (slots SLOT_SPACING_S apart, the loop's own timer).
 */
async function levqorLatency(units, { trace = false, modes = ['manual', 'scheduled'] } = {}) {
  const db = await scratchDb(trace ? 'levqor_trace' : 'levqor_latency');
  const url = dbUrl(db);
  await migrateLevqor(url);
  return withPg(url, async (c) => {
    const { rows: [t] } = await c.query(SEED_TENANT);
    await c.query(seedSql(units, 'extract(epoch FROM now()) + 86400'), [t.id]);
    const { rows: [wf] } = await c.query(
      `INSERT INTO workflows (tenant_id, name, steps) VALUES ($1, 'manual', '[{"type":"noop"}]') RETURNING id, tenant_id`, [t.id]);
    await c.query('VACUUM ANALYZE');
    await c.query('CHECKPOINT');
    const traceFile = join(tmpdir(), `levqor-peers-trace-${process.pid}.json`);
    const nodeArgs = trace ? ['--import', pathToFileURL(join(ROOT, 'bench/lib.mjs')).href] : [];
    const env = levqorEnv(url, { LEVQOR_SCHEDULER_INTERVAL_SECONDS: '60', LEVQOR_LOG_LEVEL: 'info', ...(trace ? { LEVQOR_BENCH_TRACE: traceFile } : {}) });
    const loop = spawnChild(process.execPath, [...nodeArgs, CLI, 'scheduler'], { env });
    const waiting = new Map();
    let ticked;
    const firstTick = new Promise((resolve) => (ticked = resolve));
    let finishedCount = 0;
    onLines(loop.child, (line) => {
      let rec;
      try {
        rec = JSON.parse(line);
      } catch {
        return;
      }
      if (rec.msg === 'tick') ticked();
      if (rec.msg === 'run finished') {
        finishedCount++;
        waiting.get(rec.run_id)?.();
        waiting.get('*')?.();
      }
    });
    const exitedEarly = loop.done.then((r) => {
      throw new Error(`levqor scheduler exited early (${r.code}): ${r.stderr.slice(0, 1000)}`);
    });
    exitedEarly.catch(() => undefined);
    await Promise.race([firstTick, exitedEarly]);
    const wait = (key, ms) => within(ms, `levqor: ${key} did not finish within ${ms} ms`,
      new Promise((resolve) => waiting.set(key, resolve)), exitedEarly).finally(() => waiting.delete(key));

    const manualUnits = modes.includes('manual') ? units : 0;
    const schedUnits = modes.includes('scheduled') ? units : 0;
    const phaseManual = trace ? null : await phase('Levqor latency: manual runs (NOTIFY)');
    const before = await commits(c, db);
    const ids = [];
    const commitSent = new Map();
    for (let i = 0; i < manualUnits; i++) {
      const id = crypto.randomUUID();
      ids.push(id);
      const done = wait(id, 10_000);
      commitSent.set(id, await levqorEnqueue(c, wf, id));
      await done;
      await sleep(Math.random() * 5);
    }
    const manualDelta = await counterDelta(c, db, before);

    const phaseSched = trace ? null : await phase('Levqor latency: scheduled workflows (timer)');
    const before2 = await commits(c, db);
    finishedCount = 0;
    const allDone = new Promise((resolve) => waiting.set('*', () => finishedCount >= schedUnits && resolve()));
    if (schedUnits === 0) waiting.get('*')();
    else await c.query(
      `UPDATE workflows w SET next_run_at = extract(epoch FROM now()) + 1 + (s.rn - 1) * ${SLOT_SPACING_S}
       FROM (SELECT id, row_number() OVER (ORDER BY name) AS rn FROM workflows WHERE name LIKE 'wf-%') s WHERE w.id = s.id`);
    await c.query(`SELECT pg_notify('levqor_scheduler', 'workflow')`); // as `levqor apply` does after changing a schedule
    await within((units * SLOT_SPACING_S + 60) * 1000, `levqor: not all ${units} scheduled runs finished in time`, allDone, exitedEarly);
    waiting.delete('*');
    const schedDelta = await counterDelta(c, db, before2);
    loop.child.kill('SIGTERM');
    const exit = await loop.done;

    const problems = [];
    if (exit.code !== 0) problems.push(`scheduler loop exit ${exit.code}: ${exit.stderr.slice(0, 1000)}`);
    const { rows: manual } = await c.query(
      `SELECT r.id, r.status, r.attempt, r.started_at AS added,
              (SELECT min(created_at) FROM workflow_events e WHERE e.run_id = r.id AND e.type = 'step_started') AS stepped,
              (SELECT count(*)::int FROM workflow_events e WHERE e.run_id = r.id AND e.type = 'step_started') AS steps,
              (SELECT count(*)::int FROM workflow_events e WHERE e.run_id = r.id AND e.type = 'run_finished') AS finishes
       FROM workflow_runs r WHERE r.trigger = 'manual'`);
    const { rows: sched } = await c.query(
      `SELECT r.id, r.workflow_id, r.status, r.attempt, r.scheduled_for AS due, r.started_at AS claimed,
              (SELECT min(created_at) FROM workflow_events e WHERE e.run_id = r.id AND e.type = 'step_started') AS stepped,
              (SELECT count(*)::int FROM workflow_events e WHERE e.run_id = r.id AND e.type = 'step_started') AS steps
       FROM workflow_runs r WHERE r.trigger = 'schedule'`);
    const manualIds = new Set(manual.map((r) => r.id));
    if (manual.length !== manualUnits || ids.some((id) => !manualIds.has(id))) problems.push(`manual: ${manual.length} runs, expected ${manualUnits}`);
    const badManual = manual.filter((r) => r.status !== 'succeeded' || r.attempt !== 1 || r.steps !== 1 || r.finishes !== 1);
    if (badManual.length) problems.push(`manual: ${badManual.length} runs not succeeded exactly once (status/attempt/events)`);
    if (sched.length !== schedUnits || new Set(sched.map((r) => r.workflow_id)).size !== schedUnits) problems.push(`scheduled: ${sched.length} runs for ${new Set(sched.map((r) => r.workflow_id)).size} workflows, expected ${schedUnits}`);
    const badSched = sched.filter((r) => r.status !== 'succeeded' || r.attempt !== 1 || r.steps !== 1);
    if (badSched.length) problems.push(`scheduled: ${badSched.length} runs not succeeded exactly once`);
    const { rows: [again] } = await c.query(`SELECT count(*)::int AS n FROM workflows WHERE name LIKE 'wf-%' AND next_run_at <= extract(epoch FROM now())`);
    if (schedUnits === 0) again.n = 0;
    if (again.n) problems.push(`scheduled: ${again.n} workflows still due`);
    if (problems.length) throw new CheckFailed(`Levqor latency: exactly-once check failed:\n  ${problems.join('\n  ')}`);
    let traced = null;
    if (trace) {
      traced = JSON.parse(readFileSync(traceFile, 'utf8'));
      rmSync(traceFile, { force: true });
    }
    return {
      manual: { ...stats(manual.map((r) => (r.stepped - r.added) * 1000)), load: phaseManual?.load, ...manualDelta },
      manualFromCommit: stats(manual.map((r) => r.stepped * 1000 - commitSent.get(r.id))),
      schedClaim: { ...stats(sched.map((r) => (r.claimed - r.due) * 1000)), load: phaseSched?.load },
      schedStep: { ...stats(sched.map((r) => (r.stepped - r.due) * 1000)), load: phaseSched?.load, ...schedDelta },
      traced,
    };
  }).finally(async () => {
    if (!KEEP) {
      await dropDatabase(db);
      created.delete(db);
    }
  });
}

async function graphileLatency({ db, url }) {
  return withPg(url, async (c) => {
    await c.query('TRUNCATE graphile_worker._private_jobs CASCADE');
    const loop = spawnChild(process.execPath, [GRAPHILE_CHILD, 'loop', JSON.stringify({ url })]);
    const waiting = new Map();
    const starts = new Map();
    let readyFn;
    const ready = new Promise((resolve) => (readyFn = resolve));
    onLines(loop.child, (line) => {
      const [kind, id, t, locked] = line.split(' ');
      if (kind === 'ready') readyFn();
      if (kind === 'start') {
        starts.set(id, [...(starts.get(id) ?? []), { t: Number(t), locked: Number(locked) }]);
        waiting.get(id)?.();
      }
    });
    await Promise.race([ready, loop.done.then((r) => { throw new Error(`graphile loop exited: ${r.stderr}`); })]);
    const { load } = await phase('graphile-worker latency (defaults: LISTEN/NOTIFY)');
    const before = await commits(c, db);
    const added = [];
    for (let i = 0; i < LAT_N; i++) {
      let resolveFn;
      const started = new Promise((resolve) => (resolveFn = resolve));
      const sent = wallNow();
      const { rows: [j] } = await c.query(`SELECT id::text AS id, extract(epoch FROM run_at)::float8 AS run_at FROM graphile_worker.add_job('noop', '{}'::json)`);
      j.sent = sent;
      waiting.set(j.id, resolveFn);
      if (!starts.has(j.id)) await within(10_000, `graphile job ${j.id} did not start`, started);
      waiting.delete(j.id);
      added.push(j);
      await sleep(Math.random() * 5);
    }
    await sleep(200);
    const delta = await counterDelta(c, db, before);
    loop.child.kill('SIGTERM');
    const exit = await loop.done;
    const problems = [];
    if (exit.code !== 0) problems.push(`graphile loop exit ${exit.code}: ${exit.stderr.slice(0, 500)}`);
    const twice = [...starts.values()].filter((s) => s.length !== 1).length;
    if (twice || starts.size !== LAT_N) problems.push(`${starts.size} jobs started (${twice} more than once), expected ${LAT_N}`);
    const { rows: [left] } = await c.query('SELECT count(*)::int AS n FROM graphile_worker._private_jobs');
    if (left.n) problems.push(`${left.n} jobs left in the queue`);
    if (problems.length) throw new CheckFailed(`graphile-worker latency: exactly-once check failed:\n  ${problems.join('\n  ')}`);
    return {
      start: { ...stats(added.map((j) => starts.get(j.id)[0].t - j.run_at * 1000)), load, ...delta },
      locked: stats(added.map((j) => starts.get(j.id)[0].locked - j.run_at * 1000)),
      fromSent: stats(added.map((j) => starts.get(j.id)[0].t - j.sent)),
    };
  });
}

async function bossLatency({ db, url, boss }, { units, work, label }) {
  return withPg(url, async (c) => {
    await c.query('TRUNCATE pgboss.job, pgboss.archive');
    const loop = spawnChild(process.execPath, [BOSS_CHILD, 'latency', JSON.stringify({ url, workers: 1, work })]);
    const waiting = new Map();
    const starts = new Map();
    let readyFn;
    const ready = new Promise((resolve) => (readyFn = resolve));
    onLines(loop.child, (line) => {
      const [kind, id, t] = line.split(' ');
      if (kind === 'ready') readyFn();
      if (kind === 'start') {
        starts.set(id, [...(starts.get(id) ?? []), Number(t)]);
        waiting.get(id)?.();
      }
    });
    await Promise.race([ready, loop.done.then((r) => { throw new Error(`pg-boss loop exited: ${r.stderr}`); })]);
    const { load } = await phase(`pg-boss latency (${label})`);
    const before = await commits(c, db);
    const poll = (work.pollingIntervalSeconds ?? 2) * 1000;
    const ids = [];
    for (let i = 0; i < units; i++) {
      // A random phase against the worker's poll, so that units don't lock onto its cycle.
      await sleep(Math.random() * poll);
      let resolveFn;
      const started = new Promise((resolve) => (resolveFn = resolve));
      const id = await boss.send('noop', {});
      waiting.set(id, resolveFn);
      if (!starts.has(id)) await within(poll * 3 + 10_000, `pg-boss job ${id} did not start`, started);
      waiting.delete(id);
      ids.push(id);
    }
    for (let k = 0; k < 200; k++) {
      const { rows: [r] } = await c.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE state = 'completed'`);
      if (r.n >= units) break;
      await sleep(20);
    }
    const delta = await counterDelta(c, db, before);
    loop.child.kill('SIGTERM');
    const exit = await loop.done;
    const { rows } = await c.query(
      `SELECT id::text AS id, state, retry_count, extract(epoch FROM created_on)::float8 AS created FROM pgboss.job WHERE name = 'noop'`);
    const problems = [];
    if (exit.code !== 0) problems.push(`pg-boss loop exit ${exit.code}: ${exit.stderr.slice(0, 500)}`);
    const twice = [...starts.values()].filter((s) => s.length !== 1).length;
    if (twice || starts.size !== units) problems.push(`${starts.size} jobs started (${twice} more than once), expected ${units}`);
    const notDone = rows.filter((r) => r.state !== 'completed' || r.retry_count !== 0).length;
    if (rows.length !== units || notDone) problems.push(`${rows.length} jobs in the table, ${notDone} not completed once`);
    if (problems.length) throw new CheckFailed(`pg-boss latency: exactly-once check failed:\n  ${problems.join('\n  ')}`);
    const created = new Map(rows.map((r) => [r.id, r.created]));
    return { ...stats(ids.map((id) => starts.get(id)[0] - created.get(id) * 1000)), load, ...delta };
  });
}

// ---------------------------------------------------------------------------- startup and shutdown

async function startupShutdown(graphile, bossDb) {
  await phase('startup and shutdown');
  const out = [];
  const node = [];
  for (let i = 0; i < STARTUP_REPEATS; i++) node.push((await runProcess(process.execPath, ['-e', '0'])).ms);
  out.push({ system: 'Node itself', what: '`node -e 0`', wall: node });

  const db = await scratchDb('levqor_empty');
  const url = dbUrl(db);
  await migrateLevqor(url);
  const lev = [];
  const levTick = [];
  for (let i = 0; i < STARTUP_REPEATS; i++) {
    const r = await runProcess(process.execPath, [CLI, 'scheduler', '--once'], { env: levqorEnv(url) });
    if (r.code !== 0) throw new Error(`levqor scheduler --once on an empty database failed: ${r.stderr}`);
    lev.push(r.ms);
    const tick = await withPg(url, async (c) => (await c.query('SELECT (stopped_at - started_at)::float8 * 1000 AS ms FROM scheduler_instances ORDER BY started_at DESC LIMIT 1')).rows[0].ms);
    levTick.push(tick);
  }
  out.push({ system: 'Levqor', what: '`levqor scheduler --once`, empty migrated database', wall: lev, inner: `tick (started_at → stopped_at) ${round(median(levTick), 1)} ms` });

  const gwOnce = [];
  const gwRun = [];
  const gwReady = [];
  const gwStop = [];
  for (let i = 0; i < STARTUP_REPEATS; i++) {
    const o = join(tmpdir(), `levqor-peers-gw-empty-${process.pid}.json`);
    const r1 = await runProcess(process.execPath, [GRAPHILE_CHILD, 'once', JSON.stringify({ url: graphile.url, out: o })]);
    if (r1.code !== 0) throw new Error(`graphile runOnce on an empty queue failed: ${r1.stderr}`);
    rmSync(o, { force: true });
    gwOnce.push(r1.ms);
    const r2 = await runProcess(process.execPath, [GRAPHILE_CHILD, 'startstop', JSON.stringify({ url: graphile.url })]);
    if (r2.code !== 0) throw new Error(`graphile run/stop failed: ${r2.stderr}`);
    const s = JSON.parse(r2.stdout.trim().split('\n').at(-1));
    gwRun.push(r2.ms);
    gwReady.push(s.tReady - s.t0);
    gwStop.push(s.tStopped - s.tReady);
  }
  out.push({ system: 'graphile-worker', what: '`runOnce()`, empty queue, migrated', wall: gwOnce });
  out.push({ system: 'graphile-worker', what: '`run({ noHandleSignals })`, then `runner.stop()`', wall: gwRun, inner: `run() ${round(median(gwReady), 1)} ms, stop() ${round(median(gwStop), 1)} ms` });

  const bw = [];
  const bReady = [];
  const bStop = [];
  for (let i = 0; i < STARTUP_REPEATS; i++) {
    const r = await runProcess(process.execPath, [BOSS_CHILD, 'startstop', JSON.stringify({ url: bossDb.url })]);
    if (r.code !== 0) throw new Error(`pg-boss start/stop failed: ${r.stderr}`);
    const s = JSON.parse(r.stdout.trim().split('\n').at(-1));
    bw.push(r.ms);
    bReady.push(s.tReady - s.t0);
    bStop.push(s.tStopped - s.tReady);
  }
  out.push({ system: 'pg-boss', what: '`start()`, then `stop({ graceful: true, wait: true })`, schema installed', wall: bw, inner: `start() ${round(median(bReady), 1)} ms, stop() ${round(median(bStop), 1)} ms` });
  if (!KEEP) {
    await dropDatabase(db);
    created.delete(db);
  }
  return out;
}

// ---------------------------------------------------------------------------- report

function report(r) {
  const { machine, date, versions, pgbenchRows, tput, floor, lat, startup, trace } = r;
  const notesFile = join(ROOT, 'bench/peers/NOTES.md');
  const notes = existsSync(notesFile) ? `\n${readFileSync(notesFile, 'utf8').trim()}\n` : '';
  const base = [...pgbenchRows].sort((a, b) => b.tps - a.tps)[0];
  const rate = (row) => ({ incl: row.units / row.wallS, excl: row.units / row.spanS });
  const lev = tput.filter((row) => row.system === 'Levqor');
  const peers = tput.filter((row) => row.system !== 'Levqor');
  const levBest = [...lev].sort((a, b) => rate(b).excl - rate(a).excl)[0];
  const levBestIncl = [...lev].sort((a, b) => rate(b).incl - rate(a).incl)[0];
  const peerBest = [...peers].sort((a, b) => rate(b).excl - rate(a).excl)[0];
  const peerBestIncl = [...peers].sort((a, b) => rate(b).incl - rate(a).incl)[0];
  const lev1 = lev[0];
  const gwP50 = lat.graphile.start.p50;
  const latRows = [
    ['Levqor', 'manual run queued with NOTIFY (`startRun(…, { enqueue: true })` SQL), loop woken by LISTEN', lat.levqor.manual, 'run.started_at (DB `now()`, taken just before the enqueue transaction, as manual.ts does) → step_started event created_at (scheduler clock)'],
    ['Levqor', '… same runs, from the enqueue transaction\'s COMMIT', lat.levqor.manualFromCommit, 'COMMIT sent (benchmark clock) → step_started event created_at (scheduler clock)'],
    ['Levqor', 'scheduled workflow due, loop woken by its own timer (earliest next_run_at)', lat.levqor.schedStep, 'next_run_at (the slot) → step_started event created_at (scheduler clock)'],
    ['Levqor', '… same runs, to the claim', lat.levqor.schedClaim, 'next_run_at → run.started_at (DB `now()` of the claim transaction)'],
    ['graphile-worker', 'defaults (concurrency 1), `run()`, woken by LISTEN/NOTIFY', lat.graphile.start, 'job.run_at (DB `now()` in add_job) → task function entered (worker clock)'],
    ['graphile-worker', '… same jobs, from the add_job statement', lat.graphile.fromSent, 'add_job sent (benchmark clock) → task function entered (worker clock)'],
    ['graphile-worker', '… same jobs, to the lock', lat.graphile.locked, 'job.run_at → job.locked_at (DB clock, ms precision)'],
    ['pg-boss', `1 worker, pollingIntervalSeconds 0.5 (the minimum), batchSize 1; ${BOSS_LAT_N} units`, lat.boss, 'job.created_on (DB `now()`) → handler entered (worker clock)'],
    ['pg-boss', `defaults (pollingIntervalSeconds 2); ${BOSS_DEFAULT_LAT_N} units`, lat.bossDefault, 'same'],
  ];
  const traceTable = (t) => {
    const q = t?.queries ?? {};
    const labels = Object.keys(q).sort((a, b) => q[b].count - q[a].count);
    const total = Object.values(q).reduce((a, x) => a + x.count, 0);
    return { total, labels, q };
  };
  const tm = traceTable(trace?.manual);
  const ts = traceTable(trace?.scheduled);
  const traceLabels = [...new Set([...tm.labels, ...ts.labels])].sort((a, b) =>
    ((ts.q[b]?.count ?? 0) + (tm.q[b]?.count ?? 0)) - ((ts.q[a]?.count ?? 0) + (tm.q[a]?.count ?? 0)));
  const perRun = (t, l) => (t.q[l] ? round(t.q[l].count / TRACE_N, 2) : '');
  const perCall = (t, l) => (t.q[l] ? round(t.q[l].ms / t.q[l].count, 2) : '');

  return `_Written by \`npm run bench:peers\` (bench/peers.mjs) on ${date}. Rerun it to refresh this section._

### Machine and versions

- CPU: ${machine.cpu}, \`nproc\` = ${machine.nproc}; memory ${machine.memGiB} GiB; Node ${machine.node}
- ${machine.postgres} on the same machine (${machine.postgresSettings})
- Levqor ${versions.levqor} (commit ${versions.commit}), graphile-worker ${versions.graphile}, pg-boss ${versions.boss}
- Each phase waited until no other benchmark ran (no other \`bench/*.mjs\` process, bench/scheduler.mjs and bench/api.mjs included;
  one that was itself idle, waiting for this one, was not waited for). The 1-minute load average at each phase's start:

${table(['phase', 'load', 'waited s', 'note'], phases.map((p) => [p.name, p.load, Math.round(p.waitedS), p.note]))}

The machine and the server are shared with other sessions, so single numbers carry ±20 % noise or more.

### Commands

\`\`\`sh
npm run bench:peers                    # node scripts/build.mjs && node bench/peers.mjs [--quick] [--keep]
pgbench -i -s 10 DB && pgbench -N -c 4 -j 2 -T ${PGBENCH_SECONDS} DB          # first and last
# Levqor (database levqor_peers_levqor_*): migrate, seed ${N.toLocaleString('en')} due no-op workflows, then P of these together:
DATABASE_URL=postgres://…/DB LEVQOR_LOG_LEVEL=warn node lib/cli.js scheduler --once
# graphile-worker (its own database): runMigrations, addJobs(${N.toLocaleString('en')} × { identifier: 'noop' }) in one call, then P of:
node bench/peers/graphile-worker.mjs once '{"url":…,"concurrency":…,"preset":{"worker":{"localQueue":{"size":500},"completeJobBatchDelay":0,…}}}'   # runOnce()
# pg-boss (its own database): createQueue('noop'), boss.insert(${N.toLocaleString('en')} jobs) in 5,000-job calls, then P of:
node bench/peers/pg-boss-worker.mjs work '{"url":…,"workers":4,"work":{"batchSize":100,"pollingIntervalSeconds":0.5}}'
# latency: DATABASE_URL=… LEVQOR_SCHEDULER_INTERVAL_SECONDS=60 LEVQOR_LOG_LEVEL=info node lib/cli.js scheduler;
#          node bench/peers/graphile-worker.mjs loop '{"url":…}';  node bench/peers/pg-boss-worker.mjs latency '{"url":…,"work":{…}}'
\`\`\`

### Physical limit: pgbench -N (scale 10)

${table(['pass', 'command', 'TPS (without initial connection time)', 'latency ms', 'load'],
    pgbenchRows.map((p) => [p.when, `\`${p.cmd}\``, round(p.tps, 0), round(p.latency, 3), p.load]))}

Ratios below use the best pass: **${round(base.tps, 0)} TPS**. A pgbench -N transaction is one commit of an UPDATE, a SELECT and an INSERT.

### Throughput: ${N.toLocaleString('en')} trivial units

A Levqor unit is a full run: a \`workflow_runs\` row inserted and finished, 4 events, the workflow's schedule advanced.
A graphile-worker unit is a job locked and deleted; a pg-boss unit is a job fetched (state active) and completed.
Jobs are added before the runners start (not timed), as Levqor's workflows are seeded due before it starts.
**Wall** (startup included) is the first spawn to the last process exit. **Span** (startup excluded) is the first unit's claim
to the last write: Levqor min(run.started_at) → max(scheduler_instances.last_tick_at), graphile-worker min(job.locked_at) →
the end of the last \`runOnce()\`, pg-boss min(started_on) → max(completed_on). Each configuration ran ${REPEATS} times,
round by round (the first try of every configuration of every system, then the second…, so that the drifting load of
the shared machine falls on all alike); every number in a row is the **median** of its tries (of two: their mean), all spans
and the 1-minute load average before each try are listed. **Commits** = \`xact_commit\` of the database during the run
(every autocommit statement counts), **WAL** is server-wide. **Worker CPU** is the CPU time of the worker processes,
startup included; **Postgres CPU** is every postgres process's (server-wide: other sessions' queries count too).

${table(['system', 'configuration', 'units', 'wall s', 'units/s (wall)', 'span s', 'all spans s', 'units/s (span)', '÷ pgbench (span)', 'Levqor 1 proc ÷ this (span / wall)', 'Levqor best ÷ this (span / wall)', 'commits per unit', 'WAL KiB per unit', 'worker CPU ms per unit', 'Postgres CPU ms per unit', 'load (each try)', 'units per process'],
    tput.map((row) => {
      const rr = rate(row);
      return [row.system, row.config, row.units, round(row.wallS), round(rr.incl, row.capped ? 2 : 0), round(row.spanS), row.spans.map((s) => round(s)).join(', '),
        round(rr.excl, row.capped ? 2 : 0), pct(rr.excl / base.tps),
        row.system === 'Levqor' ? '' : `${times(rate(lev1).excl / rr.excl)} / ${times(rate(lev1).incl / rr.incl)}`,
        row.system === 'Levqor' ? '' : `${times(rate(levBest).excl / rr.excl)} / ${times(rate(levBestIncl).incl / rr.incl)}`,
        round(row.commits / row.units, 3), round((row.walMB * 1024) / row.units, 2), round((row.nodeCpu * 1000) / row.units, 3),
        round((row.pgCpu * 1000) / row.units, 3), (row.loads ?? [row.load]).join(', '), row.split ?? ''];
    }))}

- pg-boss with defaults was stopped after ${BOSS_DEFAULT_CAP_S} s (${tput.find((row) => row.capped)?.units ?? '?'} jobs completed): its rate is
  completed jobs ÷ (the stop − the first job's start), and ${N.toLocaleString('en')} jobs would take about
  **${round(N / rate(tput.find((row) => row.capped) ?? { units: 1, spanS: 1, wallS: 1 }).excl / 3600, 1)} hours** at that rate (one job per 2 s poll: the worker waits out the polling interval even when jobs are waiting).
- Exactly once, checked before each row was kept: ${[...new Set(tput.map((row) => `${row.system}: ${row.verified}`))].join('; ')}.
- **Goal (issue 8): Levqor at or above the fastest peer configuration.** Startup excluded: Levqor's best ${Math.round(rate(levBest).excl)} units/s
  (${levBest.config}) against ${peerBest.system} ${peerBest.config} at ${Math.round(rate(peerBest).excl)}: **${times(rate(levBest).excl / rate(peerBest).excl)}**
  (${rate(levBest).excl >= rate(peerBest).excl ? 'met' : 'not met'}). Startup included: ${Math.round(rate(levBestIncl).incl)} against ${peerBestIncl.system}'s
  ${Math.round(rate(peerBestIncl).incl)} (${peerBestIncl.config}): **${times(rate(levBestIncl).incl / rate(peerBestIncl).incl)}**.

### Write floor: each unit's rows written by Postgres alone

Every write of ${N.toLocaleString('en')} units as one statement over rows generated on the server (no worker, no JSON, no
round trips), timed from send to result, in one transaction rolled back afterwards (bench/peers/floor.mjs; ${FLOOR_PASSES} pass${FLOOR_PASSES > 1 ? "es" : ""}
round by round, the median shown). A system's measured rate can approach its floor but not pass it: the floor is what
its record of a unit costs on this server, whoever writes it.

${table(['system', 'unit written', 'tuples per unit', 'statements', 'ms (median)', 'ms per statement (median)', 'all passes ms', 'floor units/s', 'measured best ÷ floor', 'load (each pass)'],
    (floor ?? []).map((f) => {
      const best = [...tput.filter((row) => row.system === f.system && !row.capped)].sort((a, b) => rate(b).excl - rate(a).excl)[0];
      const floorRate = N / (f.ms / 1000);
      return [f.system, f.what, f.tuples, f.statements, round(f.ms, 0), f.perStatement.map((x) => Math.round(x)).join(' + '), f.all.map((x) => Math.round(x)).join(', '),
        Math.round(floorRate), f.tuples === 7 || f.system !== 'Levqor' ? (best ? pct(rate(best).excl / floorRate) : '') : '', f.loads.join(', ')];
    }))}

${(() => {
    const today = floor?.find((f) => f.system === 'Levqor' && f.tuples === 7);
    const least = floor?.find((f) => f.system === 'Levqor' && f.tuples === 3);
    if (!today || !least) return '';
    const rateOf = (f) => N / (f.ms / 1000);
    return `- Levqor's best measured rate is **${pct(rate(levBest).excl / rateOf(today))} of the floor of its own record**, so how the scheduler writes is not what keeps
  it behind ${peerBest.system}'s ${Math.round(rate(peerBest).excl)} units/s: the record is. Even the least a run could record (written once, already
  finished, one event: ${least.tuples} tuples with today's indexes and foreign keys) floors at **${Math.round(rateOf(least))} units/s**, ${times(rateOf(least) / rate(peerBest).excl)} of that peer's
  measured rate, before any worker does any work.`;
  })()}

${notes}
### Start latency: one unit at a time

${LAT_N.toLocaleString('en')} units for Levqor and graphile-worker in each of ${LAT_PASSES} passes (Levqor's pass, then graphile-worker's, in turn;
the percentiles are over all passes' units together, each pass's p50 is listed), each unit added once the previous one has started (plus 0–5 ms);
pg-boss polls, so each of its units is added at a random phase of the poll (0–1 interval after the previous start), and it has
fewer units. Both ends come from the same machine's clock: the database's \`now()\` for the added side, the worker process's
for the start (Levqor's event times are ms-resolution epoch floats). Commits per unit include the enqueue's own (Levqor 2:
the \`dbNow\` query and the insert transaction; graphile-worker 1; pg-boss 1) and, for pg-boss, its idle polls.

${table(['system', 'mode', 'n', 'min ms', 'p50 ms', 'p99 ms', 'max ms', 'p50 of each pass', 'Levqor manual p50 ÷ this p50', 'from → to', 'commits per unit', 'load (each pass)'],
    latRows.map(([sys, mode, s, span]) => [sys, mode, s.n, round(s.min, 1), round(s.p50, 1), round(s.p99, 1), round(s.max, 1),
      (s.passes ?? [s.p50]).map((x) => round(x, 1)).join(', '),
      times(lat.levqor.manual.p50 / s.p50), span, s.commits === undefined ? '' : round(s.commits / s.n, 1), s.load ?? '']))}

- **Goal (issue 8): Levqor's start latency p50 within 2× graphile-worker's** (${round(gwP50, 1)} ms → limit ${round(2 * gwP50, 1)} ms):
  manual (NOTIFY) p50 ${round(lat.levqor.manual.p50, 1)} ms = ${times(lat.levqor.manual.p50 / gwP50)} (${lat.levqor.manual.p50 <= 2 * gwP50 ? 'met' : 'not met'}),
  from the enqueue's COMMIT ${round(lat.levqor.manualFromCommit.p50, 1)} ms against graphile-worker's ${round(lat.graphile.fromSent.p50, 1)} ms from its add_job
  = ${times(lat.levqor.manualFromCommit.p50 / lat.graphile.fromSent.p50)} (${lat.levqor.manualFromCommit.p50 <= 2 * lat.graphile.fromSent.p50 ? 'met' : 'not met'});
  scheduled (timer) p50 ${round(lat.levqor.schedStep.p50, 1)} ms = ${times(lat.levqor.schedStep.p50 / gwP50)} (${lat.levqor.schedStep.p50 <= 2 * gwP50 ? 'met' : 'not met'}).
- Exactly once: Levqor — every queued run succeeded with attempt 1 and one step_started/run_finished event, every scheduled
  workflow ran once for its slot and moved on; graphile-worker and pg-boss — every added job started once (worker log), queue
  empty / all completed, no retries.
${trace ? `
Where a Levqor unit's time goes on these paths: two more loops run with \`node --import bench/lib.mjs\` (which counts every
query the scheduler process sends, and times it from send to result), one with ${TRACE_N} manual runs only and one with ${TRACE_N}
scheduled runs only: **${round(tm.total / TRACE_N, 1)}** statements per manual run and **${round(ts.total / TRACE_N, 1)}** per scheduled run,
the process's startup and shutdown included (graphile-worker: one \`get_job\` and one \`complete_job\` per job, both single statements).

${table(['statement (first line)', 'manual: per run', 'manual: client ms per call', 'scheduled: per run', 'scheduled: client ms per call'],
    traceLabels.map((l) => [`\`${l}\``, perRun(tm, l), perCall(tm, l), perRun(ts, l), perCall(ts, l)]))}
` : ''}
### Startup and shutdown: an empty runner, start to exit

Median of ${STARTUP_REPEATS} (all listed). Wall = spawn to process exit, Node's own startup included.

${table(['system', 'what', 'median wall ms', 'all ms', 'inside the process'],
    startup.map((s) => [s.system, s.what, round(median(s.wall), 0), s.wall.map((x) => Math.round(x)).join(', '), s.inner ?? '']))}
`;
}

// ---------------------------------------------------------------------------- main

/** `--only=levqor-latency`: that measurement alone, printed, nothing written (for working on the script). */
async function only(what) {
  const runs = {
    'levqor-latency': () => levqorLatency(LAT_N),
    'levqor-trace': () => levqorLatency(TRACE_N, { trace: true, modes: ['manual'] }),
    'levqor-throughput': async () => throughputInterleaved(levqorThroughput(await levqorSetup())),
    floors: async () => {
      const graphile = await graphileSetup();
      const boss = await bossSetup();
      try {
        return await floors({ levqor: await levqorSetup(), graphile, boss });
      } finally {
        await boss.boss.stop({ graceful: false, wait: true }).catch(() => undefined);
      }
    },
    'graphile-throughput': async () => throughputInterleaved(graphileThroughput(await graphileSetup())),
    'graphile-latency': async () => graphileLatency(await graphileSetup()),
    'boss-throughput': async () => throughputInterleaved(bossThroughput(await bossSetup())),
  };
  const r = runs[what] ? await runs[what]() : null;
  if (!r) throw new Error(`unknown --only=${what}`);
  console.log(JSON.stringify(r, null, 1));
}

async function main() {
  if (!existsSync(BUILT_CLI)) throw new Error('lib/cli.js is missing: run `npm run bench:peers` (it builds first)');
  cpSync(dirname(BUILT_CLI), CLI_SNAPSHOT, { recursive: true });
  const onlyArg = process.argv.find((a) => a.startsWith('--only='));
  if (onlyArg) return only(onlyArg.slice(7));
  const machine = await machineInfo();
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const commit = (await runProcess('git', ['rev-parse', '--short', 'HEAD'])).stdout.trim();
  const dirty = (await runProcess('git', ['status', '--porcelain', '--', 'src'])).stdout.trim() ? ' + uncommitted src changes' : '';
  const versions = {
    levqor: JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version,
    commit: `${commit}${dirty}`,
    graphile: version('graphile-worker'),
    boss: version('pg-boss'),
  };
  log(`machine: ${machine.cpu} ×${machine.nproc}, ${machine.postgres}, Node ${machine.node}; graphile-worker ${versions.graphile}, pg-boss ${versions.boss}`);
  const pgState = { major: machine.postgresMajor, db: null };
  const pgbenchRows = [await pgbench(pgState, 'first')];

  const graphile = await graphileSetup();
  const boss = await bossSetup();
  const levqor = await levqorSetup();
  const tput = await throughputInterleaved([...levqorThroughput(levqor), ...graphileThroughput(graphile), ...bossThroughput(boss)]);
  const floor = await floors({ levqor, graphile, boss });

  // Levqor and graphile-worker, pass by pass in turn (the load drifts), then pooled.
  const levPasses = [];
  const gwPasses = [];
  for (let i = 0; i < LAT_PASSES; i++) {
    const l = await levqorLatency(LAT_N);
    log(`Levqor latency pass ${i + 1} p50: manual ${round(l.manual.p50, 1)} ms, scheduled ${round(l.schedStep.p50, 1)} ms (claim ${round(l.schedClaim.p50, 1)} ms)`);
    levPasses.push(l);
    const g = await graphileLatency(graphile);
    log(`graphile-worker latency pass ${i + 1} p50 ${round(g.start.p50, 1)} ms`);
    gwPasses.push(g);
  }
  const levLat = poolAll(levPasses, ['manual', 'manualFromCommit', 'schedClaim', 'schedStep']);
  const gwLat = poolAll(gwPasses, ['start', 'locked', 'fromSent']);
  const bossLat = await bossLatency(boss, { units: BOSS_LAT_N, work: { pollingIntervalSeconds: 0.5 }, label: 'poll 0.5 s' });
  log(`pg-boss latency p50 ${round(bossLat.p50, 1)} ms`);
  const bossDefaultLat = await bossLatency(boss, { units: BOSS_DEFAULT_LAT_N, work: {}, label: 'defaults' });
  log(`pg-boss (defaults) latency p50 ${round(bossDefaultLat.p50, 1)} ms`);
  await phase('Levqor latency, traced');
  const traced = {
    manual: (await levqorLatency(TRACE_N, { trace: true, modes: ['manual'] })).traced,
    scheduled: (await levqorLatency(TRACE_N, { trace: true, modes: ['scheduled'] })).traced,
  };

  const startup = await startupShutdown(graphile, boss);
  await boss.boss.stop({ graceful: false, wait: true }).catch(() => undefined);
  pgbenchRows.push(await pgbench(pgState, 'last'));

  const body = report({
    machine, date, versions, pgbenchRows, tput, floor,
    lat: { levqor: levLat, graphile: gwLat, boss: bossLat, bossDefault: bossDefaultLat },
    startup, trace: traced,
  });
  const old = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmarks\n';
  writeFileSync(RESULTS, replaceSection(old, 'Peers', body));
  log(`wrote the Peers section of ${RESULTS}`);
}

let cleaningUp = false;
// Dropping a database WITH (FORCE) ends the sessions still open on it, among them an idle client of
// ours when a check failed half-way: that is expected then, not a crash.
process.on('uncaughtException', (err) => {
  if (cleaningUp && (err?.code === '57P01' || /Connection terminated/.test(err?.message ?? ''))) return;
  console.error('[peers] FAILED:', err);
  process.exit(1);
});

async function cleanup() {
  cleaningUp = true;
  rmSync(CLI_SNAPSHOT, { recursive: true, force: true });
  for (const child of running) child.kill('SIGKILL');
  if (KEEP) {
    if (created.size) log(`kept databases: ${[...created].join(', ')}`);
    return;
  }
  for (const db of created) await dropDatabase(db).catch((err) => log(`could not drop ${db}: ${err.message}`));
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.on(signal, () => {
    void cleanup().finally(() => process.exit(code));
  });
}

const t0 = performance.now();
try {
  await main();
  log(`done in ${round((performance.now() - t0) / 1000, 0)} s`);
} catch (err) {
  console.error('[peers] FAILED:', err instanceof CheckFailed ? `exactly-once check: ${err.message}` : err instanceof Error ? err.stack : err);
  process.exitCode = err instanceof CheckFailed ? 2 : 1;
} finally {
  await cleanup();
}
