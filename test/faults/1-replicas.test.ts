import { describe, expect, it } from 'vitest';
import { dbNow } from '../../src/workflows/queries.js';
import { insertDueWorkflows, insertTenant, pollUntil } from '../helpers/proc.js';
import { useFaultDb } from './helpers/fault-db.js';
import { startReplicas, stopReplicas, tickCounts, tickTotal } from './helpers/replicas.js';
import { recordFigures } from './helpers/results.js';
import { auditSlots, readGrids } from './helpers/slots.js';

// Experiment 1: 8 scheduler loop processes over 2,000 interval (every 6 s) and 300 minutely
// cron workflows, for at least three interval slots and one live minute boundary. catch_up
// all and overlap allow: every slot of every grid must run, exactly once.

const REPLICAS = 8;
const INTERVAL_WORKFLOWS = 2_000;
const CRON_WORKFLOWS = 300;
const STEP = 0.1 * 60;
const POLICY = { catch_up: 'all', overlap: 'allow' };

const fault = useFaultDb();

describe('scheduler replicas', () => {
  it(`${REPLICAS} replicas over ${INTERVAL_WORKFLOWS} interval and ${CRON_WORKFLOWS} cron workflows: no duplicate, no missed slot`, async () => {
    const { db, url } = fault();
    const tenantId = await insertTenant(db, 'replicas');
    const now = await dbNow(db);
    const steps = [{ type: 'noop' }];
    // The interval slots spread over one interval, the first ones already due.
    await insertDueWorkflows(db, tenantId, {
      prefix: 'every-6s',
      count: INTERVAL_WORKFLOWS,
      steps,
      schedule: { enabled: true, interval_minutes: 0.1, ...POLICY },
      dueAt: now - STEP,
      spreadSeconds: STEP,
    });
    // The cron ones owe the last whole minute (two slots at the first claim), then each new minute.
    const minute = Math.floor(now / 60) * 60;
    await insertDueWorkflows(db, tenantId, {
      prefix: 'minutely',
      count: CRON_WORKFLOWS,
      steps,
      schedule: { enabled: true, cron: '* * * * *', ...POLICY },
      dueAt: minute - 60,
    });
    const grids = await readGrids(db, { 'every-6s': STEP, minutely: 60 });

    const replicas = await startReplicas(REPLICAS, { DATABASE_URL: url, LEVQOR_DB_POOL_MAX: '4' });
    const started = await dbNow(db);
    // Three interval slots past the start, and the next minute boundary (a cron slot that falls due live).
    const until = Math.max(started + 3 * STEP, minute + 60);
    await pollUntil(
      async () => {
        const dead = replicas.find((r) => r.proc.exit !== undefined);
        if (dead) throw new Error(`a replica exited\n${dead.proc.tail()}`);
        const { rows } = await db.query<{ behind: number; now: number }>(
          'SELECT count(*)::int AS behind, extract(epoch FROM now())::float8 AS now FROM workflows WHERE next_run_at <= $1',
          [until],
        );
        return rows[0] && rows[0].now > until && rows[0].behind === 0;
      },
      { what: `every slot up to ${until} claimed`, attempts: 300, intervalMs: 500 },
    );
    const exits = await stopReplicas(replicas);
    const audit = await auditSlots(db, grids, until, started);
    const claimedBy = replicas.map((r) => r.proc.logs.filter((l) => l.msg === 'tick').reduce((n, l) => n + (l.claimed as number), 0));
    await recordFigures('1-replicas', {
      title: `1. ${REPLICAS} scheduler replicas, ${INTERVAL_WORKFLOWS} interval (6 s) + ${CRON_WORKFLOWS} cron (minutely) workflows`,
      rows: [
        ['observed window (s of DB time)', Math.round(until - started)],
        ['grid slots due in the window (incl. catch-up)', audit.expected],
        ['runs', audit.runs],
        ['**duplicates per (workflow, slot)**', audit.duplicates],
        ['**missed due slots**', audit.missed],
        ['runs off the grid', audit.offGrid],
        ['runs left running/queued', audit.stuck],
        ['run statuses', JSON.stringify(audit.byStatus)],
        ['ticks per replica', tickCounts(replicas).join(' / ')],
        ['runs claimed per replica', claimedBy.join(' / ')],
        ['worst slot-to-start lag of slots due after the start (s)', audit.maxLagSeconds],
      ],
    });
    exits.forEach((e, i) => expect(e, replicas[i]?.proc.tail()).toEqual({ code: 0, signal: null }));
    expect(audit).toMatchObject({ duplicates: 0, missed: 0, offGrid: 0, stuck: 0 });
    expect(audit.byStatus).toEqual({ succeeded: audit.runs });
    expect(tickTotal(replicas, 'claimed')).toBe(audit.runs);
    // The replicas shared the work: more than one of them claimed runs.
    expect(claimedBy.filter((n) => n > 0).length).toBeGreaterThan(1);
  });
});
