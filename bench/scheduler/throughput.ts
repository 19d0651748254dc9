// The physical limit of the server (pgbench -N), and the throughput of WORKFLOWS due no-op
// workflows run by `levqor scheduler --once` in each configuration of MATRIX.
import { performance } from 'node:perf_hooks';
import { dbUrl, withPg } from '../lib/db.js';
import { counterDelta, counters, migrateLevqor, resetDue, seedWorkflows, verifyScheduledRuns } from '../lib/levqor.js';
import { load1 } from '../lib/machine.js';
import { pgbench } from '../lib/pgbench.js';
import { postgresCpuSeconds } from '../lib/proc.js';
import { round } from '../lib/stats.js';
import { CLI, KEEP, MATRIX, PGBENCH_CLIENTS, PGBENCH_SCALE, PGBENCH_SECONDS, TPUT_REPEATS, WORKFLOWS, databases, log } from './config.js';
import { readSpans, runSchedulers, type Config, type SchedulerRun, type Spans } from './schedulers.js';

export interface PgbenchRow {
  when: string;
  cmd: string;
  clients: number;
  tps: number;
  latency: number;
  pgCpu: number | null;
  load: number;
}

/** pgbench -N with 4 clients and with 1 (PGBENCH_CLIENTS) on a fresh scale-10 database. */
export async function physicalLimit(major: number, when: string): Promise<PgbenchRow[]> {
  const db = await databases.create('pgbench');
  try {
    const run = await pgbench(major, db, PGBENCH_SCALE);
    const rows: PgbenchRow[] = [];
    for (const [c, j] of PGBENCH_CLIENTS) {
      const pg0 = postgresCpuSeconds();
      const r = await run(c, j, PGBENCH_SECONDS);
      const pg1 = postgresCpuSeconds();
      rows.push({ when, ...r, pgCpu: pg0 === null || pg1 === null ? null : pg1 - pg0, load: load1() });
      log(`pgbench -c ${c} (${when}): ${r.tps} tps`);
    }
    return rows;
  } finally {
    await databases.drop(db, KEEP);
  }
}

export interface TputRow extends Config, SchedulerRun, Spans {
  commits: number;
  walMB: number;
  load: number;
  entriesPerRun: number;
  ticks: number[];
}

export interface Throughput {
  db: string;
  url: string;
  rows: TputRow[];
  migrateMs: number;
  seedMs: number;
}

/** Each configuration TPUT_REPEATS times on one database, every run verified exactly once; the fastest tick kept. */
export async function throughput(): Promise<Throughput> {
  const db = await databases.create('tput');
  const url = dbUrl(db);
  const migrateMs = await migrateLevqor(CLI, url);
  const seedMs = await withPg(url, async (c) => {
    const t0 = performance.now();
    await seedWorkflows(c, WORKFLOWS, 'extract(epoch FROM now()) - 1');
    return performance.now() - t0;
  });
  log(`throughput db ready: migrate ${round(migrateMs / 1000)} s, seed ${round(seedMs / 1000)} s`);
  const rows: TputRow[] = [];
  for (const [procs, batch, conc] of MATRIX) {
    const cfg = { procs, batch, conc };
    const tries: Omit<TputRow, 'ticks'>[] = [];
    for (let i = 0; i < TPUT_REPEATS; i++) {
      const t = await withPg(url, async (c) => {
        const slot = await resetDue(c);
        const before = await counters(c, db);
        const load = load1();
        const run = await runSchedulers(url, cfg);
        const delta = await counterDelta(c, db, before);
        const spans = await readSpans(c);
        const check = await verifyScheduledRuns(c, WORKFLOWS, slot);
        check.problems.push(...run.failed);
        if (check.problems.length)
          throw new Error(`exactly-once check failed for ${JSON.stringify(cfg)}:\n  ${check.problems.join('\n  ')}`);
        return { ...cfg, ...run, commits: delta.commits, walMB: delta.walMB, ...spans, load, entriesPerRun: check.entriesPerRun };
      });
      log(
        `${procs} proc, batch ${batch}, conc ${conc} #${i + 1}: wall ${round(t.wallMs / 1000)} s, tick ${round(t.tick)} s ` +
          `→ ${Math.round(WORKFLOWS / t.tick)} runs/s (verified exactly once)`,
      );
      tries.push(t);
    }
    // Noise from other sessions only slows a run down: report the fastest tick, list the others.
    const [fastest] = [...tries].sort((a, b) => a.tick - b.tick);
    if (fastest) rows.push({ ...fastest, ticks: tries.map((t) => t.tick) });
  }
  return { db, url, rows, migrateMs, seedMs };
}
