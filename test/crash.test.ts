import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getRunEvents } from '../src/runs/queries.js';
import type { EventRow, RunRow } from '../src/runs/types.js';
import { openPgTestDb, type TestDb } from './helpers/db.js';
import { insertDueWorkflows, insertTenant, killLeftovers, LEVEL, pollUntil, schedulerOwner, spawnCli } from './helpers/proc.js';

// A scheduler killed with SIGKILL mid-run: its lease runs out and the next scheduler recovers
// the run, failing it (attempts used up) or requeueing it for another attempt.

const LONG_DELAY = [{ type: 'delay', ms: 60_000 }];

let t: TestDb;
let tenantId: string;
let env: Record<string, string>;

// A database per test: a run left behind by one test is never claimed by the next.
beforeEach(async () => {
  t = await openPgTestDb();
  tenantId = await insertTenant(t.db, 'crash');
  env = { DATABASE_URL: t.url ?? '', LEVQOR_RUN_LEASE_SECONDS: '2' };
});

afterEach(async () => {
  await killLeftovers();
  await t?.close();
});

async function onlyRun(workflowId: string): Promise<RunRow> {
  const { rows } = await t.db.query<RunRow>('SELECT * FROM workflow_runs WHERE workflow_id = $1', [workflowId]);
  expect(rows).toHaveLength(1);
  return rows[0] as RunRow;
}

async function eventsOf(runId: string): Promise<EventRow[]> {
  return getRunEvents(t.db, runId);
}

/** Starts `scheduler --once` on the workflow, waits until its run is running, and SIGKILLs it. */
async function crashMidRun(workflowId: string): Promise<{ run: RunRow; owner: string }> {
  const first = spawnCli(['scheduler', '--once'], env);
  const owner = await schedulerOwner(first);
  const run = await pollUntil(
    async () => {
      const { rows } = await t.db.query<RunRow>(`SELECT * FROM workflow_runs WHERE workflow_id = $1 AND status = 'running'`, [workflowId]);
      return rows[0];
    },
    { what: 'the run to be claimed (status running)' },
  );
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
    const [workflowId] = await insertDueWorkflows(t.db, tenantId, { prefix: 'crash-once', steps: LONG_DELAY, maxRunAttempts: 1 });
    const { run, owner } = await crashMidRun(workflowId as string);

    const second = spawnCli(['scheduler', '--once'], env);
    expect((await second.waitForExit()).code, second.tail()).toBe(0);

    const after = await onlyRun(workflowId as string);
    expect(after).toMatchObject({ id: run.id, status: 'failed', attempt: 1, lease_owner: null, lease_expires_at: null });
    expect(after.error).toMatch(/lease expired/);
    expect(after.error).toContain(owner);
    expect(after.finished_at).not.toBeNull();
    const { rows: running } = await t.db.query(`SELECT id FROM workflow_runs WHERE status = 'running'`);
    expect(running).toEqual([]);

    const events = await eventsOf(run.id);
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
    const [workflowId] = await insertDueWorkflows(t.db, tenantId, { prefix: 'crash-retry', steps: LONG_DELAY, maxRunAttempts: 2 });
    const { run } = await crashMidRun(workflowId as string);

    const loop = spawnCli(['scheduler', '--interval', '3600'], { ...env, LEVQOR_SHUTDOWN_TIMEOUT_SECONDS: '1' });
    const owner = await schedulerOwner(loop);
    const warn = await loop.waitForLog((l) => l.level === LEVEL.warn && l.run_id === run.id, { what: 'the recovery warning' });
    expect(warn).toMatchObject({ status: 'queued', attempt: 2 });
    expect(warn.msg).toMatch(/lease expired.*retrying/);
    const retried = await pollUntil(
      async () => {
        const { rows } = await t.db.query<RunRow>(`SELECT * FROM workflow_runs WHERE id = $1 AND status = 'running'`, [run.id]);
        return rows[0];
      },
      { what: 'attempt 2 to be claimed by the loop scheduler' },
    );
    expect(retried).toMatchObject({ attempt: 2, lease_owner: owner });

    loop.signal('SIGTERM');
    expect((await loop.waitForExit()).code, loop.tail()).toBe(0);
    expect(loop.logs.some((l) => l.msg === 'scheduler stopped')).toBe(true);
    expect(loop.logs.find((l) => l.msg === 'tick')).toMatchObject({ recovered: 1, claimed: 1, released: 1, succeeded: 0, failed: 0 });

    const after = await onlyRun(workflowId as string);
    expect(after).toMatchObject({ id: run.id, status: 'queued', attempt: 2, lease_owner: null, lease_expires_at: null, finished_at: null });
    const { rows: running } = await t.db.query(`SELECT id FROM workflow_runs WHERE status = 'running'`);
    expect(running).toEqual([]);

    const events = await eventsOf(run.id);
    expect(events.filter((e) => e.type === 'run_requeued').map((e) => e.payload)).toEqual([
      expect.objectContaining({ status: 'queued', attempt: 2 }),
    ]);
    // Attempt 2 started step 0; its buffered events were written when the run was released.
    expect(events.filter((e) => e.type === 'step_started' && e.step_index === 0).map((e) => e.payload.attempt)).toContain(2);
    expect(events.filter((e) => e.type === 'run_finished')).toEqual([]);
  });

  it("a loop recovers a dead scheduler's run within about a second of a tick that skipped maintenance, not an interval later", async () => {
    const [workflowId] = await insertDueWorkflows(t.db, tenantId, { prefix: 'crash-gap', steps: LONG_DELAY, maxRunAttempts: 1 });
    await t.db.query('UPDATE workflows SET next_run_at = extract(epoch FROM now()) + 86400 WHERE id = $1', [workflowId]);
    const loop = spawnCli(['scheduler', '--interval', '3600'], env);
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
      [tenantId, workflowId],
    );
    await t.db.query(`SELECT pg_notify('levqor_scheduler', 'workflow')`);
    const warn = await loop.waitForLog((l) => l.level === LEVEL.warn && l.run_id === dead?.id, {
      what: 'the recovery warning',
      timeoutMs: 15_000,
    });
    expect(warn).toMatchObject({ status: 'failed', attempt: 1 });
    expect(warn.msg).toMatch(/lease expired/);
    expect(await onlyRun(workflowId as string)).toMatchObject({ id: dead?.id, status: 'failed' });
    loop.signal('SIGTERM');
    expect((await loop.waitForExit()).code, loop.tail()).toBe(0);
  });
});
