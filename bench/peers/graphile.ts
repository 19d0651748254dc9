// graphile-worker's side of bench/peers.ts: setup, throughput (`runOnce()`), start latency.
// The worker processes are bench/peers/graphile-worker.ts.
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import gw from 'graphile-worker';
import { dbUrl, one, withPg } from '../lib/db.js';
import { counterDelta, counters } from '../lib/levqor.js';
import { childCpuSeconds, onLines } from '../lib/proc.js';
import { round } from '../lib/stats.js';
import {
  GRAPHILE_CHILD,
  LAT_N,
  N,
  CheckFailed,
  checkIds,
  configuration,
  databases,
  log,
  medianRow,
  phase,
  spawnChild,
  stats,
  wallNow,
  within,
  type Stats,
  type ThroughputConfig,
} from './common.js';

/** What a `once` worker (graphile-worker.ts) wrote: ids handled, and times (wall-clock ms). */
interface OnceReport {
  ids: string[];
  firstLocked: number;
  firstStart: number;
  tEnd: number;
}

export interface GraphileDb {
  db: string;
  url: string;
}

const silentGraphileLogger = new gw.Logger(() => (level, message) => {
  const name: string = level; // a const enum of strings
  if (name === 'error') process.stderr.write(`[graphile ${level}] ${message}\n`);
});

export async function graphileSetup(): Promise<GraphileDb> {
  const db = await databases.create('graphile');
  const url = dbUrl(db);
  await gw.runMigrations({ connectionString: url, logger: silentGraphileLogger });
  return { db, url };
}

/** Adds N noop jobs in one add_jobs call (before the runner starts); returns their ids. */
export async function graphileAddJobs(url: string): Promise<string[]> {
  const utils = await gw.makeWorkerUtils({ connectionString: url, logger: silentGraphileLogger });
  try {
    const jobs = await utils.addJobs(Array.from({ length: N }, (_, i) => ({ identifier: 'noop', payload: { i } })));
    return jobs.map((j) => String(j.id));
  } finally {
    await utils.release();
  }
}

const GRAPHILE_BATCHED = { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 };
const GRAPHILE_CONFIGS = [
  { label: 'defaults (concurrency 1, pool 10, no batching)', procs: 1, cfg: {} },
  { label: 'concurrency 24, no batching', procs: 4, cfg: { concurrency: 24 } },
  {
    label: 'concurrency 24, batched: localQueue.size 500, completeJobBatchDelay 0, failJobBatchDelay 0',
    procs: 1,
    cfg: { concurrency: 24, preset: { worker: GRAPHILE_BATCHED } },
  },
  {
    label: 'concurrency 24, batched: localQueue.size 500, completeJobBatchDelay 0, failJobBatchDelay 0',
    procs: 4,
    cfg: { concurrency: 24, preset: { worker: GRAPHILE_BATCHED } },
  },
];

export function graphileThroughput({ db, url }: GraphileDb): ThroughputConfig[] {
  return GRAPHILE_CONFIGS.map((conf) =>
    configuration(
      async (i) => {
        const t = await withPg(url, async (c) => {
          await c.query('TRUNCATE graphile_worker._private_jobs CASCADE');
          const added = await graphileAddJobs(url);
          await c.query('VACUUM ANALYZE graphile_worker._private_jobs');
          await c.query('CHECKPOINT');
          const { load } = await phase(`graphile-worker throughput, ${conf.procs} × ${conf.label} #${i + 1}`);
          const before = await counters(c, db);
          const outs = Array.from({ length: conf.procs }, (_, k) => join(tmpdir(), `levqor-peers-gw-${process.pid}-${k}.json`));
          const cpu0 = childCpuSeconds();
          const t0Wall = wallNow();
          const t0 = performance.now();
          const started = outs.map((out) =>
            spawnChild(process.execPath, [GRAPHILE_CHILD, 'once', JSON.stringify({ url, out, ...conf.cfg })]),
          );
          const results = await Promise.all(started.map((p) => p.done));
          const nodeCpu = childCpuSeconds() - cpu0;
          const wallS = (Math.max(...results.map((r) => r.endedAt)) - t0) / 1000;
          const delta = await counterDelta(c, db, before);
          const problems = results.filter((r) => r.code !== 0).map((r) => `graphile child exit ${r.code}: ${r.stderr.slice(0, 1000)}`);
          if (problems.length) throw new CheckFailed(problems.join('\n'));
          const reports = outs.map((o) => JSON.parse(readFileSync(o, 'utf8')) as OnceReport);
          for (const o of outs) rmSync(o, { force: true });
          const check = checkIds(
            'graphile-worker',
            added,
            reports.map((r) => r.ids),
          );
          const left = await one<{ n: number; retried: number }>(
            c,
            'SELECT count(*)::int AS n, count(*) FILTER (WHERE attempts > 1 OR last_error IS NOT NULL)::int AS retried FROM graphile_worker._private_jobs',
          );
          if (left.n !== 0) check.problems.push(`graphile-worker: ${left.n} jobs left in the queue (${left.retried} retried or failed)`);
          if (check.problems.length)
            throw new CheckFailed(`graphile-worker ${conf.label}: exactly-once check failed:\n  ${check.problems.join('\n  ')}`);
          // Startup excluded: the first job's locked_at (database clock) to the end of the last runOnce().
          // (A process that found the queue already emptied by the others reports no job.)
          const working = reports.filter((r) => r.ids.length > 0);
          const first = Math.min(...working.map((r) => r.firstLocked));
          const end = Math.max(...reports.map((r) => r.tEnd));
          return {
            wallS,
            spanS: (end - first) / 1000,
            load,
            nodeCpu,
            split: reports.map((r) => r.ids.length).join('/'),
            startupS: (Math.min(...working.map((r) => r.firstStart)) - t0Wall) / 1000,
            ...delta,
          };
        });
        log(
          `graphile ${conf.procs} × ${conf.label} #${i + 1}: wall ${round(t.wallS)} s, span ${round(t.spanS)} s → ${Math.round(N / t.spanS)} units/s (verified exactly once)`,
        );
        return t;
      },
      (tries) => {
        const best = medianRow(tries);
        return {
          system: 'graphile-worker',
          config: `\`runOnce\`, ${conf.procs} process${conf.procs > 1 ? 'es' : ''}, ${conf.label}`,
          procs: conf.procs,
          units: N,
          ...best,
          spans: tries.map((x) => x.spanS),
          verified: `each of the ${N} added job ids handled once (ids recorded by the task), queue empty afterwards, no retries`,
        };
      },
    ),
  );
}

