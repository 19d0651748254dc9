// The scheduler's claim transaction in a loop on its own connection (its latency is what the
// cleanup must not hurt), and a sampler of what the server's backends are doing meanwhile.
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { DUE_WORKFLOWS_SQL } from '../../src/scheduler/queries.js';
import { one, rows, withPg, type Client } from '../lib/db.js';
import { ADMIN_URL } from '../lib/env.js';
import { load1 } from '../lib/machine.js';
import { otherBenchmarks, otherBenchmarksAsync, seenOthers } from '../lib/others.js';
import { treeCpuTicks } from '../lib/proc.js';
import { percentiles, round } from '../lib/stats.js';
import { CLAIM_LIMIT, CLAIM_PERIOD_MS, log } from './config.js';

/** The scheduler's due scan: the statement src/scheduler/queries.ts exports, which every claim sends. */
export const CLAIM_SQL = DUE_WORKFLOWS_SQL;

export interface ClaimSample {
  /** Date.now() at the claim's start. */
  at: number;
  /** ms of the claim SELECT's round trip. */
  select: number;
  /** ms of the whole transaction. */
  tx: number;
  rows: number;
}

/** A separate connection running the claim transaction (BEGIN; claim SELECT; ROLLBACK) until `until` settles. */
export async function claimLoop(url: string, until: () => Promise<unknown>) {
  const sql = CLAIM_SQL;
  const client = new pg.Client({ connectionString: url, application_name: 'levqor-bench-claim' });
  await client.connect();
  const { pid } = await one<{ pid: number }>(client, 'SELECT pg_backend_pid() AS pid');
  let done = false;
  const stop = () => (done = true);
  const samples: ClaimSample[] = [];
  const started: { resolve: () => void; reject: (err: unknown) => void } = { resolve: () => undefined, reject: () => undefined };
  const ready = new Promise<void>((resolve, reject) => Object.assign(started, { resolve, reject }));
  const run = (async () => {
    try {
      // Two warm-up claims, not recorded (plan cache, catalog cache).
      for (let i = 0; i < 2; i++) {
        await client.query('BEGIN');
        await client.query(sql, [CLAIM_LIMIT, null]);
        await client.query('ROLLBACK');
      }
      started.resolve();
      until().then(stop, stop);
      while (!done) {
        const at = Date.now();
        const t0 = performance.now();
        await client.query('BEGIN');
        const t1 = performance.now();
        const r = await client.query(sql, [CLAIM_LIMIT, null]);
        const t2 = performance.now();
        await client.query('ROLLBACK');
        const t3 = performance.now();
        samples.push({ at, select: t2 - t1, tx: t3 - t0, rows: r.rowCount ?? 0 });
        const wait = CLAIM_PERIOD_MS - (t3 - t0);
        if (wait > 0 && !done) await sleep(wait);
      }
    } finally {
      await client.end();
    }
    return samples;
  })();
  run.catch((err: unknown) => started.reject(err));
  return { pid, ready, run };
}

/** Samples load and what the claim and cleanup backends (and every other backend on the server) are doing. */
export interface Sample {
  counts: { cleanup: Map<string, number>; claim: Map<string, number> };
  samples: number;
  loadMax: number;
  othersMean: number;
  /** Other benchmarks that ran (used CPU) meanwhile. */
  benchmarks: number;
}

export function sampler(db: string): { stop: () => Promise<Sample> } {
  let done = false;
  const counts: Sample['counts'] = { cleanup: new Map(), claim: new Map() };
  const loads: number[] = [];
  const others: number[] = [];
  let samples = 0;
  // Other benchmarks: their CPU (process trees, from /proc) is read before and after, never during
  // the measurement; one that only waits for this one uses none and does not count.
  const t0 = Date.now();
  const seen = new Map<number, string>(); // pid → command line
  for (const o of otherBenchmarks('cleanup')) seen.set(o.pid, o.cmd.slice(0, 120));
  const ticks0 = new Map([...seen.keys()].map((pid) => [pid, treeCpuTicks([pid])]));
  const run = withPg(ADMIN_URL, async (c) => {
    let lastLoad = 0;
    let lastPgrep = 0;
    while (!done) {
      if (Date.now() - lastPgrep > 5000) {
        lastPgrep = Date.now();
        void otherBenchmarksAsync('cleanup').then((found) => {
          for (const o of found) if (!seen.has(o.pid)) seen.set(o.pid, o.cmd.slice(0, 120));
        });
      }
      const found = await rows<{ ours: boolean; app: string; what: string }>(
        c,
        `SELECT datname = $1 AS ours, application_name AS app,
                CASE WHEN state = 'idle' THEN 'idle (between transactions)'
                     WHEN state LIKE 'idle in transaction%' THEN 'idle in transaction (client working)'
                     WHEN wait_event IS NULL THEN 'active: on CPU'
                     ELSE 'active: ' || wait_event_type || ':' || wait_event END AS what
         FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
        [db],
      );
      for (const r of found) {
        const map = r.ours && r.app === 'levqor' ? counts.cleanup : r.ours && r.app === 'levqor-bench-claim' ? counts.claim : null;
        if (map) map.set(r.what, (map.get(r.what) ?? 0) + 1);
      }
      others.push(found.filter((r) => !r.ours && r.what.startsWith('active')).length);
      samples++;
      if (Date.now() - lastLoad > 1000) {
        loads.push(loadavg()[0] ?? 0);
        lastLoad = Date.now();
      }
      await sleep(50);
    }
  });
  return {
    stop: async () => {
      done = true;
      await run;
      const seconds = (Date.now() - t0) / 1000;
      let benchmarks = 0;
      for (const [pid, cmd] of seen) {
        const alive = existsSync(`/proc/${pid}`);
        const cpu = alive ? (treeCpuTicks([pid]) - (ticks0.get(pid) ?? 0)) / 100 / seconds : null;
        // Gone before the end (it finished: it ran), or used more than 3 % of a core.
        if (cpu === null || cpu > 0.03) {
          benchmarks++;
          seenOthers.add(cmd);
        }
      }
      return {
        counts,
        samples,
        loadMax: Math.max(...loads, 0),
        othersMean: others.reduce((a, b) => a + b, 0) / Math.max(1, others.length),
        benchmarks,
      };
    },
  };
}

/** The WAL position, checkpoints and commits of the current database so far. */
export function counters(c: Client): Promise<{ lsn: string; checkpoints: number; commits: string }> {
  return one(
    c,
    `SELECT pg_current_wal_lsn()::text AS lsn,
    (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter)::int AS checkpoints,
    (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database())::bigint AS commits`,
  );
}

/** Baseline: the claim loop alone for `seconds`. */
export interface Baseline {
  samples: ClaimSample[];
  loads: (number | 'n/a')[];
  sample: Sample;
  busy: boolean;
}

export async function baseline(url: string, db: string, seconds: number, label: string): Promise<Baseline> {
  const l0 = load1();
  const s = sampler(db);
  const loop = await claimLoop(url, () => sleep(seconds * 1000));
  const samples = await loop.run;
  const sample = await s.stop();
  const l1 = load1();
  log(
    `${label}: ${samples.length} claims, select p50 ${round(percentiles(samples.map((x) => x.select)).p50)} ms, p99 ${round(percentiles(samples.map((x) => x.select)).p99)} ms (load ${l0} → ${l1})`,
  );
  return { samples, loads: [l0, l1, round(sample.loadMax)], sample, busy: sample.benchmarks > 0 };
}
