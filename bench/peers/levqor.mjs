// Levqor's side of bench/peers.mjs: setup, throughput (`scheduler --once`), enqueue and start latency.
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { ROOT, childCpuSeconds, dbUrl, dropDatabase, runProcess, slotRunCounts, withPg } from '../lib.mjs';
import {
  CLI,
  KEEP,
  N,
  SLOT_SPACING_S,
  CheckFailed,
  commits,
  counterDelta,
  created,
  log,
  medianRow,
  onLines,
  phase,
  round,
  scratchDb,
  spawnChild,
  stats,
  wallNow,
  within,
} from './common.mjs';

/** The environment of a Levqor process: ours without LEVQOR_* settings, plus the given ones. */
export function levqorEnv(url, extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LEVQOR_')));
  return { ...env, DATABASE_URL: url, LEVQOR_LOG_LEVEL: 'warn', ...extra };
}

export async function migrateLevqor(url) {
  const r = await runProcess(process.execPath, [CLI, 'migrate'], { env: levqorEnv(url) });
  if (r.code !== 0) throw new Error(`levqor migrate failed (${r.code}): ${r.stderr || r.stdout}`);
}

/** A run's timeline entries (workflow_runs.timeline: its start, Class A steps, its end) as rows. */
const ENTRIES = `(SELECT r.id AS run_id, t.e ->> 'type' AS type, (t.e ->> 'step_index')::int AS step_index,
    (t.e ->> 'created_at')::float8 AS created_at FROM workflow_runs r, jsonb_array_elements(r.timeline) AS t(e))`;

const SEED_TENANT = `INSERT INTO tenants (name) VALUES ('bench') RETURNING id`;
const seedSql = (n, nextRunAt) =>
  `INSERT INTO workflows (tenant_id, name, steps, schedule_config, next_run_at)
   SELECT $1, 'wf-' || i, '[{"type":"noop"}]', '{"enabled": true, "interval_minutes": 60}', ${nextRunAt}
   FROM generate_series(1, ${n}) AS i`;

/** Empties run history and makes every workflow due at a new slot (as bench/scheduler.mjs does); returns the slot. */
export async function resetDue(c) {
  await c.query('TRUNCATE workflow_events, workflow_runs, scheduler_instances CASCADE');
  const {
    rows: [r],
  } = await c.query('SELECT (extract(epoch FROM now()) - 1)::float8 AS slot');
  await c.query('UPDATE workflows SET next_run_at = $1, last_run_at = NULL', [r.slot]);
  await c.query('VACUUM ANALYZE workflows');
  await c.query('CHECKPOINT');
  return r.slot;
}

/** Exactly once: N runs, all succeeded, one per (workflow, slot), every workflow moved on, one start, one step and one end on each timeline, no workflow_events row. */
async function verifyLevqorThroughput(c, slot) {
  const r = await slotRunCounts(c, slot);
  const {
    rows: [w],
  } = await c.query(
    `SELECT count(*) FILTER (WHERE last_run_at IS NOT NULL AND next_run_at > $1 AND next_run_at > extract(epoch FROM now()))::int AS advanced
     FROM workflows`,
    [slot],
  );
  const {
    rows: [e],
  } = await c.query(
    `SELECT count(*) FILTER (WHERE type = 'run_started')::int AS started, count(*) FILTER (WHERE type = 'run_finished')::int AS finished,
            count(DISTINCT run_id) FILTER (WHERE type = 'step_started')::int AS stepped, count(*) FILTER (WHERE type = 'step_started')::int AS steps,
            (SELECT count(*)::int FROM workflow_events) AS ledger
     FROM ${ENTRIES} e`,
  );
  const problems = [];
  if (r.runs !== N) problems.push(`${r.runs} runs, expected ${N}`);
  if (r.succeeded !== r.runs) problems.push(`${r.runs - r.succeeded} runs did not succeed`);
  if (r.slots !== r.runs || r.workflows !== r.runs) problems.push(`duplicates: ${r.runs} runs, ${r.slots} slots, ${r.workflows} workflows`);
  if (r.other_slot !== 0) problems.push(`${r.other_slot} runs for another slot`);
  if (w.advanced !== N) problems.push(`${w.advanced} workflows advanced, expected ${N}`);
  if (e.started !== N || e.finished !== N || e.steps !== N || e.stepped !== N) {
    problems.push(`timelines: ${e.started} run_started, ${e.steps} step_started (${e.stepped} runs), ${e.finished} run_finished`);
  }
  if (e.ledger !== 0) problems.push(`${e.ledger} workflow_events rows for Class A runs, expected none`);
  return problems;
}

const LEVQOR_CONFIGS = [
  { procs: 1, args: [], label: 'defaults: batch 200, concurrency 20' },
  { procs: 4, args: [], label: 'defaults: batch 200, concurrency 20' },
  { procs: 1, args: ['--batch-size', '1000', '--concurrency', '50'], label: 'batch 1000, concurrency 50' },
];

