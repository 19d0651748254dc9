import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/types.js';
import { ALL_RUN_EVENTS, openPgTestDb, type TestDb } from './helpers/db.js';
import { insertDueWorkflows, insertTenant, killLeftovers, pollUntil, spawnCli, type CliProcess } from './helpers/proc.js';

// Four `scheduler --once` replicas race over the same 500 due workflows, three rounds in a
// row: every slot runs exactly once, whoever claims it.

const WORKFLOWS = 500;
const PROCESSES = 4;
const ROUNDS = 3;

let t: TestDb;
let tenantId: string;

beforeAll(async () => {
  t = await openPgTestDb();
  tenantId = await insertTenant(t.db, 'exactly-once');
  await insertDueWorkflows(t.db, tenantId, { prefix: 'wf', count: WORKFLOWS, steps: [{ type: 'noop' }] });
});

afterEach(killLeftovers);

afterAll(async () => {
  await t?.close();
});

/**
 * Starts the schedulers while the test holds an exclusive lock on `workflows`, so all of
 * them block on their first look at it; releases the lock once every one is waiting.
 */
async function startTogether(db: Db, url: string): Promise<CliProcess[]> {
  return db.session(async (conn) => {
    await conn.query('BEGIN');
    try {
      await conn.query('LOCK TABLE workflows IN ACCESS EXCLUSIVE MODE');
      const procs = Array.from({ length: PROCESSES }, () => spawnCli(['scheduler', '--once', '--batch-size', '25'], { DATABASE_URL: url }));
      await pollUntil(
        async () => {
          const dead = procs.find((p) => p.exit !== undefined);
          if (dead) throw new Error(`a scheduler exited before the start line\n${dead.tail()}`);
          const { rows } = await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_locks
             WHERE NOT granted AND relation = 'workflows'::regclass
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
          );
          return (rows[0]?.n ?? 0) >= PROCESSES;
        },
        { what: `${PROCESSES} schedulers waiting on the workflows table`, attempts: 400 },
      );
      return procs;
    } finally {
      await conn.query('COMMIT');
    }
  });
}

describe(`${PROCESSES} scheduler processes over ${WORKFLOWS} due workflows`, () => {
  it('run every slot exactly once, round after round', { timeout: 120_000 }, async () => {
    const spread: number[][] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      if (round > 1) {
        // A fresh past slot for every workflow. (Shifting next_run_at by whole intervals would
        // land catch-up on an already-run slot of the same grid: no new runs.)
        await t.db.query(`UPDATE workflows SET next_run_at = extract(epoch FROM now()) - 1`);
      }
      const { rows: due } = await t.db.query<{ id: string; next_run_at: number; now: number }>(
        'SELECT id, next_run_at, extract(epoch FROM now())::float8 AS now FROM workflows',
      );
      const roundStart = due[0]?.now ?? 0;
      expect(due).toHaveLength(WORKFLOWS);
      expect(due.every((w) => w.next_run_at < roundStart)).toBe(true);

      const procs = await startTogether(t.db, t.url ?? '');
      const exits = await Promise.all(procs.map((p) => p.waitForExit(60_000)));
      exits.forEach((e, i) => expect(e, procs[i]?.tail()).toEqual({ code: 0, signal: null }));

      // The tick lines: together the replicas claimed and ran each due workflow once.
      const ticks = procs.map((p) => {
        const tick = p.logs.find((l) => l.msg === 'tick');
        expect(tick, p.tail()).toBeDefined();
        return tick as unknown as Record<string, number>;
      });
      const sum = (key: string) => ticks.reduce((n, tick) => n + (tick[key] ?? 0), 0);
      expect({ claimed: sum('claimed'), succeeded: sum('succeeded'), failed: sum('failed'), skipped: sum('skipped') }).toEqual({
        claimed: WORKFLOWS,
        succeeded: WORKFLOWS,
        failed: 0,
        skipped: 0,
      });
      spread.push(ticks.map((tick) => tick.claimed ?? 0));

      // The database: 500 more runs, one per workflow and due slot, all succeeded.
      const { rows: counts } = await t.db.query<{ runs: number; succeeded: number; slots: number }>(
        `SELECT count(*)::int AS runs, count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
                count(DISTINCT (workflow_id, scheduled_for))::int AS slots
         FROM workflow_runs`,
      );
      expect(counts[0]).toEqual({ runs: WORKFLOWS * round, succeeded: WORKFLOWS * round, slots: WORKFLOWS * round });
      const { rows: duplicates } = await t.db.query(
        'SELECT workflow_id, scheduled_for FROM workflow_runs GROUP BY 1, 2 HAVING count(*) > 1',
      );
      expect(duplicates).toEqual([]);
      const { rows: thisRound } = await t.db.query<{ workflow_id: string; scheduled_for: number }>(
        'SELECT workflow_id, scheduled_for FROM workflow_runs WHERE started_at >= $1',
        [roundStart],
      );
      const ranSlot = new Map(thisRound.map((r) => [r.workflow_id, r.scheduled_for]));
      expect(thisRound).toHaveLength(WORKFLOWS);
      expect(due.filter((w) => ranSlot.get(w.id) !== w.next_run_at)).toEqual([]);

      // Each workflow moved on to a future slot and recorded this run.
      const { rows: stale } = await t.db.query(
        `SELECT id, next_run_at, last_run_at FROM workflows
         WHERE next_run_at IS NULL OR next_run_at <= extract(epoch FROM now()) OR last_run_at IS NULL OR last_run_at < $1`,
        [roundStart],
      );
      expect(stale).toEqual([]);

      // Each run's life is in the event log exactly once: started, step 0 started and finished, finished.
      const { rows: badEvents } = await t.db.query(
        `SELECT r.id, array_agg(e.type ORDER BY e.created_at) AS types
         FROM workflow_runs r LEFT JOIN ${ALL_RUN_EVENTS} e ON e.run_id = r.id
         GROUP BY r.id
         HAVING count(*) <> 4
             OR count(*) FILTER (WHERE e.type = 'run_started') <> 1
             OR count(*) FILTER (WHERE e.type = 'step_started' AND e.step_index = 0) <> 1
             OR count(*) FILTER (WHERE e.type = 'step_finished' AND e.step_index = 0) <> 1
             OR count(*) FILTER (WHERE e.type = 'run_finished' AND e.payload ->> 'status' = 'succeeded') <> 1`,
      );
      expect(badEvents).toEqual([]);
      const { rows: runStarts } = await t.db.query<{ owners: number }>(
        `SELECT count(DISTINCT payload ->> 'owner')::int AS owners FROM ${ALL_RUN_EVENTS} e WHERE type = 'run_started' AND created_at >= $1`,
        [roundStart],
      );
      // The replicas really interleaved: more than one of them claimed work this round.
      expect(runStarts[0]?.owners).toBeGreaterThan(1);
    }
    const { rows: leftovers } = await t.db.query(`SELECT id FROM workflow_runs WHERE status <> 'succeeded' OR lease_owner IS NOT NULL`);
    expect(leftovers).toEqual([]);
    const { rows: skippedEvents } = await t.db.query(`SELECT id FROM workflow_events WHERE type = 'slot_skipped'`);
    expect(skippedEvents).toEqual([]);
    console.info(`runs claimed per process, by round: ${JSON.stringify(spread)}`);
  });
});
