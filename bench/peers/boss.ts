// pg-boss's side of bench/peers.ts: setup, throughput (`work()`), start latency.
// The worker processes are bench/peers/pg-boss-worker.ts.
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import PgBoss from 'pg-boss';
import { dbUrl, one, rows, withPg, type Client } from '../lib/db.js';
import { counterDelta, counters } from '../lib/levqor.js';
import { childCpuSeconds, onLines } from '../lib/proc.js';
import { round } from '../lib/stats.js';
import {
  BOSS_CHILD,
  BOSS_DEFAULT_CAP_S,
  N,
  CheckFailed,
  checkIds,
  configuration,
  databases,
  deadline,
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

/** What a `work` worker (pg-boss-worker.ts) wrote: ids handled, and when it started (wall-clock ms). */
interface WorkReport {
  ids: string[];
  firstStart: number;
}

export interface BossDb {
  db: string;
  url: string;
  boss: PgBoss;
}

/** A pg-boss instance for the benchmark's own use: installs the schema, creates the queue, inserts; no maintenance. */
async function bossClient(url: string): Promise<PgBoss> {
  const boss = new PgBoss({ connectionString: url, supervise: false, schedule: false, max: 2 });
  boss.on('error', (err) => log(`pg-boss (bench client) error: ${err.message}`));
  await boss.start();
  return boss;
}

export async function bossSetup(): Promise<BossDb> {
  const db = await databases.create('pgboss');
  const url = dbUrl(db);
  const boss = await bossClient(url);
  await boss.createQueue('noop');
  return { db, url, boss };
}

export async function bossReset(c: Client, boss: PgBoss): Promise<string[]> {
  await c.query('TRUNCATE pgboss.job, pgboss.archive');
  for (let i = 0; i < N; i += 5_000) {
    await boss.insert(Array.from({ length: Math.min(5_000, N - i) }, (_, k) => ({ name: 'noop', data: { i: i + k } })));
  }
  const ids = await rows<{ id: string }>(c, `SELECT id::text AS id FROM pgboss.job WHERE name = 'noop' AND state = 'created'`);
  await c.query('VACUUM ANALYZE pgboss.job');
  await c.query('CHECKPOINT');
  return ids.map((r) => r.id);
}

const BOSS_CONFIGS: {
  label: string;
  procs: number;
  workers: number;
  work: { batchSize?: number; pollingIntervalSeconds?: number };
  capS?: number;
}[] = [
  { label: 'defaults (1 worker, batchSize 1, pollingIntervalSeconds 2)', procs: 1, workers: 1, work: {}, capS: BOSS_DEFAULT_CAP_S },
  {
    label: 'tuned: 4 workers each (work() called 4 times), batchSize 100, pollingIntervalSeconds 0.5',
    procs: 4,
    workers: 4,
    work: { batchSize: 100, pollingIntervalSeconds: 0.5 },
  },
];

export function bossThroughput({ db, url, boss }: BossDb): ThroughputConfig[] {
  return BOSS_CONFIGS.map((conf) =>
    configuration(
      async (i) => {
        const t = await withPg(url, async (c) => {
          const added = await bossReset(c, boss);
          if (added.length !== N) throw new Error(`pg-boss insert: ${added.length} jobs created, expected ${N}`);
          const { load } = await phase(`pg-boss throughput, ${conf.procs} × ${conf.label} #${i + 1}`);
          const before = await counters(c, db);
          const outs = Array.from({ length: conf.procs }, (_, k) => join(tmpdir(), `levqor-peers-boss-${process.pid}-${k}.json`));
          const cpu0 = childCpuSeconds();
          let handled = 0;
          let allHandled: () => void = () => undefined;
          const handledAll = new Promise<void>((resolve) => (allHandled = resolve));
          const t0 = performance.now();
          const t0Wall = wallNow();
          // A child stopped before it has set up its SIGTERM handler (still loading, while the others
          // emptied the queue) would die without reporting: each is stopped only once it said "ready".
          const readies: Promise<void>[] = [];
          const started = outs.map((out) => {
            const p = spawnChild(process.execPath, [
              BOSS_CHILD,
              'work',
              JSON.stringify({ url, out, workers: conf.workers, work: conf.work }),
            ]);
            let ready: () => void = () => undefined;
            readies.push(new Promise<void>((resolve) => (ready = resolve)));
            onLines(p.child, (line) => {
              if (line.startsWith('ready ')) ready();
              if (line.startsWith('handled ')) handled += Number(line.slice(8));
              if (handled >= N) allHandled();
            });
            void p.done.then(() => ready());
            return p;
          });
          const exited = Promise.all(started.map((p) => p.done));
          if (conf.capS) {
            const cap = deadline(conf.capS * 1000, 'cap');
            await Promise.race([handledAll, cap.promise.catch(() => undefined), exited]);
            cap.cancel();
          } else {
            await within<unknown>(300_000, 'pg-boss: the jobs were not all handled within 300 s', handledAll, exited);
            // complete() is not awaited by pg-boss's worker: wait until the database says every job is completed.
            for (let k = 0; k < 500; k++) {
              const r = await one<{ n: number }>(c, `SELECT count(*)::int AS n FROM pgboss.job WHERE state = 'completed'`);
              if (r.n >= N) break;
              await sleep(20);
            }
          }
          const doneWall = wallNow();
          await within<unknown>(60_000, 'pg-boss: a worker did not get ready within 60 s', Promise.all(readies));
          for (const p of started) p.child.kill('SIGTERM');
          const results = await exited;
          const nodeCpu = childCpuSeconds() - cpu0;
          const wallS = (Math.max(...results.map((r) => r.endedAt)) - t0) / 1000;
          const delta = await counterDelta(c, db, before);
          const problems = results.filter((r) => r.code !== 0).map((r) => `pg-boss child exit ${r.code}: ${r.stderr.slice(0, 1000)}`);
          if (problems.length) throw new CheckFailed(problems.join('\n'));
          const reports = outs.map((o) => JSON.parse(readFileSync(o, 'utf8')) as WorkReport);
          for (const o of outs) rmSync(o, { force: true });
          const s = await one<{ completed: number; created: number; other: number; retried: number; span: number }>(
            c,
            `SELECT count(*) FILTER (WHERE state = 'completed')::int AS completed, count(*) FILTER (WHERE state = 'created')::int AS created,
                  count(*) FILTER (WHERE state NOT IN ('completed', 'created'))::int AS other,
                  count(*) FILTER (WHERE retry_count > 0)::int AS retried,
                  (extract(epoch FROM max(completed_on)) - extract(epoch FROM min(started_on)))::float8 AS span
           FROM pgboss.job WHERE name = 'noop'`,
          );
          const doneIds = await rows<{ id: string }>(c, `SELECT id::text AS id FROM pgboss.job WHERE state = 'completed'`);
          const handledIds = reports.flatMap((r) => r.ids);
          const check = checkIds(
            'pg-boss',
            conf.capS ? doneIds.map((r) => r.id) : added,
            reports.map((r) => r.ids),
          );
          if (s.completed !== handledIds.length)
            check.problems.push(`pg-boss: ${handledIds.length} handled but ${s.completed} completed in the database`);
          if (s.other !== 0 || s.retried !== 0)
            check.problems.push(`pg-boss: ${s.other} jobs neither created nor completed, ${s.retried} retried`);
          if (!conf.capS && s.completed !== N) check.problems.push(`pg-boss: ${s.completed} completed, expected ${N}`);
          if (s.completed + s.created !== N) check.problems.push(`pg-boss: ${s.completed} completed + ${s.created} waiting ≠ ${N}`);
          if (check.problems.length)
            throw new CheckFailed(`pg-boss ${conf.label}: exactly-once check failed:\n  ${check.problems.join('\n  ')}`);
          const firstStart = Math.min(...reports.map((r) => r.firstStart));
          // Capped: the rate while working (first job start to the stop), extrapolated to N.
          const units = s.completed;
          const spanS = conf.capS ? (doneWall - firstStart) / 1000 : s.span;
          return {
            wallS,
            spanS,
            units,
            capped: Boolean(conf.capS),
            load,
            nodeCpu,
            split: reports.map((r) => r.ids.length).join('/'),
            startupS: (firstStart - t0Wall) / 1000,
            ...delta,
          };
        });
        log(
          `pg-boss ${conf.procs} × ${conf.label} #${i + 1}: ${t.units} units, wall ${round(t.wallS)} s, span ${round(t.spanS)} s → ${round(t.units / t.spanS, 1)} units/s (verified exactly once)`,
        );
        return t;
      },
      (tries) => {
        const best = medianRow(tries);
        return {
          system: 'pg-boss',
          config: `${conf.procs} process${conf.procs > 1 ? 'es' : ''}, ${conf.label}`,
          procs: conf.procs,
          ...best,
          spans: tries.map((x) => x.spanS),
          verified: best.capped
            ? `stopped after ${conf.capS} s: each completed job handled once, the other ${N - best.units} still waiting, no retries`
            : `each of the ${N} inserted job ids handled once (ids recorded by the handler), all completed, no retries`,
        };
      },
    ),
  );
}

// ---------------------------------------------------------------------------- latency

export async function bossLatency(
  { db, url, boss }: BossDb,
  { units, work, label }: { units: number; work: { pollingIntervalSeconds?: number }; label: string },
): Promise<Stats> {
  return withPg(url, async (c) => {
    await c.query('TRUNCATE pgboss.job, pgboss.archive');
    const loop = spawnChild(process.execPath, [BOSS_CHILD, 'latency', JSON.stringify({ url, workers: 1, work })]);
    const waiting = new Map<string, () => void>();
    const starts = new Map<string, number[]>();
    let readyFn: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (readyFn = resolve));
    onLines(loop.child, (line) => {
      const [kind, id = '', t] = line.split(' ');
      if (kind === 'ready') readyFn();
      if (kind === 'start') {
        starts.set(id, [...(starts.get(id) ?? []), Number(t)]);
        waiting.get(id)?.();
      }
    });
    await Promise.race([
      ready,
      loop.done.then((r): never => {
        throw new Error(`pg-boss loop exited: ${r.stderr}`);
      }),
    ]);
    const { load } = await phase(`pg-boss latency (${label})`);
    const before = await counters(c, db);
    const poll = (work.pollingIntervalSeconds ?? 2) * 1000;
    const ids: string[] = [];
    for (let i = 0; i < units; i++) {
      // A random phase against the worker's poll, so that units don't lock onto its cycle.
      await sleep(Math.random() * poll);
      let resolveFn: () => void = () => undefined;
      const started = new Promise<void>((resolve) => (resolveFn = resolve));
      const id = await boss.send('noop', {});
      if (!id) throw new Error('pg-boss send returned no id');
      waiting.set(id, resolveFn);
      if (!starts.has(id)) await within(poll * 3 + 10_000, `pg-boss job ${id} did not start`, started);
      waiting.delete(id);
      ids.push(id);
    }
    for (let k = 0; k < 200; k++) {
      const r = await one<{ n: number }>(c, `SELECT count(*)::int AS n FROM pgboss.job WHERE state = 'completed'`);
      if (r.n >= units) break;
      await sleep(20);
    }
    const delta = await counterDelta(c, db, before);
    loop.child.kill('SIGTERM');
    const exit = await loop.done;
    const jobs = await rows<{ id: string; state: string; retry_count: number; created: number }>(
      c,
      `SELECT id::text AS id, state, retry_count, extract(epoch FROM created_on)::float8 AS created FROM pgboss.job WHERE name = 'noop'`,
    );
    const problems = [];
    if (exit.code !== 0) problems.push(`pg-boss loop exit ${exit.code}: ${exit.stderr.slice(0, 500)}`);
    const twice = [...starts.values()].filter((s) => s.length !== 1).length;
    if (twice || starts.size !== units) problems.push(`${starts.size} jobs started (${twice} more than once), expected ${units}`);
    const notDone = jobs.filter((r) => r.state !== 'completed' || r.retry_count !== 0).length;
    if (jobs.length !== units || notDone) problems.push(`${jobs.length} jobs in the table, ${notDone} not completed once`);
    if (problems.length) throw new CheckFailed(`pg-boss latency: exactly-once check failed:\n  ${problems.join('\n  ')}`);
    const created = new Map(jobs.map((r) => [r.id, r.created]));
    return { ...stats(ids.map((id) => (starts.get(id)?.[0] ?? NaN) - (created.get(id) ?? NaN) * 1000)), load, commits: delta.commits };
  });
}