/** Levqor's throughput database: migrated, N no-op workflows seeded. */
export async function levqorSetup() {
  const db = await scratchDb('levqor');
  const url = dbUrl(db);
  await migrateLevqor(url);
  await withPg(url, async (c) => {
    const {
      rows: [t],
    } = await c.query(SEED_TENANT);
    await c.query(seedSql(N, 'extract(epoch FROM now()) - 1'), [t.id]);
  });
  return { db, url };
}

export function levqorThroughput({ db, url }) {
  return LEVQOR_CONFIGS.map(({ procs, args, label }) => ({
    runTry: async (i) => {
      const t = await withPg(url, async (c) => {
        const slot = await resetDue(c);
        const { load } = await phase(`Levqor throughput, ${procs} × ${label} #${i + 1}`);
        const before = await commits(c, db);
        const cpu0 = childCpuSeconds();
        const t0 = performance.now();
        const started = Array.from({ length: procs }, () =>
          spawnChild(process.execPath, [CLI, 'scheduler', '--once', ...args], { env: levqorEnv(url) }),
        );
        const results = await Promise.all(started.map((p) => p.done));
        const nodeCpu = childCpuSeconds() - cpu0;
        const wallS = (Math.max(...results.map((r) => r.endedAt)) - t0) / 1000;
        const delta = await counterDelta(c, db, before);
        const {
          rows: [s],
        } = await c.query(
          `SELECT (SELECT max(last_tick_at) FROM scheduler_instances) - (SELECT min(started_at) FROM workflow_runs) AS span,
                  (SELECT max(last_tick_at) - min(started_at) FROM scheduler_instances) AS tick`,
        );
        const problems = await verifyLevqorThroughput(c, slot);
        for (const r of results) if (r.code !== 0) problems.push(`scheduler exit ${r.code}: ${(r.stderr || r.stdout).slice(0, 1000)}`);
        if (problems.length) throw new CheckFailed(`Levqor ${procs} proc: exactly-once check failed:\n  ${problems.join('\n  ')}`);
        return { wallS, spanS: s.span, tickS: s.tick, load, nodeCpu, ...delta };
      });
      log(
        `Levqor ${procs} × ${label} #${i + 1}: wall ${round(t.wallS)} s, span ${round(t.spanS)} s → ${Math.round(N / t.spanS)} units/s (verified exactly once)`,
      );
      return t;
    },
    row: (tries) => {
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
  }));
}

// ---------------------------------------------------------------------------- latency

/** The SQL of src/scheduler/manual.ts startRun({ enqueue: true }): dbNow, then the run (run_started on its timeline) + NOTIFY in one transaction. */
async function levqorEnqueue(c, wf, id) {
  const {
    rows: [n],
  } = await c.query('SELECT extract(epoch FROM now())::float8 AS now');
  await c.query('BEGIN');
  await c.query(
    `INSERT INTO workflow_runs (id, tenant_id, workflow_id, status, trigger, scheduled_for, started_at, lease_owner, lease_expires_at, started_by, timeline)
     SELECT id, tenant_id, workflow_id, status, trigger, scheduled_for, started_at, lease_owner, lease_expires_at, started_by, coalesce(timeline, '[]')
     FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, tenant_id uuid, workflow_id uuid, status text, trigger text,
       scheduled_for double precision, started_at double precision, lease_owner text, lease_expires_at double precision, started_by text,
       timeline jsonb)
     ON CONFLICT (workflow_id, scheduled_for) DO NOTHING
     RETURNING id`,
    [
      JSON.stringify([
        {
          id,
          tenant_id: wf.tenant_id,
          workflow_id: wf.id,
          status: 'queued',
          trigger: 'manual',
          scheduled_for: null,
          started_at: n.now,
          lease_owner: null,
          lease_expires_at: null,
          started_by: 'bench',
          timeline: [{ type: 'run_started', step_index: null, payload: { trigger: 'manual', by: 'bench' }, created_at: n.now }],
        },
      ]),
    ],
  );
  await c.query('SELECT pg_notify($1, $2)', ['levqor_scheduler', 'run']);
  const commitSent = wallNow(); // the NOTIFY goes out with this commit
  await c.query('COMMIT');
  return commitSent;
}

/**
 * A `levqor scheduler` loop (interval 60 s) started once: `units` manual runs queued one at a time with
 * NOTIFY, then `units` scheduled workflows due one at a time (slots SLOT_SPACING_S apart, the loop's own timer).
 */
export async function levqorLatency(units, { trace = false, modes = ['manual', 'scheduled'] } = {}) {
  const db = await scratchDb(trace ? 'levqor_trace' : 'levqor_latency');
  const url = dbUrl(db);
  await migrateLevqor(url);
  return withPg(url, async (c) => {
    const {
      rows: [t],
    } = await c.query(SEED_TENANT);
    await c.query(seedSql(units, 'extract(epoch FROM now()) + 86400'), [t.id]);
    const {
      rows: [wf],
    } = await c.query(`INSERT INTO workflows (tenant_id, name, steps) VALUES ($1, 'manual', '[{"type":"noop"}]') RETURNING id, tenant_id`, [
      t.id,
    ]);
    await c.query('VACUUM ANALYZE');
    await c.query('CHECKPOINT');
    const traceFile = join(tmpdir(), `levqor-peers-trace-${process.pid}.json`);
    const nodeArgs = trace ? ['--import', pathToFileURL(join(ROOT, 'bench/lib.mjs')).href] : [];
    const env = levqorEnv(url, {
      LEVQOR_SCHEDULER_INTERVAL_SECONDS: '60',
      LEVQOR_LOG_LEVEL: 'info',
      ...(trace ? { LEVQOR_BENCH_TRACE: traceFile } : {}),
    });
    const loop = spawnChild(process.execPath, [...nodeArgs, CLI, 'scheduler'], { env });
    const waiting = new Map();
    let ticked;
    const firstTick = new Promise((resolve) => (ticked = resolve));
    let finishedCount = 0;
    onLines(loop.child, (line) => {
      let rec;
      try {
        rec = JSON.parse(line);
      } catch {
        return;
      }
      if (rec.msg === 'tick') ticked();
      if (rec.msg === 'run finished') {
        finishedCount++;
        waiting.get(rec.run_id)?.();
        waiting.get('*')?.();
      }
    });
    const exitedEarly = loop.done.then((r) => {
      throw new Error(`levqor scheduler exited early (${r.code}): ${r.stderr.slice(0, 1000)}`);
    });
    exitedEarly.catch(() => undefined);
    await Promise.race([firstTick, exitedEarly]);
    const wait = (key, ms) =>
      within(ms, `levqor: ${key} did not finish within ${ms} ms`, new Promise((resolve) => waiting.set(key, resolve)), exitedEarly).finally(
        () => waiting.delete(key),
      );

    const manualUnits = modes.includes('manual') ? units : 0;
    const schedUnits = modes.includes('scheduled') ? units : 0;
    const phaseManual = trace ? null : await phase('Levqor latency: manual runs (NOTIFY)');
    const before = await commits(c, db);
    const ids = [];
    const commitSent = new Map();
    for (let i = 0; i < manualUnits; i++) {
      const id = crypto.randomUUID();
      ids.push(id);
      const done = wait(id, 10_000);
      commitSent.set(id, await levqorEnqueue(c, wf, id));
      await done;
      await sleep(Math.random() * 5);
    }
    const manualDelta = await counterDelta(c, db, before);

    const phaseSched = trace ? null : await phase('Levqor latency: scheduled workflows (timer)');
    const before2 = await commits(c, db);
    finishedCount = 0;
    const allDone = new Promise((resolve) => waiting.set('*', () => finishedCount >= schedUnits && resolve()));
    if (schedUnits === 0) waiting.get('*')();
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
    const { rows: manual } = await c.query(
      `SELECT r.id, r.status, r.attempt, r.started_at AS added,
              (SELECT min(created_at) FROM ${ENTRIES} e WHERE e.run_id = r.id AND e.type = 'step_started') AS stepped,
              (SELECT count(*)::int FROM ${ENTRIES} e WHERE e.run_id = r.id AND e.type = 'step_started') AS steps,
              (SELECT count(*)::int FROM ${ENTRIES} e WHERE e.run_id = r.id AND e.type = 'run_finished') AS finishes
       FROM workflow_runs r WHERE r.trigger = 'manual'`,
    );
    const { rows: sched } = await c.query(
      `SELECT r.id, r.workflow_id, r.status, r.attempt, r.scheduled_for AS due, r.started_at AS claimed,
              (SELECT min(created_at) FROM ${ENTRIES} e WHERE e.run_id = r.id AND e.type = 'step_started') AS stepped,
              (SELECT count(*)::int FROM ${ENTRIES} e WHERE e.run_id = r.id AND e.type = 'step_started') AS steps
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
    const {
      rows: [again],
    } = await c.query(`SELECT count(*)::int AS n FROM workflows WHERE name LIKE 'wf-%' AND next_run_at <= extract(epoch FROM now())`);
    if (schedUnits === 0) again.n = 0;
    if (again.n) problems.push(`scheduled: ${again.n} workflows still due`);
    if (problems.length) throw new CheckFailed(`Levqor latency: exactly-once check failed:\n  ${problems.join('\n  ')}`);
    let traced = null;
    if (trace) {
      traced = JSON.parse(readFileSync(traceFile, 'utf8'));
      rmSync(traceFile, { force: true });
    }
    return {
      manual: { ...stats(manual.map((r) => (r.stepped - r.added) * 1000)), load: phaseManual?.load, ...manualDelta },
      manualFromCommit: stats(manual.map((r) => r.stepped * 1000 - commitSent.get(r.id))),
      schedClaim: { ...stats(sched.map((r) => (r.claimed - r.due) * 1000)), load: phaseSched?.load },
      schedStep: { ...stats(sched.map((r) => (r.stepped - r.due) * 1000)), load: phaseSched?.load, ...schedDelta },
      traced,
    };
  }).finally(async () => {
    if (!KEEP) {
      await dropDatabase(db);
      created.delete(db);
    }
  });
}
