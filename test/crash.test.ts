import { describe, expect, it } from 'vitest';
import { getRun, getRunEvents } from '../src/runs/queries.js';
import type { RunRow } from '../src/runs/types.js';
import { readDoctorFacts } from '../src/workflows/doctor-queries.js';
import {
  expectCleanExit,
  expectNothingRunning,
  insertDueWorkflows,
  LEVEL,
  onlyRun,
  pollUntil,
  runSchedulerOnce,
  schedulerOwner,
  spawnCli,
  useSchedulerTestDb,
  waitForRunningRun,
} from './helpers/proc.js';

// A scheduler killed with SIGKILL mid-run: its lease runs out and the next scheduler recovers
// the run, failing it (attempts used up) or requeueing it for another attempt.

const LONG_DELAY = [{ type: 'delay', ms: 60_000 }];

const t = useSchedulerTestDb('crash', { LEVQOR_RUN_LEASE_SECONDS: '2' });

/** Starts `scheduler --once` on the workflow, waits until its run is running, and SIGKILLs it. */
async function crashMidRun(workflowId: string): Promise<{ run: RunRow; owner: string }> {
  const first = spawnCli(['scheduler', '--once'], t.env);
  const owner = await schedulerOwner(first);
  const run = await waitForRunningRun(t.db, workflowId);
  expect(run).toMatchObject({ lease_owner: owner, attempt: 1, step_index: 0 });
  first.signal('SIGKILL');
  expect(await first.waitForExit()).toEqual({ code: null, signal: 'SIGKILL' });
  // The dead process no longer renews the lease: wait (bounded) until it has run out.
  await pollUntil(
    async () => {
      const { rows } = await t.db.query<{ expired: boolean }>(
        'SELECT lease_expires_at < extract(epoch FROM now()) AS expired FROM workflow_runs WHERE id = $1',
        [run.id],
      );
      return rows[0]?.expired === true;
    },
    { what: 'the killed scheduler’s lease to expire', attempts: 100, intervalMs: 100 },
  );
  return { run, owner };
}

