// Cleanup benchmark: `npm run bench:cleanup` (builds lib/cli.js first; scripts/bench.mjs bundles this file).
//
// One fresh database, migrated by `levqor migrate`, seeded with 1,000,000 expired runs and
// 3,000,000 expired events (plus recent rows that must survive and 200 due workflows), then:
// 0. single batches of each table under EXPLAIN ANALYZE in rolled-back transactions (where a
//    batch's time goes; the statements built by src/maintenance/queries.ts), and
//    `levqor cleanup --dry-run --json` (its counts checked against the seed);
// 1. the scheduler's claim transaction (its due scan imported from src/scheduler/queries.ts,
//    rolled back) in a loop for 30 s: its latency without cleanup;
// 2. the same loop while `levqor cleanup --json` runs in a child process: cleanup wall time,
//    rows/s, claim latency during it, the ratio of the p99s (target ≤ 2×);
// 3. every statement of the cleanup timed by the server (log_min_duration_statement), so
//    each batch is timed and the longest statement is known (target: none over 1 s);
// 4. a check that exactly the expired rows went and every recent row survived (exit 1 if not).
// Writes the `## Cleanup` section of bench/RESULTS.md and drops its database. The parts live in
// bench/cleanup/: config, data (seed, checks), anatomy, claim (claim loop, sampler), measure,
// serverlog, report, run.
//
// Flags: --keep (keep the database), --baseline-seconds N (default 30), --no-wait (do not wait
// for other benchmarks), --quick (5 % scale smoke test; writes node_modules/.cache/…/quick.md).
// BENCH_SMOKE=1: smaller still, the section printed, nothing written.
import { cleanupAfter, main } from './cleanup/run.js';
import { runBenchmark } from './lib/main.js';

await runBenchmark('bench:cleanup', main, cleanupAfter);
