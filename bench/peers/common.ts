// Shared by bench/peers.ts and its modules: settings, the run's mutable state (databases made,
// children running, phases seen: cleanup() in bench/peers.ts undoes the first two), and helpers.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { scratchDatabases } from '../lib/db.js';
import { ROOT, SMOKE, benchEntry, flag, logger, numberArg } from '../lib/env.js';
import { load1 } from '../lib/machine.js';
import { benchBackendsWorking, otherBenchmarks } from '../lib/others.js';
import { startProcess, treeCpuTicks, type ProcessOptions, type Started } from '../lib/proc.js';
import { percentile, round } from '../lib/stats.js';

export const QUICK = flag('--quick') || SMOKE;
export const KEEP = flag('--keep');
/** Where the copy of lib/ every Levqor process of the run uses is taken (see snapshotCli). */
export const SNAPSHOT_DIR = join(ROOT, 'node_modules/.cache/levqor-bench-peers');
/** The CLI every Levqor process runs: the copy, once main() has taken it. */
export const levqorCli = { path: join(ROOT, 'lib/cli.js') };
export const GRAPHILE_CHILD = benchEntry('peers/graphile-worker');
export const BOSS_CHILD = benchEntry('peers/pg-boss-worker');
/** Units per throughput try: `--units N` (issue 28 asks ≥ 50,000 for a run that decides a ratio); the default stays CI-friendly. */
export const N = numberArg('--units', SMOKE ? 200 : QUICK ? 2_000 : 10_000);
export const LAT_N = SMOKE ? 10 : QUICK ? 100 : 1_000;
/** pg-boss polls: one unit costs a poll interval, so fewer units (stated in the report). */
export const BOSS_LAT_N = SMOKE ? 3 : QUICK ? 20 : 200;
export const BOSS_DEFAULT_LAT_N = SMOKE ? 1 : QUICK ? 5 : 15;
/** pg-boss with defaults works ~0.5 jobs/s: measured for this long, then extrapolated. */
export const BOSS_DEFAULT_CAP_S = SMOKE ? 3 : QUICK ? 10 : 20;
/** Tries of each throughput configuration: `--tries N`. */
export const REPEATS = numberArg('--tries', QUICK ? 1 : 2);
/** Passes of the Levqor and graphile-worker latency measures (LAT_N units each). */
export const LAT_PASSES = QUICK ? 1 : 2;
export const STARTUP_REPEATS = SMOKE ? 1 : QUICK ? 2 : 5;
export const PGBENCH_SECONDS = SMOKE ? 1 : QUICK ? 5 : 10;
/** Spacing of the scheduled latency workflows' slots (one due at a time). */
export const SLOT_SPACING_S = 0.05;
export const TRACE_N = SMOKE ? 10 : QUICK ? 50 : 200;
/** Passes of the write-floor measure (bench/peers/floor.ts). */
export const FLOOR_PASSES = QUICK ? 1 : 3;

export const log = logger('peers');
export const databases = scratchDatabases('levqor_peers', log);
/** Child processes still running, killed by cleanup() if the benchmark fails half-way. */
export const running = new Set<Started['child']>();

export const times = (x: number | null): string =>
  x === null || !Number.isFinite(x) ? 'n/a' : `${x >= 10 ? Math.round(x) : round(x, 2)}×`;
/** The median; of an even count, the mean of the middle two. */
export { median } from '../lib/stats.js';

/** One row of several tries of a configuration: every numeric field the median of the tries', the load the highest seen. */
export function medianRow<T extends { load: number }>(tries: readonly T[]): T & { loads: number[] } {
  const [first] = tries;
  if (!first) throw new Error('no tries');
  const row: Record<string, unknown> = { ...first };
  for (const [k, v] of Object.entries(first)) {
    if (typeof v === 'number') row[k] = medianOf(tries.map((t) => (t as Record<string, unknown>)[k] as number));
  }
  return { ...(row as T), load: Math.max(...tries.map((t) => t.load)), loads: tries.map((t) => t.load) };
}

