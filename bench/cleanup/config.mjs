// Settings, sizes and small helpers shared by bench/cleanup.mjs and its modules.
import { loadavg } from 'node:os';
import process from 'node:process';

export const KEEP = process.argv.includes('--keep');
export const NO_WAIT = process.argv.includes('--no-wait');
/** --quick: a 5 % scale smoke test of the script itself; it does not write RESULTS.md. */
export const QUICK = process.argv.includes('--quick');
const SCALE = QUICK ? 0.05 : 1;
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
export const BASELINE_S = arg('--baseline-seconds', QUICK ? 5 : 30);
export const AFTER_S = Math.max(5, Math.round(BASELINE_S / 2));
export const DB = `levqor_bench_cleanup_${process.pid}`;

export const DAY = 86_400;
export const EXPIRED_RUNS = 1_000_000 * SCALE;
export const EVENTS_PER_RUN = 3;
export const RECENT_RUNS = 100_000 * SCALE;
export const NULL_RUN_EVENTS = 2_000;
export const WORKFLOWS = 300;
export const DUE = 200;
export const CLAIM_LIMIT = 200;
/** One claim starts every CLAIM_PERIOD_MS (or right after the previous one when it took longer). */
export const CLAIM_PERIOD_MS = 20;
export const BATCH = 5000; // the default batch size (src/health/options.ts)
/** The retention windows `levqor cleanup` uses by default (src/health/options.ts). */
export const RUNS_DAYS = 90;
export const APPROVALS_DAYS = 30;

export const log = (...a) => console.log('[bench:cleanup]', ...a);
export const round = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : Number(x.toFixed(d)));
export const int = (x) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : Math.round(x).toLocaleString('en'));
export const loads3 = () =>
  loadavg()
    .map((l) => round(l, 2))
    .join(' / ');

export function percentiles(xs) {
  if (xs.length === 0) return { n: 0, min: null, p50: null, p99: null, max: null, mean: null };
  const s = [...xs].sort((a, b) => a - b);
  const at = (p) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return { n: s.length, min: s[0], p50: at(0.5), p99: at(0.99), max: s.at(-1), mean: s.reduce((a, b) => a + b, 0) / s.length };
}
