// Peer benchmark: `npm run bench:peers` (builds lib/cli.js first).
//
// Levqor side by side with graphile-worker 0.17 and pg-boss 10, in one run on one server, each
// system in its own fresh database:
// 1. the physical limit of the server: pgbench -N (first and last);
// 2. throughput: 10,000 trivial units (Levqor: due no-op workflows run by `levqor scheduler --once`;
//    peers: queued no-op jobs), several configurations each, every unit verified to run exactly once;
// 3. start latency: one unit at a time, "became due / was added" → "started";
// 4. startup and shutdown of an empty runner.
// Writes the `## Peers` section of bench/RESULTS.md and drops every database it made. Exits
// non-zero when any exactly-once check fails (nothing is written then).
//
// Flags: --quick (fewer units and repeats, for trying the script out), --keep (keep the databases).
// Child processes: bench/peers/graphile-worker.mjs and bench/peers/pg-boss-worker.mjs.
// Modules: bench/peers/common.mjs (settings, shared state, helpers), pgbench.mjs, levqor.mjs, graphile.mjs,
// boss.mjs, floors.mjs, startup.mjs, report.mjs.
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { ROOT, dropDatabase, machineInfo, replaceSection, runProcess } from './lib.mjs';
import { bossLatency, bossSetup, bossThroughput } from './peers/boss.mjs';
import {
  BOSS_DEFAULT_LAT_N,
  BOSS_LAT_N,
  BUILT_CLI,
  CLI_SNAPSHOT,
  KEEP,
  LAT_N,
  LAT_PASSES,
  RESULTS,
  TRACE_N,
  CheckFailed,
  created,
  log,
  phase,
  poolAll,
  round,
  running,
  throughputInterleaved,
  version,
} from './peers/common.mjs';
import { floors } from './peers/floors.mjs';
import { graphileLatency, graphileSetup, graphileThroughput } from './peers/graphile.mjs';
import { levqorLatency, levqorSetup, levqorThroughput } from './peers/levqor.mjs';
import { pgbench } from './peers/pgbench.mjs';
import { report } from './peers/report.mjs';
import { startupShutdown } from './peers/startup.mjs';

// ---------------------------------------------------------------------------- main

/** `--only=levqor-latency`: that measurement alone, printed, nothing written (for working on the script). */
async function only(what) {
  const runs = {
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
  const r = runs[what] ? await runs[what]() : null;
  if (!r) throw new Error(`unknown --only=${what}`);
  console.log(JSON.stringify(r, null, 1));
}

async function main() {
  if (!existsSync(BUILT_CLI)) throw new Error('lib/cli.js is missing: run `npm run bench:peers` (it builds first)');
  cpSync(dirname(BUILT_CLI), CLI_SNAPSHOT, { recursive: true });
  const onlyArg = process.argv.find((a) => a.startsWith('--only='));
  if (onlyArg) return only(onlyArg.slice(7));
  const machine = await machineInfo();
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const commit = (await runProcess('git', ['rev-parse', '--short', 'HEAD'])).stdout.trim();
  const dirty = (await runProcess('git', ['status', '--porcelain', '--', 'src'])).stdout.trim() ? ' + uncommitted src changes' : '';
  const versions = {
    levqor: JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version,
    commit: `${commit}${dirty}`,
    graphile: version('graphile-worker'),
    boss: version('pg-boss'),
  };
  log(
    `machine: ${machine.cpu} ×${machine.nproc}, ${machine.postgres}, Node ${machine.node}; graphile-worker ${versions.graphile}, pg-boss ${versions.boss}`,
  );
  const pgState = { major: machine.postgresMajor, db: null };
  const pgbenchRows = [await pgbench(pgState, 'first')];

  const graphile = await graphileSetup();
  const boss = await bossSetup();
  const levqor = await levqorSetup();
  const tput = await throughputInterleaved([...levqorThroughput(levqor), ...graphileThroughput(graphile), ...bossThroughput(boss)]);
  const floor = await floors({ levqor, graphile, boss });

  // Levqor and graphile-worker, pass by pass in turn (the load drifts), then pooled.
  const levPasses = [];
  const gwPasses = [];
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
  pgbenchRows.push(await pgbench(pgState, 'last'));

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
  const old = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmarks\n';
  writeFileSync(RESULTS, replaceSection(old, 'Peers', body));
  log(`wrote the Peers section of ${RESULTS}`);
}

let cleaningUp = false;
// Dropping a database WITH (FORCE) ends the sessions still open on it, among them an idle client of
// ours when a check failed half-way: that is expected then, not a crash.
process.on('uncaughtException', (err) => {
  if (cleaningUp && (err?.code === '57P01' || /Connection terminated/.test(err?.message ?? ''))) return;
  console.error('[peers] FAILED:', err);
  process.exit(1);
});

async function cleanup() {
  cleaningUp = true;
  rmSync(CLI_SNAPSHOT, { recursive: true, force: true });
  for (const child of running) child.kill('SIGKILL');
  if (KEEP) {
    if (created.size) log(`kept databases: ${[...created].join(', ')}`);
    return;
  }
  for (const db of created) await dropDatabase(db).catch((err) => log(`could not drop ${db}: ${err.message}`));
}

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
]) {
  process.on(signal, () => {
    void cleanup().finally(() => process.exit(code));
  });
}

const t0 = performance.now();
try {
  await main();
  log(`done in ${round((performance.now() - t0) / 1000, 0)} s`);
} catch (err) {
  console.error(
    '[peers] FAILED:',
    err instanceof CheckFailed ? `exactly-once check: ${err.message}` : err instanceof Error ? err.stack : err,
  );
  process.exitCode = err instanceof CheckFailed ? 2 : 1;
} finally {
  await cleanup();
}