function medianOf(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

export const wallNow = (): number => performance.timeOrigin + performance.now();

export class CheckFailed extends Error {}

/** A promise that rejects with `message` after `ms`, unless cancelled first (then it never settles). */
export function deadline(ms: number, message: string): { promise: Promise<never>; cancel: () => void } {
  const ac = new AbortController();
  const promise = sleep(ms, undefined, { signal: ac.signal }).then(
    () => {
      throw new Error(message);
    },
    () => new Promise<never>(() => undefined),
  );
  promise.catch(() => undefined);
  return { promise, cancel: () => ac.abort() };
}

/** Waits for the first of `ps`, failing after `ms`. */
export async function within<T>(ms: number, message: string, ...ps: Promise<T>[]): Promise<T> {
  const d = deadline(ms, message);
  try {
    return await Promise.race([...ps, d.promise]);
  } finally {
    d.cancel();
  }
}

export interface Phase {
  name: string;
  waitedS: number;
  load: number;
  note: string;
}

export const phases: Phase[] = [];
/** Other benchmarks last seen idle, waiting for this one: not waited for again while they stay idle. */
const idleOthers = new Set<number>();
const MAX_PHASE_WAIT_S = 60;
const WAIT_BUDGET_S = 180;
let waitedMs = 0;

/**
 * Waits until no other benchmark runs (they would share the 2 cores), then records the load.
 * A benchmark that has itself been waiting (for us: bench/api waits for any benchmark) uses no
 * CPU and runs no statement in its database: after IDLE_WINDOW_S of that, we go on rather than wait
 * for each other. Not more than MAX_PHASE_WAIT_S per phase (nor WAIT_BUDGET_S in all); not at all in a smoke run.
 */
export async function phase(name: string): Promise<Phase> {
  const IDLE_WINDOW_S = 10;
  const t0 = performance.now();
  const maxWaitMs = SMOKE ? 0 : Math.min(MAX_PHASE_WAIT_S * 1000, Math.max(0, WAIT_BUDGET_S * 1000 - waitedMs));
  let warned = false;
  let idleSince: number | null = null;
  let last: { ticks: number; at: number } | null = null;
  let note = '';
  for (;;) {
    const pids = otherBenchmarks('peers').map((o) => o.pid);
    if (pids.length === 0) break;
    const ticks = treeCpuTicks(pids);
    const working = await benchBackendsWorking();
    const now = performance.now();
    const idle = last !== null && !working && (ticks - last.ticks) / 100 / ((now - last.at) / 1000) < 0.03;
    if (idle) idleSince ??= last?.at ?? now;
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

/** startProcess, remembering the child until it exits. */
export function spawnChild(cmd: string, args: readonly string[], opts?: ProcessOptions): Started {
  const p = startProcess(cmd, args, opts);
  running.add(p.child);
  p.done.finally(() => running.delete(p.child)).catch(() => undefined);
  return p;
}

/** Every added id handled exactly once across the processes, and the queue empty. */
export function checkIds(label: string, added: readonly (string | number)[], handledLists: readonly (readonly (string | number)[])[]) {
  const problems: string[] = [];
  const seen = new Map<string, number>();
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

/** One configuration's row in the throughput table (the median of its tries). */
export interface ThroughputRow {
  system: string;
  config: string;
  procs: number;
  units: number;
  wallS: number;
  spanS: number;
  spans: number[];
  load: number;
  loads: number[];
  nodeCpu: number;
  commits: number;
  /** Heap tuples inserted, updated and deleted in the system's database. */
  tuples: number;
  walMB: number;
  pgCpu: number | null;
  verified: string;
  split?: string;
  capped?: boolean;
}

/** A configuration of one system: one try at a time, then its row from all its tries. */
export interface ThroughputConfig {
  runTry: (i: number) => Promise<void>;
  row: () => ThroughputRow;
}

/** A configuration that keeps its tries: `row` gets them all. */
export function configuration<T>(runTry: (i: number) => Promise<T>, row: (tries: T[]) => ThroughputRow): ThroughputConfig {
  const tries: T[] = [];
  return { runTry: async (i) => void tries.push(await runTry(i)), row: () => row(tries) };
}

/**
 * Runs every configuration's tries round by round (try 1 of each, then try 2 of each…), so that
 * the machine's load, which drifts with the other sessions' work, falls on all systems alike;
 * then one row per configuration from the medians of its tries.
 */
export async function throughputInterleaved(configs: ThroughputConfig[]): Promise<ThroughputRow[]> {
  for (let i = 0; i < REPEATS; i++) for (const conf of configs) await conf.runTry(i);
  return configs.map((conf) => conf.row());
}

// ---------------------------------------------------------------------------- latency statistics

export interface Stats {
  n: number;
  min: number;
  p50: number;
  p99: number;
  max: number;
  samples: number[];
  load?: number | string;
  commits?: number;
  passes?: number[];
}

export function stats(ms: number[]): Stats {
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, min: s[0] ?? NaN, p50: percentile(s, 50), p99: percentile(s, 99), max: s.at(-1) ?? NaN, samples: ms };
}

/** Several passes of one latency measure as one: percentiles over all their samples, each pass's p50 and load listed, counters summed. */
function pooled(passes: Stats[]): Stats {
  const all = stats(passes.flatMap((p) => p.samples));
  const loads = passes.map((p) => p.load).filter((l) => l !== undefined);
  const commits = passes.every((p) => typeof p.commits === 'number') ? passes.reduce((a, p) => a + (p.commits ?? 0), 0) : undefined;
  return {
    ...all,
    passes: passes.map((p) => p.p50),
    ...(loads.length ? { load: loads.join(', ') } : {}),
    ...(commits === undefined ? {} : { commits }),
  };
}

/** Each key of several passes' results pooled. */
export function poolAll<K extends string>(results: readonly Record<K, Stats>[], keys: readonly K[]): Record<K, Stats> {
  return Object.fromEntries(keys.map((k) => [k, pooled(results.map((r) => r[k]))])) as Record<K, Stats>;
}
