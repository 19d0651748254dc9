// Levqor's side of bench/peers.ts: setup, throughput (`scheduler --once`), enqueue and start latency.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { insertQueuedRun } from '../../src/runs/lifecycle-queries.js';
import { dbUrl, one, queryable, rows, withPg } from '../lib/db.js';
import {
  TIMELINE_ENTRIES,
  counterDelta,
  counters,
  levqorEnv,
  migrateLevqor,
  resetDue,
  seedTenant,
  seedWorkflows,
  seedWorkflowsSql,
  verifyScheduledRuns,
  type CounterDelta,
} from '../lib/levqor.js';
import { childCpuSeconds, onLines } from '../lib/proc.js';
import { readTrace, traceOptions, type QueryTrace } from '../lib/trace.js';
import {
  KEEP,
  N,
  SLOT_SPACING_S,
  CheckFailed,
  configuration,
  databases,
  levqorCli,
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
import { round } from '../lib/stats.js';

const LEVQOR_CONFIGS: { procs: number; args: string[]; label: string }[] = [
  { procs: 1, args: [], label: 'defaults: batch 200, concurrency 20' },
  { procs: 4, args: [], label: 'defaults: batch 200, concurrency 20' },
  { procs: 1, args: ['--batch-size', '1000', '--concurrency', '50'], label: 'batch 1000, concurrency 50' },
];

export interface LevqorDb {
  db: string;
  url: string;
}

/** Levqor's throughput database: migrated, N no-op workflows seeded. */
export async function levqorSetup(): Promise<LevqorDb> {
  const db = await databases.create('levqor');
  const url = dbUrl(db);
  await migrateLevqor(levqorCli.path, url);
  await withPg(url, (c) => seedWorkflows(c, N, 'extract(epoch FROM now()) - 1'));
  return { db, url };
}

export function levqorThroughput({ db, url }: LevqorDb): ThroughputConfig[] {
  return LEVQOR_CONFIGS.map(({ procs, args, label }) =>
    configuration(
      async (i) => {
        const t = await withPg(url, async (c) => {
          const slot = await resetDue(c);
          const { load } = await phase(`Levqor throughput, ${procs} × ${label} #${i + 1}`);
          const before = await counters(c, db);
          const cpu0 = childCpuSeconds();
          const t0 = performance.now();
          const started = Array.from({ length: procs }, () =>
            spawnChild(process.execPath, [levqorCli.path, 'scheduler', '--once', ...args], { env: levqorEnv(url) }),
          );
          const results = await Promise.all(started.map((p) => p.done));
          const nodeCpu = childCpuSeconds() - cpu0;
          const wallS = (Math.max(...results.map((r) => r.endedAt)) - t0) / 1000;
          const delta = await counterDelta(c, db, before);
          const s = await one<{ span: number; tick: number }>(
            c,
            `SELECT (SELECT max(last_tick_at) FROM scheduler_instances) - (SELECT min(started_at) FROM workflow_runs) AS span,
                  (SELECT max(last_tick_at) - min(started_at) FROM scheduler_instances) AS tick`,
          );
          const { problems } = await verifyScheduledRuns(c, N, slot);
          for (const r of results) if (r.code !== 0) problems.push(`scheduler exit ${r.code}: ${(r.stderr || r.stdout).slice(0, 1000)}`);
          if (problems.length) throw new CheckFailed(`Levqor ${procs} proc: exactly-once check failed:\n  ${problems.join('\n  ')}`);
          return { wallS, spanS: s.span, tickS: s.tick, load, nodeCpu, ...delta };
        });
        log(
          `Levqor ${procs} × ${label} #${i + 1}: wall ${round(t.wallS)} s, span ${round(t.spanS)} s → ${Math.round(N / t.spanS)} units/s (verified exactly once)`,
        );
        return t;
      },
      (tries) => {
        const best = medianRow(tries);
        return {
          system: 'Levqor',
          config: `\`scheduler --once${args.length ? ` ${args.join(' ')}` : ''}\`, ${procs} process${procs > 1 ? 'es' : ''} (${label})`,
          procs,
          units: N,
          ...best,
          spans: tries.map((t) => t.spanS),
          verified: `${N} runs, one per (workflow, slot), all succeeded, schedules advanced, 1 run_started + 1 step_started + 1 run_finished on each run's timeline, 0 workflow_events rows`,
        };
      },
    ),
  );
}

// ---------------------------------------------------------------------------- latency

export interface LevqorLatency {
  manual: Stats;
  manualFromCommit: Stats;
  schedClaim: Stats;
  schedStep: Stats;
  traced: QueryTrace | null;
}

/**
 * A `levqor scheduler` loop (interval 60 s) started once: `units` manual runs queued one at a time with
 * NOTIFY, then `units` scheduled workflows due one at a time (slots SLOT_SPACING_S apart, the loop's own timer).
 */
export async function levqorLatency(
  units: number,
  { trace = false, modes = ['manual', 'scheduled'] }: { trace?: boolean; modes?: ('manual' | 'scheduled')[] } = {},
): Promise<LevqorLatency> {
  const db = await databases.create(trace ? 'levqor_trace' : 'levqor_latency');
  const url = dbUrl(db);
  await migrateLevqor(levqorCli.path, url);
  return withPg(url, async (c) => {
    const tenant = await seedTenant(c);
    await c.query(seedWorkflowsSql(units, 'extract(epoch FROM now()) + 86400'), [tenant]);
    const wf = await one<{ id: string; tenant_id: string }>(
      c,
      `INSERT INTO workflows (tenant_id, name, steps) VALUES ($1, 'manual', '[{"type":"noop"}]') RETURNING id, tenant_id`,
      [tenant],
    );
    await c.query('VACUUM ANALYZE');
    await c.query('CHECKPOINT');
    const traceFile = join(tmpdir(), `levqor-peers-trace-${process.pid}.json`);
    const tracing = trace ? traceOptions(traceFile) : { nodeArgs: [], env: {} };
    const env = levqorEnv(url, { LEVQOR_SCHEDULER_INTERVAL_SECONDS: '60', LEVQOR_LOG_LEVEL: 'info', ...tracing.env });
    const loop = spawnChild(process.execPath, [...tracing.nodeArgs, levqorCli.path, 'scheduler'], { env });
    const waiting = new Map<string, () => void>();
    let ticked: () => void = () => undefined;
    const firstTick = new Promise<void>((resolve) => (ticked = resolve));
    let finishedCount = 0;
    onLines(loop.child, (line) => {
      let rec: { msg?: string; run_id?: string };
      try {
        rec = JSON.parse(line) as { msg?: string; run_id?: string };
      } catch {
        return;
      }
      if (rec.msg === 'tick') ticked();
      if (rec.msg === 'run finished') {
        finishedCount++;
        waiting.get(rec.run_id ?? '')?.();
        waiting.get('*')?.();
      }
    });
    const exitedEarly = loop.done.then((r): never => {
      throw new Error(`levqor scheduler exited early (${r.code}): ${r.stderr.slice(0, 1000)}`);
    });
    exitedEarly.catch(() => undefined);
    await Promise.race([firstTick, exitedEarly]);
    const wait = (key: string, ms: number) =>
      within<void>(
        ms,
        `levqor: ${key} did not finish within ${ms} ms`,
        new Promise((resolve) => waiting.set(key, resolve)),
        exitedEarly,
      ).finally(() => waiting.delete(key));

    const manualUnits = modes.includes('manual') ? units : 0;
    const schedUnits = modes.includes('scheduled') ? units : 0;
    const phaseManual = trace ? null : await phase('Levqor latency: manual runs (NOTIFY)');
    const before = await counters(c, db);
    const ids: string[] = [];
    const commitSent = new Map<string, number>();
    for (let i = 0; i < manualUnits; i++) {
      // A manual run queued as src/scheduler/manual.ts startRun({ enqueue: true }) queues it: insertQueuedRun
      // (dbNow, the run with run_started on its timeline, NOTIFY) in one transaction. The run starts only
      // once that commits, so its id is known (and awaited) before.
      await c.query('BEGIN');
      const id = await insertQueuedRun(queryable(c), {
        tenant_id: wf.tenant_id,
        workflow_id: wf.id,
        trigger: 'manual',
        actor: 'bench',
        notify: true,
      });
      const done = wait(id, 10_000);
      commitSent.set(id, wallNow()); // the NOTIFY goes out with this commit
      await c.query('COMMIT');
      ids.push(id);
      await done;
      await sleep(Math.random() * 5);
    }
    const manualDelta = await counterDelta(c, db, before);

    const phaseSched = trace ? null : await phase('Levqor latency: scheduled workflows (timer)');
    const before2 = await counters(c, db);
    finishedCount = 0;
    const allDone = new Promise<void>((resolve) => waiting.set('*', () => finishedCount >= schedUnits && resolve()));
    if (schedUnits === 0) waiting.get('*')?.();
    else
      await c.query(
        `UPDATE workflows w SET next_run_at = extract(epoch FROM now()) + 1 + (s.rn - 1) * ${SLOT_SPACING_S}
       FROM (SELECT id, row_number() OVER (ORDER BY name) AS rn FROM workflows WHERE name LIKE 'wf-%') s WHERE w.id = s.id`,
      );
    await c.query(`SELECT pg_notify('levqor_scheduler', 'workflow')`); // as `levqor apply` does after changing a schedule
    await within((units * SLOT_SPACING_S + 60) * 1000, `levqor: not all ${units} scheduled runs finished in time`, allDone, exitedEarly);
    waiting.delete('*');
    const schedDelta = await counterDelta(c, db, before2);
    loop.child.kill('SIGTERM');
    const exit = await loop.done;

    const problems = [];
    if (exit.code !== 0) problems.push(`scheduler loop exit ${exit.code}: ${exit.stderr.slice(0, 1000)}`);
    const manual = await rows<{
      id: string;
      status: string;
      attempt: number;
      added: number;
      stepped: number;
      steps: number;
      finishes: number;
    }>(
      c,
      `SELECT r.id, r.status, r.attempt, r.started_at AS added,
              (SELECT min(created_at) FROM ${TIMELINE_ENTRIES} e WHERE e.run_id = r.id AND e.type = 'step_started') AS stepped,
              (SELECT count(*)::int FROM ${TIMELINE_ENTRIES} e WHERE e.run_id = r.id AND e.type = 'step_started') AS steps,
              (SELECT count(*)::int FROM ${TIMELINE_ENTRIES} e WHERE e.run_id = r.id AND e.type = 'run_finished') AS finishes
       FROM workflow_runs r WHERE r.trigger = 'manual'`,
    );
    const sched = await rows<{
      id: string;
      workflow_id: string;
      status: string;
      attempt: number;
      due: number;
      claimed: number;
      stepped: number;
      steps: number;
    }>(
      c,
      `SELECT r.id, r.workflow_id, r.status, r.attempt, r.scheduled_for AS due, r.started_at AS claimed,
              (SELECT min(created_at) FROM ${TIMELINE_ENTRIES} e WHERE e.run_id = r.id AND e.type = 'step_started') AS stepped,
              (SELECT count(*)::int FROM ${TIMELINE_ENTRIES} e WHERE e.run_id = r.id AND e.type = 'step_started') AS steps
       FROM workflow_runs r WHERE r.trigger = 'schedule'`,
    );
    const manualIds = new Set(manual.map((r) => r.id));
    if (manual.length !== manualUnits || ids.some((id) => !manualIds.has(id)))
      problems.push(`manual: ${manual.length} runs, expected ${manualUnits}`);
    const badManual = manual.filter((r) => r.status !== 'succeeded' || r.attempt !== 1 || r.steps !== 1 || r.finishes !== 1);
    if (badManual.length) problems.push(`manual: ${badManual.length} runs not succeeded exactly once (status/attempt/events)`);
    if (sched.length !== schedUnits || new Set(sched.map((r) => r.workflow_id)).size !== schedUnits)
      problems.push(
        `scheduled: ${sched.length} runs for ${new Set(sched.map((r) => r.workflow_id)).size} workflows, expected ${schedUnits}`,
      );
    const badSched = sched.filter((r) => r.status !== 'succeeded' || r.attempt !== 1 || r.steps !== 1);
    if (badSched.length) problems.push(`scheduled: ${badSched.length} runs not succeeded exactly once`);
    const again = await one<{ n: number }>(
      c,
      `SELECT count(*)::int AS n FROM workflows WHERE name LIKE 'wf-%' AND next_run_at <= extract(epoch FROM now())`,
    );
    if (schedUnits > 0 && again.n) problems.push(`scheduled: ${again.n} workflows still due`);
    if (problems.length) throw new CheckFailed(`Levqor latency: exactly-once check failed:\n  ${problems.join('\n  ')}`);
    const withLoad = (s: Stats, load: number | undefined, delta?: CounterDelta): Stats => ({
      ...s,
      ...(load === undefined ? {} : { load }),
      ...(delta ? { commits: delta.commits } : {}),
    });
    return {
      manual: withLoad(stats(manual.map((r) => (r.stepped - r.added) * 1000)), phaseManual?.load, manualDelta),
      manualFromCommit: stats(manual.map((r) => r.stepped * 1000 - (commitSent.get(r.id) ?? NaN))),
      schedClaim: withLoad(stats(sched.map((r) => (r.claimed - r.due) * 1000)), phaseSched?.load),
      schedStep: withLoad(stats(sched.map((r) => (r.stepped - r.due) * 1000)), phaseSched?.load, schedDelta),
      traced: trace ? readTrace(traceFile) : null,
    };
  }).finally(() => databases.drop(db, KEEP));
}
