// Due-scan cost: DUE due workflows among a small and among a large table, measured alternately;
// and EXPLAIN of the due scan, the statement src/scheduler/queries.ts exports (DUE_WORKFLOWS_SQL).
import { performance } from 'node:perf_hooks';
import { DUE_WORKFLOWS_SQL } from '../../src/scheduler/queries.js';
import { dbUrl, one, rows, withPg, type Client } from '../lib/db.js';
import { counterDelta, counters, migrateLevqor, resetDue, seedWorkflows, verifyScheduledRuns } from '../lib/levqor.js';
import { lowerMedian, round } from '../lib/stats.js';
import { CLI, DUE, KEEP, SCAN_REPEATS, SCAN_SIZES, databases, log } from './config.js';
import { readSpans, runSchedulers, type SchedulerRun, type Spans } from './schedulers.js';

/** The due scan under EXPLAIN (ANALYZE, BUFFERS) with $1 = batch, $2 = now, in rolled-back transactions; the second, warm run. */
async function explainClaim(c: Client, batch: number): Promise<{ sql: string; plan: string[] }> {
  let plan: string[] = [];
  for (let i = 0; i < 2; i++) {
    await c.query('BEGIN');
    const found = await rows<{ 'QUERY PLAN': string }>(c, `EXPLAIN (ANALYZE, BUFFERS) ${DUE_WORKFLOWS_SQL}`, [batch, Date.now() / 1000]);
    await c.query('ROLLBACK');
    plan = found.map((r) => r['QUERY PLAN']);
  }
  return { sql: DUE_WORKFLOWS_SQL, plan };
}

type ScanRun = SchedulerRun & Spans & { walMB: number };

export interface Scan {
  label: string;
  total: number;
  db: string;
  url: string;
  seedMs: number;
  /** The SQL condition of the due workflows. */
  due: string;
  runs: ScanRun[];
  explain: { sql: string; plan: string[] } | null;
  size: { t: string; i: string; pages: number };
  tick: number;
  bestTick: number;
  walMB: number;
  wall: number;
}

async function buildScanDb(total: number): Promise<Scan> {
  const label = total >= 1e6 ? `${total / 1e6}M` : `${total / 1e3}k`;
  const db = await databases.create(`scan${label}`);
  const url = dbUrl(db);
  await migrateLevqor(CLI, url);
  const seedMs = await withPg(url, async (c) => {
    const t0 = performance.now();
    await seedWorkflows(c, total, 'extract(epoch FROM now()) + 86400 + i');
    await c.query('VACUUM ANALYZE');
    return performance.now() - t0;
  });
  log(`due-scan db ${label} ready: seed + VACUUM ANALYZE ${round(seedMs / 1000)} s`);
  // Every (total / DUE)-th workflow is the due one.
  const due = `(substr(name, 4)::int % ${total / DUE}) = 0`;
  return {
    label,
    total,
    db,
    url,
    seedMs,
    due,
    runs: [],
    explain: null,
    size: { t: '', i: '', pages: 0 },
    tick: NaN,
    bestTick: NaN,
    walMB: NaN,
    wall: NaN,
  };
}

async function measureScan(s: Scan): Promise<void> {
  const run = await withPg(s.url, async (c) => {
    const slot = await resetDue(c, s.due);
    s.explain ??= await explainClaim(c, 200);
    const before = await counters(c, s.db);
    const r = await runSchedulers(s.url, { procs: 1, batch: 200, conc: 20 });
    const delta = await counterDelta(c, s.db, before);
    const spans = await readSpans(c);
    const check = await verifyScheduledRuns(c, DUE, slot);
    check.problems.push(...r.failed);
    if (check.problems.length) throw new Error(`due-scan ${s.label} check failed:\n  ${check.problems.join('\n  ')}`);
    return { ...r, ...spans, walMB: delta.walMB };
  });
  log(`due-scan ${s.label} #${s.runs.length + 1}: wall ${round(run.wallMs / 1000)} s, tick ${round(run.tick, 3)} s`);
  s.runs.push(run);
}

/** DUE due among each of SCAN_SIZES, measured alternately so that machine noise hits both alike. */
export async function dueScans(): Promise<Scan[]> {
  const scans: Scan[] = [];
  for (const total of SCAN_SIZES) scans.push(await buildScanDb(total));
  for (let i = 0; i < SCAN_REPEATS; i++) for (const s of scans) await measureScan(s);
  for (const s of scans) {
    s.size = await withPg(s.url, (c) =>
      one<Scan['size']>(
        c,
        `SELECT pg_size_pretty(pg_total_relation_size('workflows')) AS t, pg_size_pretty(pg_relation_size('workflows_due_idx')) AS i,
              (pg_relation_size('workflows') / current_setting('block_size')::int)::int AS pages`,
      ),
    );
    s.tick = lowerMedian(s.runs.map((r) => r.tick));
    s.bestTick = Math.min(...s.runs.map((r) => r.tick));
    s.walMB = lowerMedian(s.runs.map((r) => r.walMB));
    s.wall = lowerMedian(s.runs.map((r) => r.wallMs / 1000));
    await databases.drop(s.db, KEEP);
  }
  return scans;
}
