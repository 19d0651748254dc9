// Shared by bench/peers.mjs and its modules: settings, the run's mutable state (databases made,
// children running, phases seen: cleanup() in bench/peers.mjs undoes the first two), and helpers.
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_URL, ROOT, createDatabase, load1, postgresCpuSeconds, startProcess, withPg } from '../lib.mjs';

export const QUICK = process.argv.includes('--quick');
export const KEEP = process.argv.includes('--keep');
export const BUILT_CLI = join(ROOT, 'lib/cli.js');
// Other sessions rebuild lib/cli.js while we run: every Levqor process runs a copy taken at start,
// next to this script so that its bare imports resolve to the project's node_modules.
// The build may split lib/ into chunks: the whole folder is copied, so its relative imports hold.
export const CLI_SNAPSHOT = join(ROOT, `bench/peers/.cli-snapshot-${process.pid}`);
export const CLI = join(CLI_SNAPSHOT, 'cli.js');
export const RESULTS = join(ROOT, 'bench/RESULTS.md');
export const GRAPHILE_CHILD = join(ROOT, 'bench/peers/graphile-worker.mjs');
export const BOSS_CHILD = join(ROOT, 'bench/peers/pg-boss-worker.mjs');
export const N = QUICK ? 2_000 : 10_000;
export const LAT_N = QUICK ? 100 : 1_000;
/** pg-boss polls: one unit costs a poll interval, so fewer units (stated in the report). */
export const BOSS_LAT_N = QUICK ? 20 : 200;
export const BOSS_DEFAULT_LAT_N = QUICK ? 5 : 15;
/** pg-boss with defaults works ~0.5 jobs/s: measured for this long, then extrapolated. */
export const BOSS_DEFAULT_CAP_S = QUICK ? 10 : 20;
export const REPEATS = QUICK ? 1 : 2;
/** Passes of the Levqor and graphile-worker latency measures (LAT_N units each). */
export const LAT_PASSES = QUICK ? 1 : 2;
export const STARTUP_REPEATS = QUICK ? 2 : 5;
export const PGBENCH_SECONDS = QUICK ? 5 : 10;
/** Spacing of the scheduled latency workflows' slots (one due at a time). */
export const SLOT_SPACING_S = 0.05;
export const TRACE_N = QUICK ? 50 : 200;
/** Passes of the write-floor measure (bench/peers/floor.mjs). */
export const FLOOR_PASSES = QUICK ? 1 : 3;

export const created = new Set();
/** Child processes still running, killed by cleanup() if the benchmark fails half-way. */
export const running = new Set();
export const phases = [];
export const log = (...a) => console.log('[peers]', ...a);
export const round = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) || !Number.isFinite(x) ? 'n/a' : Number(x.toFixed(d)));
export const pct = (x) => (x === null || Number.isNaN(x) || !Number.isFinite(x) ? 'n/a' : `${Math.round(x * 100)} %`);
export const times = (x) => (x === null || Number.isNaN(x) || !Number.isFinite(x) ? 'n/a' : `${x >= 10 ? Math.round(x) : round(x, 2)}×`);
/** The median; of an even count, the mean of the middle two. */
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
/** One row of several tries of a configuration: every numeric field the median of the tries', the load the highest seen. */
export function medianRow(tries) {
  const row = { ...tries[0] };
  for (const [k, v] of Object.entries(tries[0])) if (typeof v === 'number') row[k] = median(tries.map((t) => t[k]));
  row.load = Math.max(...tries.map((t) => t.load));
  row.loads = tries.map((t) => t.load);
  return row;
}
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
export const wallNow = () => performance.timeOrigin + performance.now();

export class CheckFailed extends Error {}

/** A promise that rejects with `message` after `ms`, unless cancelled first (then it never settles). */
export function deadline(ms, message) {
  const ac = new AbortController();
  const promise = sleep(ms, undefined, { signal: ac.signal }).then(
    () => {
      throw new Error(message);
    },
    () => new Promise(() => undefined),
  );
  promise.catch(() => undefined);
  return { promise, cancel: () => ac.abort() };
}

/** Waits for `p`, failing after `ms`. */
export async function within(ms, message, ...ps) {
  const d = deadline(ms, message);
  try {
    return await Promise.race([...ps, d.promise]);
  } finally {
    d.cancel();
  }
}

export function version(pkg) {
  return JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')).version;
}

export async function scratchDb(label) {
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
  return out
    .split('\n')
    .filter((l) => l && !l.includes('bench/peers'))
    .map((l) => Number(l.split(' ')[0]))
    .filter((pid) => !ours.has(pid));
}

/** Whether any session of another benchmark's database (levqor_bench_*) is running a statement or inside a transaction. */
async function benchBackendsWorking() {
  const {
    rows: [r],
  } = await withPg(ADMIN_URL, (c) =>
    c.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname LIKE 'levqor\\_bench\\_%' AND state IS NOT NULL AND state <> 'idle' AND pid <> pg_backend_pid()`,
    ),
  );
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

export async function phase(name) {
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
export function spawnChild(cmd, args, opts) {
  const p = startProcess(cmd, args, opts);
  running.add(p.child);
  p.done.finally(() => running.delete(p.child)).catch(() => undefined);
  return p;
}

/** Splits a child's stdout into lines. */
export function onLines(child, fn) {
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      fn(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
}

export async function commits(c, db) {
  const {
    rows: [s],
  } = await c.query('SELECT xact_commit::bigint AS commits, pg_current_wal_lsn()::text AS lsn FROM pg_stat_database WHERE datname = $1', [
    db,
  ]);
  return { commits: Number(s.commits), lsn: s.lsn, pgCpu: postgresCpuSeconds() };
}

/** Transactions committed in `db` and WAL written (server-wide) since `before`. */
export async function counterDelta(c, db, before) {
  await sleep(300); // exiting backends flush their statistics
  const after = await commits(c, db);
  const {
    rows: [w],
  } = await c.query('SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::float8 AS bytes', [after.lsn, before.lsn]);
  return { commits: after.commits - before.commits, walMB: w.bytes / 2 ** 20, pgCpu: after.pgCpu - before.pgCpu };
}

/** Every added id handled exactly once across the processes, and the queue empty. */
export function checkIds(label, added, handledLists) {
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

/**
 * Runs every configuration's tries round by round (try 1 of each, then try 2 of each…), so that
 * the machine's load, which drifts with the other sessions' work, falls on all systems alike;
 * then one row per configuration from the medians of its tries.
 */
export async function throughputInterleaved(configs) {
  const tries = configs.map(() => []);
  for (let i = 0; i < REPEATS; i++) {
    for (const [k, conf] of configs.entries()) tries[k].push(await conf.runTry(i));
  }
  return configs.map((conf, k) => conf.row(tries[k]));
}

// ---------------------------------------------------------------------------- latency statistics

export function stats(ms) {
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
export function poolAll(results, keys) {
  return Object.fromEntries(keys.map((k) => [k, pooled(results.map((r) => r[k]))]));
}
