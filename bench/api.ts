// API benchmark: `npm run bench:api` (builds lib/cli.js first; scripts/bench.mjs bundles this file).
//
// 1. GET /api/approvals (default page of 50 among 10,000 pending Class C requests) and
//    GET /api/approvals/:id against a bare Fastify + pg server that sends the same SQL (imported
//    from src/approvals/queries.ts) and returns a byte-identical body (checked at start), with
//    autocannon at 10 and 50 connections, Levqor and bare alternating, ROUNDS rounds; the medians are
//    reported against the targets (list ≥ 90 %, by id ≥ 60 % of the bare route); a bare
//    `{"ok":true}` route once, for reference;
// 2. approve throughput: 4 deciders, each with its own token and HTTP loop, on distinct requests,
//    then a race of the 4 on shared requests, everything verified exactly once;
// 3. where the time goes: query timings, a query-traced server (round trips per request, token
//    look-ups), CPU profiles, page sizes, and a commit probe (NOTIFY, round trips).
// Writes the `## API` section of bench/RESULTS.md and drops its database. The parts live in
// bench/api/: config, setup, servers, bare, list, diagnosis, approve, verify, report(-detail), run.
//
// Flags: --quick (one round of 5 s runs), --keep (keep the database), --no-wait (measure even while
// another benchmark runs: for trying the script out; such rows are flagged busy). BENCH_SMOKE=1:
// tiny sizes, nothing written. `--variant bare` is the comparison server it starts.
import process from 'node:process';
import { serveBare } from './api/bare.js';
import { cleanup, main } from './api/run.js';
import { runBenchmark } from './lib/main.js';

const variant = process.argv.indexOf('--variant');
if (variant >= 0) {
  if (process.argv[variant + 1] !== 'bare') throw new Error(`--variant ${process.argv[variant + 1]}: the only comparison server is "bare"`);
  await serveBare();
} else {
  await runBenchmark('bench:api', () => main(), cleanup);
}
