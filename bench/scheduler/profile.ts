// Where the time goes: a default run with every query timed client side and logged by the server,
// then one with auto_explain for trigger times; WAL by resource manager (pg_waldump).
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { one, rows, withPg, type Client } from '../lib/db.js';
import { counterDelta, counters, resetDue, verifyScheduledRuns, type CounterDelta } from '../lib/levqor.js';
import { runProcess } from '../lib/proc.js';
import { parseServerLog, readFrom, type ServerLog } from '../lib/serverlog.js';
import { round } from '../lib/stats.js';
import { readTrace, traceOptions, type QueryTrace } from '../lib/trace.js';
import { WORKFLOWS, log } from './config.js';
import { readSpans, runSchedulers, type SchedulerRun, type Spans } from './schedulers.js';
import type { Throughput } from './throughput.js';

function serverLogPath(major: number): string | null {
  const p = process.env.BENCH_PG_LOG ?? `/var/log/postgresql/postgresql-${major}-main.log`;
  try {
    accessSync(p, constants.R_OK);
    return p;
  } catch {
    return null;
  }
}

const LOG_STATEMENTS = ['log_min_duration_statement = 0', 'log_parameter_max_length = 0'];
const LOG_PLANS = [
  'log_parameter_max_length = 0',
  "session_preload_libraries = 'auto_explain'",
  'auto_explain.log_min_duration = 0',
  'auto_explain.log_analyze = on',
  'auto_explain.log_triggers = on',
  'auto_explain.log_timing = on',
];

interface TableWrites {
  relname: string;
  ins: number;
  upd: number;
  hot: number;
}

async function tableWrites(c: Client): Promise<TableWrites[]> {
  await c.query('SELECT pg_stat_force_next_flush()'); // our own reset writes count before, not during
  await sleep(100);
  return rows<TableWrites>(
    c,
    'SELECT relname, n_tup_ins::int AS ins, n_tup_upd::int AS upd, n_tup_hot_upd::int AS hot FROM pg_stat_user_tables',
  );
}

export interface WalStats {
  rmgr: Record<string, { records: number; bytes: number; fpi: number }>;
  records: number;
  fpi: number;
  bytes: number;
}

/** WAL records and bytes by resource manager between two LSNs (pg_waldump --stats); null if unavailable. */
async function walStats(c: Client, major: number, from: string, to: string): Promise<WalStats | null> {
  try {
    const d = await one<{ dir: string }>(c, "SELECT current_setting('data_directory') AS dir");
    const bin = `/usr/lib/postgresql/${major}/bin/pg_waldump`;
    const r = await runProcess(existsSync(bin) ? bin : 'pg_waldump', ['--stats', '-p', join(d.dir, 'pg_wal'), '-s', from, '-e', to]);
    if (r.code !== 0) return null;
    const rmgr: WalStats['rmgr'] = {};
    for (const m of r.stdout.matchAll(/^(\w+)\s+(\d+) \(\s*[\d.]+\)\s+(\d+) \(\s*[\d.]+\)\s+(\d+) \(\s*[\d.]+\)\s+(\d+)/gm)) {
      rmgr[m[1] ?? ''] = { records: Number(m[2]), bytes: Number(m[5]), fpi: Number(m[4]) };
    }
    const t = /^Total\s+(\d+)\s+(\d+) \[[\d.]+%\]\s+(\d+) \[[\d.]+%\]\s+(\d+)/m.exec(r.stdout);
    return t ? { rmgr, records: Number(t[1]), fpi: Number(t[3]), bytes: Number(t[4]) } : null;
  } catch {
    return null;
  }
}

export interface ProfileRun {
  run: SchedulerRun;
  delta: CounterDelta;
  spans: Spans;
  tables: { table: string; ins: number; upd: number; hot: number }[];
  indexes: Record<string, number>;
  trace: QueryTrace | null;
  server: ServerLog | null;
  wal: WalStats | null;
}

/**
 * One default run (1 process, batch 200, concurrency 20) with `settings` set on its database
 * and, when `trace`, every query timed client side and WAL kept by a temporary slot.
 */
async function profileRun(
  { db, url }: Pick<Throughput, 'db' | 'url'>,
  { logPath, settings, trace, major }: { logPath: string | null; settings: string[]; trace: boolean; major: number },
): Promise<ProfileRun> {
  const traceFile = join(tmpdir(), `levqor-bench-trace-${process.pid}.json`);
  return withPg(url, async (c) => {
    const slot = await resetDue(c);
    if (logPath) for (const s of settings) await c.query(`ALTER DATABASE "${db}" SET ${s}`);
    const offset = logPath ? statSync(logPath).size : 0;
    const walSlot = trace
      ? await c.query('SELECT pg_create_physical_replication_slot($1, true, true)', [`levqor_bench_${process.pid}`]).then(
          () => true,
          () => false,
        )
      : false;
    const before = await counters(c, db);
    const writes0 = await tableWrites(c);
    const tracing = traceOptions(traceFile);
    const run = await runSchedulers(
      url,
      { procs: 1, batch: 200, conc: 20 },
      trace ? { nodeArgs: tracing.nodeArgs, extraEnv: tracing.env, sampleDb: db } : {},
    );
    const delta = await counterDelta(c, db, before);
    const after = await counters(c, db);
    if (logPath) await c.query(`ALTER DATABASE "${db}" RESET ALL`);
    const wal = walSlot ? await walStats(c, major, before.lsn, after.lsn) : null;
    if (walSlot) await c.query('SELECT pg_drop_replication_slot($1)', [`levqor_bench_${process.pid}`]);
    const spans = await readSpans(c);
    const check = await verifyScheduledRuns(c, WORKFLOWS, slot);
    if (check.problems.length || run.failed.length)
      throw new Error(`profile run check failed: ${[...check.problems, ...run.failed].join('; ')}`);
    const writes1 = await tableWrites(c);
    const tables = writes1
      .map((a) => {
        const b = writes0.find((x) => x.relname === a.relname) ?? { ins: 0, upd: 0, hot: 0 };
        return { table: a.relname, ins: a.ins - b.ins, upd: a.upd - b.upd, hot: a.hot - b.hot };
      })
      .filter((t) => t.ins || t.upd);
    const idx = await rows<{ t: string; n: number }>(
      c,
      `SELECT relname AS t, count(*)::int AS n FROM pg_index JOIN pg_class ON pg_class.oid = indrelid
      WHERE relname IN ('workflow_runs', 'workflow_events', 'workflows') GROUP BY relname`,
    );
    const server = logPath ? parseServerLog(readFrom(logPath, offset), db) : null;
    return {
      run,
      delta,
      spans,
      tables,
      indexes: Object.fromEntries(idx.map((r) => [r.t, r.n])),
      trace: trace ? readTrace(traceFile) : null,
      server,
      wal,
    };
  });
}

export type Profile = ProfileRun & { trace: QueryTrace; logPath: string | null; plans: ProfileRun | null };

/** Where the time goes: a traced run with statement times, then one with auto_explain for trigger times. */
export async function profile(tput: Throughput, major: number): Promise<Profile> {
  const logPath = serverLogPath(major);
  const light = await profileRun(tput, { logPath, settings: LOG_STATEMENTS, trace: true, major });
  log(`profile: tick ${round(light.spans.tick)} s, ${light.delta.commits} commits`);
  const plans = logPath ? await profileRun(tput, { logPath, settings: LOG_PLANS, trace: false, major }) : null;
  if (!light.trace) throw new Error('the traced run wrote no trace');
  return { ...light, trace: light.trace, logPath, plans };
}
