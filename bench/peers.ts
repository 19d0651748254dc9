// Peer benchmark: `npm run bench:peers` (builds lib/cli.js first; scripts/bench.mjs bundles this file).
//
// Levqor side by side with graphile-worker 0.17 and pg-boss 10, in one run on one server, each
// system in its own fresh database:
// 1. the physical limit of the server: pgbench -N (first and last);
// 2. throughput: 10,000 trivial units (Levqor: due no-op workflows run by `levqor scheduler --once`;
//    peers: queued no-op jobs), several configurations each, every unit verified to run exactly once;
// 3. start latency: one unit at a time, "became due / was added" → "started" (Levqor's manual runs
//    queued by insertQueuedRun, imported from src/runs/lifecycle-queries.ts);
// 4. startup and shutdown of an empty runner.
// Writes the `## Peers` section of bench/RESULTS.md and drops every database it made. Exits
// non-zero when any exactly-once check fails (nothing is written then).
//
// Flags: --quick (fewer units and repeats, for trying the script out), --keep (keep the databases),
// --units N (units per throughput try; default 10,000) and --tries N (tries per configuration; default 2):
// issue 28 measured with `npm run bench:peers -- --units 50000 --tries 3`.
// Child processes: bench/peers/graphile-worker.ts and bench/peers/pg-boss-worker.ts (bundled beside this one).
// Modules: bench/peers/common.ts (settings, shared state, helpers), pgbench.ts, levqor.ts, graphile.ts,
// boss.ts, floor.ts, floors.ts, startup.ts, report.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { ROOT, isoNow } from './lib/env.js';
import { machineInfo, snapshotCli, version, type CliSnapshot } from './lib/machine.js';
import { runBenchmark } from './lib/main.js';
import { writeSection } from './lib/markdown.js';
import { round } from './lib/stats.js';
import { bossLatency, bossSetup, bossThroughput } from './peers/boss.js';
import {
  BOSS_DEFAULT_LAT_N,
  BOSS_LAT_N,
  KEEP,
  LAT_N,
  LAT_PASSES,
  SNAPSHOT_DIR,
  TRACE_N,
  CheckFailed,
  databases,
  levqorCli,
  log,
  phase,
  poolAll,
  running,
  throughputInterleaved,
} from './peers/common.js';
import { floors } from './peers/floors.js';
import { graphileLatency, graphileSetup, graphileThroughput, type GraphileLatency } from './peers/graphile.js';
import { levqorLatency, levqorSetup, levqorThroughput, type LevqorLatency } from './peers/levqor.js';
import { pgbenchPasses } from './peers/pgbench.js';
import { report } from './peers/report.js';
import { startupShutdown } from './peers/startup.js';

let snapshot: CliSnapshot | null = null;

/** `--only=levqor-latency`: that measurement alone, printed, nothing written (for working on the script). */
async function only(what: string): Promise<void> {
  const runs: Record<string, () => Promise<unknown>> = {
    'levqor-latency': () => levqorLatency(LAT_N),
    'levqor-trace': () => levqorLatency(TRACE_N, { trace: true, modes: ['manual'] }),
    'levqor-throughput': async () => throughputInterleaved(levqorThroughput(await levqorSetup())),
    floors: async () => {
      const graphile = await graphileSetup();
      const boss = await bossSetup();
      try {
        return await floors({ levqor: await levqorSetup(), graphile, boss });
      } finally {
        await boss.boss.stop({ graceful: false, wait: true }).catch(() => undefined);
      }
    },
    'graphile-throughput': async () => throughputInterleaved(graphileThroughput(await graphileSetup())),
    'graphile-latency': async () => graphileLatency(await graphileSetup()),
    'boss-throughput': async () => throughputInterleaved(bossThroughput(await bossSetup())),
  };
  const run = runs[what];
  if (!run) throw new Error(`unknown --only=${what}`);
  console.log(JSON.stringify(await run(), null, 1));
}

