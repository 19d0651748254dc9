// A run queued (manual, or resumed after approval) while the loop works through a backlog of
// due slots is claimed with the next batch, not after the whole backlog.
import { describe, expect, it } from 'vitest';
import { startRun } from '../src/scheduler/manual.js';
import { runLoop } from '../src/scheduler/loop.js';
import { ALL_RUN_EVENTS, useTestDb } from './helpers/db.js';
import { testSchedulerDeps } from './helpers/deps.js';
import { makeTenant, makeWorkflow } from './helpers/fixtures.js';
import { insertDueWorkflows, pollUntil } from './helpers/proc.js';

const DUE = 60;
const BATCH = 5;

describe('a queued run during a backlog of due slots (Postgres)', () => {
  const t = useTestDb();

  it('starts with the next batch, ahead of the due workflows still waiting', async () => {
    const tenant = await makeTenant(t.db, 'backlog');
    // 60 due workflows of one 25 ms step, run one at a time in batches of 5: about 1.5 s of backlog.
    await insertDueWorkflows(t.db, tenant.id, { prefix: 'due', count: DUE, steps: [{ type: 'delay', ms: 25 }] });
    const manual = await makeWorkflow(t.db, tenant.id, { name: 'by-hand', steps: [{ type: 'noop' }], schedule_config: { enabled: false } });
    const deps = testSchedulerDeps(t.db, {}, { batchSize: BATCH, concurrency: 1 });
    const loop = runLoop(deps, { intervalSeconds: 3600 });
    try {
      await pollUntil(
        async () => (await t.db.query(`SELECT 1 FROM workflow_runs WHERE trigger = 'schedule' AND status = 'succeeded'`)).rowCount > 0,
        { what: 'the first due run to finish', attempts: 200, intervalMs: 10 },
      );
      const queued = await startRun(deps, manual, { enqueue: true, trigger: 'manual', actor: 'cli:test' });
      await pollUntil(async () => (await t.db.query(`SELECT 1 FROM workflow_runs WHERE status = 'succeeded'`)).rowCount === DUE + 1, {
        what: 'every run to finish',
        attempts: 300,
        intervalMs: 50,
      });
      // When each run's step started: the manual run's against the due runs'.
      const { rows } = await t.db.query<{ due_before: number; due_after: number }>(
        `WITH starts AS (
           SELECT e.run_id, r.trigger, e.created_at FROM ${ALL_RUN_EVENTS} e JOIN workflow_runs r ON r.id = e.run_id WHERE e.type = 'step_started'
         )
         SELECT count(*) FILTER (WHERE s.created_at < m.created_at)::int AS due_before, count(*) FILTER (WHERE s.created_at > m.created_at)::int AS due_after
         FROM starts s, (SELECT created_at FROM starts WHERE run_id = $1) m WHERE s.trigger = 'schedule'`,
        [queued.runId],
      );
      const order = rows[0];
      // Claimed with the next batch: at most the batch running and the one claimed alongside it went first.
      expect(order?.due_before).toBeLessThanOrEqual(4 * BATCH);
      expect(order?.due_after).toBeGreaterThanOrEqual(DUE - 4 * BATCH);
    } finally {
      deps.stop.abort();
      await loop;
    }
  });
});
