import { describe, expect, it } from 'vitest';
import { dbNow } from '../../src/workflows/queries.js';
import { insertDueWorkflows, insertTenant, pollUntil } from '../helpers/proc.js';
import type { StopMode } from './helpers/cluster.js';
import { useFaultDb } from './helpers/fault-db.js';
import { startReplica, startReplicas, stopReplicas, type Replica } from './helpers/replicas.js';
import { recordFigures } from './helpers/results.js';
import { auditSlots, readGrids, RUNS_IN_FLIGHT } from './helpers/slots.js';

// Experiment 3: Postgres restarted under 6 scheduler replicas while runs are in flight, once
// with -m fast and once with -m immediate (a crash: recovery from WAL). A replica reconnects by
// itself, or exits non-zero saying why and is started again, as a supervisor would. Then every
// slot of every grid has exactly one run, and no run is stuck.

const REPLICAS = 6;
const WORKFLOWS = 1_000;
const STEP = 0.05 * 60;
const LEASE_SECONDS = 3;
/** Runs in flight: written as running, or claimed in a batch and not written yet (see src/runs/claim-queries.ts). */
const IN_FLIGHT_SQL = `SELECT count(*)::int AS n FROM (${RUNS_IN_FLIGHT}) r`;
const MODES: StopMode[] = ['fast', 'immediate'];

const fault = useFaultDb();

interface RestartFigure {
  mode: StopMode;
  inFlight: number;
  reconnected: number;
  exited: string[];
  /** Seconds from the server accepting connections again to the last replica's first good tick. */
  backAfter: number;
}

