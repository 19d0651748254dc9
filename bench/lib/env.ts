// Where the benchmarks run: the repository, the Postgres server, their flags and the smoke mode.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

/** The repository: the first folder above this module with a package.json and src/ (bundled, it runs from .levqor/bench/). */
function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src'))) return dir;
    if (dirname(dir) === dir) throw new Error(`bench: no repository above ${from}`);
  }
}

export const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/** The server to benchmark: BENCH_ADMIN_URL, default the local trust-auth superuser. */
export const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * BENCH_SMOKE=1: tiny sizes, no waiting for other benchmarks, and the section printed instead of
 * written to bench/RESULTS.md; test/bench-smoke.test.ts runs benchmarks so, so that they cannot rot.
 */
export const SMOKE = process.env.BENCH_SMOKE === '1';

/** Whether a `--flag` was given. */
export const flag = (name: string): boolean => process.argv.includes(name);

/** The number after `--name N`, or `dflt`. */
export function numberArg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  const n = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(n) ? n : dflt;
}

/** A logger with the benchmark's prefix. */
export const logger =
  (prefix: string) =>
  (...a: unknown[]): void =>
    console.log(`[${prefix}]`, ...a);

/** A bundled bench entry (scripts/bench.mjs writes them to .levqor/bench/): its path. */
export const benchEntry = (name: string): string => join(ROOT, '.levqor/bench', `${name}.mjs`);

/** The time a measurement started, to the second. */
export const isoNow = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
