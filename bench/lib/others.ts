// Other benchmarks on the shared machine (any work tree's): found with pgrep, their CPU read from
// /proc and their databases' sessions from pg_stat_activity, so that a benchmark can wait for
// them at start and flag the measurements they overlapped.
import { execFile, execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { one, withPg } from './db.js';
import { ADMIN_URL, SMOKE, flag } from './env.js';
import { processTree, treeCpuTicks } from './proc.js';

export interface OtherBenchmark {
  pid: number;
  /** Its command line. */
  cmd: string;
}

/** Command lines of other benchmarks seen during the measurements, for the report. */
export const seenOthers = new Set<string>();

const PATTERN = 'bench/[A-Za-z0-9_/.-]+\\.mjs';

/** The bench script a command line runs with node (bench/x.mjs, or its bundle .levqor/bench/x.mjs), if any: not a linter reading one. */
export function benchScript(cmdline: string): string | null {
  const t = cmdline.split(/\s+/);
  for (let i = 0; i < t.length; i++) {
    if (!/(^|\/)node$/.test(t[i] ?? '')) continue;
    let j = i + 1;
    while (j < t.length && (t[j] ?? '').startsWith('-')) j += /^(--import|--require|-r|--loader|--experimental-loader)$/.test(t[j] ?? '') ? 2 : 1;
    const script = /(^|\/)(bench\/[\w/.-]+\.mjs)$/.exec(t[j] ?? '')?.[2];
    if (script) return script;
  }
  return null;
}

function parse(lines: string, self: string): OtherBenchmark[] {
  const ours = processTree([process.pid]);
  return lines
    .split('\n')
    .map((l) => ({ pid: Number(l.split(' ')[0]), cmd: l.replace(/^\d+\s+/, '') }))
    .filter(({ pid, cmd }) => {
      const script = benchScript(cmd);
      if (!script || ours.has(pid)) return false;
      // Neither this benchmark (nor its workers) in another work tree, nor the query tracer.
      return script !== `bench/${self}.mjs` && !script.startsWith(`bench/${self}/`) && !/^bench\/lib(\.mjs$|\/)/.test(script);
    });
}

/** Other benchmark processes running now (not `self`, e.g. 'api', in any work tree; not this process or its children). */
export function otherBenchmarks(self: string): OtherBenchmark[] {
  try {
    return parse(execFileSync('pgrep', ['-af', PATTERN], { encoding: 'utf8' }), self);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** The same, without blocking the event loop (while something is timing). */
export function otherBenchmarksAsync(self: string): Promise<OtherBenchmark[]> {
  return new Promise((resolve) => {
    execFile('pgrep', ['-af', PATTERN], { encoding: 'utf8' }, (err, stdout) => resolve(err ? [] : parse(stdout, self)));
  });
}

/** Whether a session of another benchmark's database (levqor_bench_*, not `exceptPrefix…`) is running a statement or inside a transaction. */
export async function benchBackendsWorking(exceptPrefix = '\u0000'): Promise<boolean> {
  const r = await withPg(ADMIN_URL, (c) =>
    one<{ n: number }>(
      c,
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname LIKE 'levqor\\_bench\\_%' AND datname NOT LIKE $1
       AND state IS NOT NULL AND state <> 'idle' AND pid <> pg_backend_pid()`,
      [`${exceptPrefix}%`],
    ),
  );
  return r.n > 0;
}

export interface Wait {
  waitedS: number;
  busy: boolean;
  /** Other benchmarks that were running but idle (waiting for this one) when it went on. */
  idleOthers?: number;
}

/**
 * Waits (up to maxMinutes) until no other benchmark runs, since they would measure each other.
 * Others that only wait for this one (no CPU, no statement in their databases for 45 s) do not
 * count. --no-wait (or a smoke run) goes on at once.
 */
export async function waitForQuiet(opts: { self: string; ownDb: string; maxMinutes: number; log: (...a: unknown[]) => void }): Promise<Wait> {
  const t0 = performance.now();
  if (SMOKE || flag('--no-wait')) return { waitedS: 0, busy: otherBenchmarks(opts.self).length > 0 };
  let lastLog = -60_000;
  let last: { ticks: number; at: number } | null = null;
  let idleSince: number | null = null;
  for (let others = otherBenchmarks(opts.self); others.length; others = otherBenchmarks(opts.self)) {
    const now = performance.now();
    const list = others.map((o) => o.cmd).join(' | ');
    if (now - t0 > opts.maxMinutes * 60_000) {
      opts.log(`still busy after ${opts.maxMinutes} min, measuring anyway: ${list}`);
      return { waitedS: (now - t0) / 1000, busy: true };
    }
    const ticks = treeCpuTicks(others.map((o) => o.pid));
    const working = await benchBackendsWorking(opts.ownDb);
    if (last && !working && (ticks - last.ticks) / 100 / ((now - last.at) / 1000) < 0.03) idleSince ??= last.at;
    else if (last) idleSince = null;
    last = { ticks, at: now };
    if (idleSince !== null && now - idleSince > 45_000) {
      opts.log(`other benchmarks are idle (waiting for this one): going on: ${list}`);
      return { waitedS: (now - t0) / 1000, busy: false, idleOthers: others.length };
    }
    if (now - lastLog > 60_000) {
      opts.log(`waiting for other benchmarks to finish: ${list}`);
      lastLog = now;
    }
    await sleep(5_000);
  }
  return { waitedS: (performance.now() - t0) / 1000, busy: false };
}

/** Whether another benchmark runs now; its command lines are remembered for the report. */
export function othersRunning(self: string): boolean {
  const found = otherBenchmarks(self);
  for (const o of found) seenOthers.add(o.cmd);
  return found.length > 0;
}
