// Other benchmarks on the shared machine: found with pgrep, their CPU read from /proc, so that
// bench/cleanup.mjs can wait for them at start and flag the measurements they overlapped.
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_URL, withPg } from '../lib.mjs';
import { DB, NO_WAIT, log } from './config.mjs';

/** Other benchmarks that ran (used CPU) during a measurement, for the report. */
export const seenOthers = new Set();

/** A pgrep line of another benchmark: node or npm running a bench script, not a linter reading one. */
const isOtherBenchmark = (l) => Boolean(l) && !/bench\/(cleanup|lib)\.mjs/.test(l) && !/eslint|tsc|vitest|prettier|biome/.test(l);
const PATTERN = 'bench/[A-Za-z0-9_/-]+\\.mjs';

/** Other benchmark processes (bench/*.mjs) running now: pgrep lines. */
export function otherBenchmarks() {
  let found = [];
  try {
    found = execFileSync('pgrep', ['-af', PATTERN], { encoding: 'utf8' }).split('\n').filter(isOtherBenchmark);
  } catch {
    // pgrep exits 1 when nothing matches
  }
  return found;
}

/** The same, without blocking the event loop (the claim loop is timing). */
export function otherBenchmarksAsync() {
  return new Promise((resolve) => {
    execFile('pgrep', ['-af', PATTERN], { encoding: 'utf8' }, (err, stdout) => {
      resolve(err ? [] : stdout.split('\n').filter(isOtherBenchmark));
    });
  });
}

/** CPU ticks used so far by the given processes and all their descendants (from /proc). */
export function treeCpuTicks(pids) {
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
  const {
    rows: [r],
  } = await withPg(ADMIN_URL, (c) =>
    c.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname LIKE 'levqor\\_bench\\_%' AND datname NOT LIKE $1
       AND state IS NOT NULL AND state <> 'idle' AND pid <> pg_backend_pid()`,
      [`${DB}%`],
    ),
  );
  return r.n > 0;
}

/**
 * Waits (up to maxMinutes) until no other benchmark runs, since they would measure each other. Other
 * benchmarks that only wait for this one (no CPU, no statement in their databases for 45 s) do not count.
 */
export async function waitForQuiet(maxMinutes = 10) {
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