describe('Postgres restarts under scheduler replicas', () => {
  it(`${REPLICAS} replicas through pg_ctl restart -m fast and -m immediate: no duplicate, no lost slot, no stuck run`, async () => {
    const { db, url, cluster } = fault();
    const env = {
      DATABASE_URL: url,
      LEVQOR_RUN_LEASE_SECONDS: String(LEASE_SECONDS),
      LEVQOR_DB_POOL_MAX: '4',
      LEVQOR_DB_CONNECT_TIMEOUT_MS: '2000',
    };
    const tenantId = await insertTenant(db, 'restart');
    const now = await dbNow(db);
    // A short delay step keeps runs in flight at any moment; a second attempt re-runs one a restart cut short.
    await insertDueWorkflows(db, tenantId, {
      prefix: 'every-3s',
      count: WORKFLOWS,
      steps: [{ type: 'delay', ms: 300 }],
      maxRunAttempts: 2,
      schedule: { enabled: true, interval_minutes: 0.05, catch_up: 'all', overlap: 'allow' },
      dueAt: now - STEP,
      spreadSeconds: STEP,
    });
    const grids = await readGrids(db, { 'every-3s': STEP });
    const live: Replica[] = await startReplicas(REPLICAS, env);
    const exits: string[] = [];
    /** A supervisor: a replica that exited is reported, then replaced. */
    const supervise = async () => {
      for (const r of live.filter((x) => x.proc.exit !== undefined)) {
        console.error(r.proc.tail(30));
        exits.push(`exit ${JSON.stringify(r.proc.exit)}: ${r.proc.stderr().trim().split('\n')[0] ?? ''}`);
        live.splice(live.indexOf(r), 1, await startReplica(env).catch(() => r));
      }
    };
    const figures: RestartFigure[] = [];
    for (const mode of MODES) {
      await pollUntil(
        async () => {
          await supervise();
          const { rows } = await db.query<{ n: number }>(IN_FLIGHT_SQL);
          return (rows[0]?.n ?? 0) >= 20 ? rows[0]?.n : undefined;
        },
        { what: 'runs in flight', attempts: 300, intervalMs: 100 },
      );
      const {
        rows: [inFlight],
      } = await db.query<{ n: number }>(IN_FLIGHT_SQL);
      const marks = new Map(live.map((r) => [r, r.proc.logs.length]));
      const exitsBefore = exits.length;
      await cluster.restart(mode);
      const backAt = Date.now();
      // Each replica (or its replacement) ticks again against the restarted server.
      const firstTicks = await pollUntil(
        async () => {
          await supervise();
          const times = live.map((r) => r.proc.logs.slice(marks.get(r) ?? 0).find((l) => l.msg === 'tick')?.time as string | undefined);
          return times.every((t) => t !== undefined) ? times.map((t) => Date.parse(t)) : undefined;
        },
        { what: `every replica ticking after the ${mode} restart`, attempts: 600, intervalMs: 100 },
      );
      figures.push({
        mode,
        inFlight: inFlight?.n ?? 0,
        reconnected: live.filter((r) => marks.has(r)).length,
        exited: exits.slice(exitsBefore),
        backAfter: Math.round((Math.max(...firstTicks) - backAt) / 100) / 10,
      });
    }
    // Every slot up to two steps after the last restart claimed, and every run ended.
    const until = (await dbNow(db)) + 2 * STEP;
    await pollUntil(
      async () => {
        await supervise();
        const { rows } = await db.query<{ behind: number; active: number; now: number }>(
          `SELECT (SELECT count(*)::int FROM workflows WHERE next_run_at <= $1) AS behind,
                (SELECT count(*)::int FROM workflow_runs WHERE status IN ('running', 'queued') AND scheduled_for <= $1)
                  + (SELECT count(*)::int FROM scheduler_claims c, unnest(c.run_ids, c.slots) AS p(id, slot)
                     WHERE p.slot <= $1 AND NOT EXISTS (SELECT 1 FROM workflow_runs r WHERE r.id = p.id)) AS active,
                extract(epoch FROM now())::float8 AS now`,
          [until],
        );
        return rows[0] && rows[0].now > until && rows[0].behind === 0 && rows[0].active === 0;
      },
      { what: `every slot up to ${until} run and ended`, attempts: 600, intervalMs: 200 },
    );
    const stopped = await stopReplicas(live);
    const audit = await auditSlots(db, grids, until);
    const {
      rows: [recovered],
    } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM workflow_events WHERE type = 'run_requeued'`);
    await recordFigures('3-pg-restart', {
      title: `3. Postgres restarted under ${REPLICAS} scheduler replicas (${WORKFLOWS} workflows every ${STEP} s, 300 ms delay step, lease ${LEASE_SECONDS} s)`,
      rows: [
        ...figures.flatMap((f): [string, string | number][] => [
          [`pg_ctl restart -m ${f.mode}: runs in flight at the restart`, f.inFlight],
          [`-m ${f.mode}: replicas that reconnected by themselves`, `${f.reconnected} of ${REPLICAS}`],
          [`-m ${f.mode}: replicas that exited (restarted by the test)`, f.exited.length ? f.exited.join('; ') : 0],
          [`-m ${f.mode}: server up → every replica ticking again (s)`, f.backAfter],
        ]),
        ['grid slots due up to the end', audit.expected],
        ['runs', audit.runs],
        ['**duplicates per (workflow, slot)**', audit.duplicates],
        ['**lost (missed) slots**', audit.missed],
        ['**stuck runs (running/queued at the end)**', audit.stuck],
        ['runs requeued after a lease ran out (attempt 2)', recovered?.n ?? 0],
        ['run statuses', JSON.stringify(audit.byStatus)],
      ],
      notes: exits.length ? [`Exits: ${exits.join('; ')}`] : undefined,
    });
    stopped.forEach((e, i) => expect(e, live[i]?.proc.tail()).toEqual({ code: 0, signal: null }));
    expect(audit).toMatchObject({ duplicates: 0, missed: 0, offGrid: 0, stuck: 0 });
    // A replica that gave up said why, and not with a zero exit code.
    for (const e of exits) expect(e).toMatch(/"code":[1-9].*(Postgres|database)/);
  });
});