// ---------------------------------------------------------------------------- latency

export interface GraphileLatency {
  start: Stats;
  locked: Stats;
  fromSent: Stats;
}

export async function graphileLatency({ db, url }: GraphileDb): Promise<GraphileLatency> {
  return withPg(url, async (c) => {
    await c.query('TRUNCATE graphile_worker._private_jobs CASCADE');
    const loop = spawnChild(process.execPath, [GRAPHILE_CHILD, 'loop', JSON.stringify({ url })]);
    const waiting = new Map<string, () => void>();
    const starts = new Map<string, { t: number; locked: number }[]>();
    let readyFn: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (readyFn = resolve));
    onLines(loop.child, (line) => {
      const [kind, id = '', t, locked] = line.split(' ');
      if (kind === 'ready') readyFn();
      if (kind === 'start') {
        starts.set(id, [...(starts.get(id) ?? []), { t: Number(t), locked: Number(locked) }]);
        waiting.get(id)?.();
      }
    });
    await Promise.race([
      ready,
      loop.done.then((r): never => {
        throw new Error(`graphile loop exited: ${r.stderr}`);
      }),
    ]);
    const { load } = await phase('graphile-worker latency (defaults: LISTEN/NOTIFY)');
    const before = await counters(c, db);
    const added: { id: string; run_at: number; sent: number }[] = [];
    for (let i = 0; i < LAT_N; i++) {
      let resolveFn: () => void = () => undefined;
      const started = new Promise<void>((resolve) => (resolveFn = resolve));
      const sent = wallNow();
      const j = {
        ...(await one<{ id: string; run_at: number }>(
          c,
          `SELECT id::text AS id, extract(epoch FROM run_at)::float8 AS run_at FROM graphile_worker.add_job('noop', '{}'::json)`,
        )),
        sent,
      };
      waiting.set(j.id, resolveFn);
      if (!starts.has(j.id)) await within(10_000, `graphile job ${j.id} did not start`, started);
      waiting.delete(j.id);
      added.push(j);
      await sleep(Math.random() * 5);
    }
    await sleep(200);
    const delta = await counterDelta(c, db, before);
    loop.child.kill('SIGTERM');
    const exit = await loop.done;
    const problems = [];
    if (exit.code !== 0) problems.push(`graphile loop exit ${exit.code}: ${exit.stderr.slice(0, 500)}`);
    const twice = [...starts.values()].filter((s) => s.length !== 1).length;
    if (twice || starts.size !== LAT_N) problems.push(`${starts.size} jobs started (${twice} more than once), expected ${LAT_N}`);
    const left = await one<{ n: number }>(c, 'SELECT count(*)::int AS n FROM graphile_worker._private_jobs');
    if (left.n) problems.push(`${left.n} jobs left in the queue`);
    if (problems.length) throw new CheckFailed(`graphile-worker latency: exactly-once check failed:\n  ${problems.join('\n  ')}`);
    const first = (id: string) => starts.get(id)?.[0] ?? { t: NaN, locked: NaN };
    return {
      start: { ...stats(added.map((j) => first(j.id).t - j.run_at * 1000)), load, commits: delta.commits },
      locked: stats(added.map((j) => first(j.id).locked - j.run_at * 1000)),
      fromSent: stats(added.map((j) => first(j.id).t - j.sent)),
    };
  });
}
