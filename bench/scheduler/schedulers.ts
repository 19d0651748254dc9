// `levqor scheduler --once` processes started together, and what bench/scheduler checks and reads
// after them: the tick and run spans (lib/levqor.ts verifyScheduledRuns checks exactly once).
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { one } from '../lib/db.js';
import type { Client } from '../lib/db.js';
import { ADMIN_URL } from '../lib/env.js';
import { levqorEnv, sampleBackends, type BackendSamples } from '../lib/levqor.js';
import { childCpuSeconds, postgresCpuSeconds, startProcess } from '../lib/proc.js';
import { CLI } from './config.js';

export interface Config {
  procs: number;
  batch: number;
  conc: number;
}

export interface SchedulerRun {
  wallMs: number;
  nodeCpu: number;
  pgCpu: number | null;
  failed: string[];
  warnings: string[];
  backends: BackendSamples | null;
}

/**
 * Starts `procs` schedulers together; wall time is from the first spawn to the last exit.
 * With `sampleDb`, also samples what their backends do while they run.
 */
export async function runSchedulers(
  url: string,
  { procs, batch, conc }: Config,
  {
    nodeArgs = [],
    extraEnv = {},
    sampleDb = null,
  }: { nodeArgs?: string[]; extraEnv?: Record<string, string>; sampleDb?: string | null } = {},
): Promise<SchedulerRun> {
  const args = [...nodeArgs, CLI, 'scheduler', '--once', '--batch-size', String(batch), '--concurrency', String(conc)];
  const cpu0 = childCpuSeconds();
  const pg0 = postgresCpuSeconds();
  const t0 = performance.now();
  const started = Array.from({ length: procs }, () => startProcess(process.execPath, args, { env: levqorEnv(url, extraEnv) }));
  const all = Promise.all(started.map((p) => p.done));
  const backends = sampleDb ? await sampleBackends(ADMIN_URL, sampleDb, all) : null;
  const results = await all;
  const pg1 = postgresCpuSeconds();
  const wallMs = Math.max(...results.map((r) => r.endedAt)) - t0;
  const warnings = [
    ...new Set(
      results.flatMap((r) =>
        r.stderr
          .split('\n')
          .filter((l) => /Warning/.test(l))
          .map((l) => l.replace(/\(node:\d+\) /, '')),
      ),
    ),
  ];
  return {
    wallMs,
    nodeCpu: childCpuSeconds() - cpu0,
    pgCpu: pg0 === null || pg1 === null ? null : pg1 - pg0,
    failed: results.filter((r) => r.code !== 0).map((r) => `exit ${r.code}: ${(r.stderr || r.stdout).slice(0, 2000)}`),
    warnings,
    backends,
  };
}

export interface Spans {
  /** Seconds from the tick's first query to its last write (scheduler_instances). */
  tick: number;
  /** Seconds from the first run's start to the last run's end. */
  run: number;
  /** Runs claimed by each process, "a/b/…". */
  split: string;
}

/** Tick span from scheduler_instances (after startup, to the last write) and run span from the runs. */
export async function readSpans(c: Client): Promise<Spans> {
  const t = await one<{ tick: number; summaries: { claimed?: number }[] }>(
    c,
    `SELECT (max(last_tick_at) - min(started_at))::float8 AS tick,
      count(*)::int AS instances, json_agg(last_summary ORDER BY id) AS summaries FROM scheduler_instances`,
  );
  const r = await one<{ run: number }>(c, 'SELECT (max(finished_at) - min(started_at))::float8 AS run FROM workflow_runs');
  return { tick: t.tick, run: r.run, split: t.summaries.map((s) => s.claimed ?? '?').join('/') };
}
