// Scheduler benchmark: `npm run bench:scheduler` (builds lib/cli.js first; scripts/bench.mjs bundles this file).
//
// 1. the physical limit of the server: pgbench -N;
// 2. throughput: 10,000 due no-op workflows run by `levqor scheduler --once`, 1 and 4
//    processes, several batch sizes and concurrencies, each verified exactly once;
// 3. due-scan cost: 1,000 due workflows among 10,000 and among 1,000,000 (the due scan's plan from
//    DUE_WORKFLOWS_SQL, imported from src/scheduler/queries.ts);
// 4. a profile run: round trips, commits and server time per statement.
// Writes the `## Scheduler` section of bench/RESULTS.md and drops every database it made. The parts
// live in bench/scheduler/: config, schedulers, throughput, scan, profile, report.
//
// Flags: --quick (one config per measure, short pgbench), --keep (keep the databases).
// BENCH_SMOKE=1: tiny sizes, nothing written.
import { existsSync } from 'node:fs';
import { SMOKE, isoNow } from './lib/env.js';
import { load1, machineInfo } from './lib/machine.js';
import { runBenchmark } from './lib/main.js';
import { writeSection } from './lib/markdown.js';
import { CLI, KEEP, databases, log } from './scheduler/config.js';
import { profile } from './scheduler/profile.js';
import { report } from './scheduler/report.js';
import { dueScans } from './scheduler/scan.js';
import { physicalLimit, throughput } from './scheduler/throughput.js';

async function main(): Promise<void> {
  if (!existsSync(CLI)) throw new Error('lib/cli.js is missing: run `npm run bench:scheduler` (it builds first)');
  const machine = await machineInfo();
  const date = isoNow();
  const loads = [load1()];
  log(`machine: ${machine.cpu} ×${machine.nproc}, ${machine.postgres}, Node ${machine.node}`);
  const pgbench = await physicalLimit(machine.postgresMajor, 'first');
  const tput = await throughput();
  const scans = await dueScans();
  const prof = await profile(tput, machine.postgresMajor);
  if (!SMOKE) pgbench.push(...(await physicalLimit(machine.postgresMajor, 'last')));
  loads.push(load1());
  writeSection('Scheduler', report({ machine, date, loads, pgbench, tput, scans, prof }), log);
}

await runBenchmark('bench', main, () => databases.dropAll(KEEP));
