// Settings and sizes shared by bench/cleanup.ts and its modules.
import { join } from 'node:path';
import process from 'node:process';
import { ROOT, SMOKE, flag, logger, numberArg } from '../lib/env.js';

export const KEEP = flag('--keep');
/** --quick: a 5 % scale smoke test of the script itself; it does not write RESULTS.md. BENCH_SMOKE=1: smaller still. */
export const QUICK = flag('--quick');
const SCALE = SMOKE ? 0.002 : QUICK ? 0.05 : 1;
export const BASELINE_S = numberArg('--baseline-seconds', SMOKE ? 1 : QUICK ? 5 : 30);
export const AFTER_S = SMOKE ? 1 : Math.max(5, Math.round(BASELINE_S / 2));
export const DB = `levqor_bench_cleanup_${process.pid}`;
/** Where the copy of lib/ the cleanup runs is taken (see snapshotCli). */
export const SNAPSHOT_DIR = join(ROOT, 'node_modules/.cache/levqor-bench-cleanup');

export const DAY = 86_400;
export const EXPIRED_RUNS = 1_000_000 * SCALE;
export const EVENTS_PER_RUN = 3;
export const RECENT_RUNS = 100_000 * SCALE;
export const NULL_RUN_EVENTS = SMOKE ? 20 : 2_000;
export const WORKFLOWS = 300;
export const DUE = 200;
export const CLAIM_LIMIT = 200;
/** One claim starts every CLAIM_PERIOD_MS (or right after the previous one when it took longer). */
export const CLAIM_PERIOD_MS = 20;
export const BATCH = 5000; // the default batch size (src/health/options.ts)
/** The retention windows `levqor cleanup` uses by default (src/health/options.ts). */
export const RUNS_DAYS = 90;
export const APPROVALS_DAYS = 30;

export const log = logger('bench:cleanup');