async function main(): Promise<void> {
  snapshot = await snapshotCli(SNAPSHOT_DIR, 'bench:peers');
  levqorCli.path = snapshot.cli;
  const onlyArg = process.argv.find((a) => a.startsWith('--only='));
  if (onlyArg) return only(onlyArg.slice(7));
  const machine = await machineInfo();
  const date = isoNow();
  const versions = {
    levqor: (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version,
    commit: `${snapshot.head}${snapshot.dirty ? ' + uncommitted src changes' : ''}`,
    graphile: version('graphile-worker'),
    boss: version('pg-boss'),
  };
  log(
    `machine: ${machine.cpu} ×${machine.nproc}, ${machine.postgres}, Node ${machine.node}; graphile-worker ${versions.graphile}, pg-boss ${versions.boss}`,
  );
  const pgbench = pgbenchPasses(machine.postgresMajor);
  const pgbenchRows = [await pgbench('first')];

  const graphile = await graphileSetup();
  const boss = await bossSetup();
  const levqor = await levqorSetup();
  const tput = await throughputInterleaved([...levqorThroughput(levqor), ...graphileThroughput(graphile), ...bossThroughput(boss)]);
  const floor = await floors({ levqor, graphile, boss });

  // Levqor and graphile-worker, pass by pass in turn (the load drifts), then pooled.
  const levPasses: LevqorLatency[] = [];
  const gwPasses: GraphileLatency[] = [];
  for (let i = 0; i < LAT_PASSES; i++) {
    const l = await levqorLatency(LAT_N);
    log(
      `Levqor latency pass ${i + 1} p50: manual ${round(l.manual.p50, 1)} ms, scheduled ${round(l.schedStep.p50, 1)} ms (claim ${round(l.schedClaim.p50, 1)} ms)`,
    );
    levPasses.push(l);
    const g = await graphileLatency(graphile);
    log(`graphile-worker latency pass ${i + 1} p50 ${round(g.start.p50, 1)} ms`);
    gwPasses.push(g);
  }
  const levLat = poolAll(levPasses, ['manual', 'manualFromCommit', 'schedClaim', 'schedStep']);
  const gwLat = poolAll(gwPasses, ['start', 'locked', 'fromSent']);
  const bossLat = await bossLatency(boss, { units: BOSS_LAT_N, work: { pollingIntervalSeconds: 0.5 }, label: 'poll 0.5 s' });
  log(`pg-boss latency p50 ${round(bossLat.p50, 1)} ms`);
  const bossDefaultLat = await bossLatency(boss, { units: BOSS_DEFAULT_LAT_N, work: {}, label: 'defaults' });
  log(`pg-boss (defaults) latency p50 ${round(bossDefaultLat.p50, 1)} ms`);
  await phase('Levqor latency, traced');
  const traced = {
    manual: (await levqorLatency(TRACE_N, { trace: true, modes: ['manual'] })).traced,
    scheduled: (await levqorLatency(TRACE_N, { trace: true, modes: ['scheduled'] })).traced,
  };

  const startup = await startupShutdown(graphile, boss);
  await boss.boss.stop({ graceful: false, wait: true }).catch(() => undefined);
  pgbenchRows.push(await pgbench('last'));

  const body = report({
    machine,
    date,
    versions,
    pgbenchRows,
    tput,
    floor,
    lat: { levqor: levLat, graphile: gwLat, boss: bossLat, bossDefault: bossDefaultLat },
    startup,
    trace: traced,
  });
  writeSection('Peers', body, log);
}

let cleaningUp = false;
// Dropping a database WITH (FORCE) ends the sessions still open on it, among them an idle client of
// ours when a check failed half-way: that is expected then, not a crash.
process.on('uncaughtException', (err: Error & { code?: string }) => {
  if (cleaningUp && (err.code === '57P01' || /Connection terminated/.test(err.message))) return;
  console.error('[peers] FAILED:', err);
  process.exit(1);
});

async function cleanup(): Promise<void> {
  cleaningUp = true;
  snapshot?.remove();
  for (const child of running) child.kill('SIGKILL');
  await databases.dropAll(KEEP);
}

const t0 = performance.now();
await runBenchmark(
  'peers',
  async () => {
    await main();
    log(`done in ${round((performance.now() - t0) / 1000, 0)} s`);
  },
  cleanup,
  (err) => (err instanceof CheckFailed ? 2 : 1),
);