describe('a scheduler killed mid-run (kill -9)', () => {
  it('fails the run once its lease expires when attempts are used up', async () => {
    const [workflowId] = await insertDueWorkflows(t.db, t.tenantId, { prefix: 'crash-once', steps: LONG_DELAY, maxRunAttempts: 1 });
    const { run, owner } = await crashMidRun(workflowId as string);

    const second = await runSchedulerOnce(t.env);

    const after = await onlyRun(t.db, workflowId as string);
    expect(after).toMatchObject({ id: run.id, status: 'failed', attempt: 1, lease_owner: null, lease_expires_at: null });
    expect(after.error).toMatch(/lease expired/);
    expect(after.error).toContain(owner);
    expect(after.finished_at).not.toBeNull();
    await expectNothingRunning(t.db);

    const events = await getRunEvents(t.db, run.id);
    expect(events.filter((e) => e.type === 'run_started')).toHaveLength(1);
    const finished = events.filter((e) => e.type === 'run_finished');
    expect(finished).toHaveLength(1);
    expect(finished[0]?.payload).toMatchObject({ status: 'failed', attempt: 1 });
    expect(String(finished[0]?.payload.error)).toMatch(/lease expired/);

    const warn = second.logs.find((l) => l.level === LEVEL.warn && l.run_id === run.id);
    expect(warn, second.tail()).toMatchObject({ status: 'failed', attempt: 1 });
    expect(warn?.msg).toMatch(/lease expired/);
    const tick = second.logs.find((l) => l.msg === 'tick');
    expect(tick).toMatchObject({ recovered: 1, claimed: 0, failed: 0 });
  });

  it('requeues the run for attempt 2, runs it again, and a SIGTERM then hands it back to the queue', async () => {
    const [workflowId] = await insertDueWorkflows(t.db, t.tenantId, { prefix: 'crash-retry', steps: LONG_DELAY, maxRunAttempts: 2 });
    const { run } = await crashMidRun(workflowId as string);

    const loop = spawnCli(['scheduler', '--interval', '3600'], { ...t.env, LEVQOR_SHUTDOWN_TIMEOUT_SECONDS: '1' });
    const owner = await schedulerOwner(loop);
    const warn = await loop.waitForLog((l) => l.level === LEVEL.warn && l.run_id === run.id, { what: 'the recovery warning' });
    expect(warn).toMatchObject({ status: 'queued', attempt: 2 });
    expect(warn.msg).toMatch(/lease expired.*retrying/);
    const retried = await waitForRunningRun(t.db, workflowId as string, { owner, what: 'attempt 2 to be claimed by the loop scheduler' });
    expect(retried).toMatchObject({ id: run.id, attempt: 2 });

    loop.signal('SIGTERM');
    await expectCleanExit(loop);
    expect(loop.logs.some((l) => l.msg === 'scheduler stopped')).toBe(true);
    expect(loop.logs.find((l) => l.msg === 'tick')).toMatchObject({ recovered: 1, claimed: 1, released: 1, succeeded: 0, failed: 0 });

    const after = await onlyRun(t.db, workflowId as string);
    expect(after).toMatchObject({ id: run.id, status: 'queued', attempt: 2, lease_owner: null, lease_expires_at: null, finished_at: null });
    await expectNothingRunning(t.db);

    const events = await getRunEvents(t.db, run.id);
    expect(events.filter((e) => e.type === 'run_requeued').map((e) => e.payload)).toEqual([
      expect.objectContaining({ status: 'queued', attempt: 2 }),
    ]);
    // Attempt 2 started step 0; its buffered events were written when the run was released.
    expect(events.filter((e) => e.type === 'step_started' && e.step_index === 0).map((e) => e.payload.attempt)).toContain(2);
    expect(events.filter((e) => e.type === 'run_finished')).toEqual([]);
  });

  it("a loop recovers a dead scheduler's run within about a second of a tick that skipped maintenance, not an interval later", async () => {
    const [workflowId] = await insertDueWorkflows(t.db, t.tenantId, { prefix: 'crash-gap', steps: LONG_DELAY, maxRunAttempts: 1 });
    await t.db.query('UPDATE workflows SET next_run_at = extract(epoch FROM now()) + 86400 WHERE id = $1', [workflowId]);
    const loop = spawnCli(['scheduler', '--interval', '3600'], t.env);
    await schedulerOwner(loop);
    // The first tick ran lease recovery and the approval sweeps; the loop now sleeps for an hour.
    await loop.waitForLog((l) => l.msg === 'tick', { what: 'the first tick' });
    // A run whose scheduler died, then a workflow change: the tick it wakes comes within the
    // maintenance gap, so it skips recovery; the loop must wake again for it.
    const {
      rows: [dead],
    } = await t.db.query<{ id: string }>(
      `INSERT INTO workflow_runs (tenant_id, workflow_id, status, trigger, lease_owner, lease_expires_at)
       VALUES ($1, $2, 'running', 'manual', 'dead-scheduler', extract(epoch FROM now()) - 1) RETURNING id`,
      [t.tenantId, workflowId],
    );
    await t.db.query(`SELECT pg_notify('levqor_scheduler', 'workflow')`);
    const warn = await loop.waitForLog((l) => l.level === LEVEL.warn && l.run_id === dead?.id, {
      what: 'the recovery warning',
      timeoutMs: 15_000,
    });
    expect(warn).toMatchObject({ status: 'failed', attempt: 1 });
    expect(warn.msg).toMatch(/lease expired/);
    expect(await onlyRun(t.db, workflowId as string)).toMatchObject({ id: dead?.id, status: 'failed' });
    loop.signal('SIGTERM');
    await expectCleanExit(loop);
  });

  it('a replica killed mid-batch leaves a claim whose runs lease recovery records, each once', async () => {
    // Short runs: written once, when they end; killed before that, they exist only in the claim.
    const short = [{ type: 'delay', ms: 999 }];
    const failing = await insertDueWorkflows(t.db, t.tenantId, { prefix: 'crash-batch', count: 2, steps: short, maxRunAttempts: 1 });
    const [retried] = await insertDueWorkflows(t.db, t.tenantId, { prefix: 'crash-batch-retry', steps: short, maxRunAttempts: 2 });
    const first = spawnCli(['scheduler', '--once'], t.env);
    const owner = await schedulerOwner(first);
    const claim = await pollUntil(
      async () => (await t.db.query<{ run_ids: string[] }>('SELECT run_ids FROM scheduler_claims WHERE owner = $1', [owner])).rows[0],
      { what: 'the batch claim', attempts: 400, intervalMs: 10 },
    );
    expect(claim.run_ids).toHaveLength(3);
    // In flight and unwritten, each run is still visible: as running, under the claim's lease.
    const inFlight = await getRun(t.db, claim.run_ids[0] as string);
    expect(inFlight).toMatchObject({ status: 'running', lease_owner: owner, attempt: 1 });
    expect((await t.db.query('SELECT id FROM workflow_runs WHERE id = ANY($1)', [claim.run_ids])).rows).toEqual([]);
    expect((await readDoctorFacts(t.db, failing[0] as string)).active).toEqual([{ status: 'running', n: 1 }]);
    first.signal('SIGKILL');
    expect(await first.waitForExit()).toEqual({ code: null, signal: 'SIGKILL' });
    await pollUntil(
      async () =>
        (await t.db.query('SELECT 1 FROM scheduler_claims WHERE owner = $1 AND lease_expires_at < extract(epoch FROM now())', [owner])).rows
          .length === 1,
      { what: 'the killed scheduler’s claim to expire', attempts: 100, intervalMs: 100 },
    );

    const second = await runSchedulerOnce(t.env);
    for (const id of failing) {
      const run = await onlyRun(t.db, id);
      expect(claim.run_ids).toContain(run.id);
      expect(run).toMatchObject({ status: 'failed', attempt: 1, lease_owner: null, trigger: 'schedule' });
      expect(run.error).toMatch(/^lease expired: the scheduler running it \(.+\) stopped before the run finished$/);
      expect(run.error).toContain(owner);
      const events = await getRunEvents(t.db, run.id);
      expect(events.map((e) => e.type)).toEqual(['run_started', 'run_finished']);
      expect(events[1]?.payload).toMatchObject({ status: 'failed', attempt: 1 });
    }
    // Attempts left: requeued as attempt 2 and run by the next scheduler, to the end.
    const again = await onlyRun(t.db, retried as string);
    expect(again).toMatchObject({ status: 'succeeded', attempt: 2, lease_owner: null });
    expect((await getRunEvents(t.db, again.id)).filter((e) => e.type === 'run_requeued')).toHaveLength(1);
    expect(second.logs.find((l) => l.msg === 'tick')).toMatchObject({ recovered: 3, claimed: 1, succeeded: 1 });
    await expectNothingRunning(t.db);
  });
});
