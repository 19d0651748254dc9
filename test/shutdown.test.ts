import { describe, expect, it } from 'vitest';
import { getRunEvents } from '../src/runs/queries.js';
import type { RunRow } from '../src/runs/types.js';
import {
  expectCleanExit,
  insertDueWorkflows,
  LEVEL,
  onlyRun,
  runSchedulerOnce,
  schedulerOwner,
  spawnCli,
  useSchedulerTestDb,
  waitForRunningRun,
  type CliProcess,
} from './helpers/proc.js';

// SIGTERM/SIGINT on a scheduler loop: stop claiming, let runs in flight finish within
// LEVQOR_SHUTDOWN_TIMEOUT_SECONDS, hand the rest back to the queue, exit 0.

const t = useSchedulerTestDb('shutdown');

/** Starts a loop scheduler and waits until it holds the workflow's run (status running, its lease). */
async function startLoopWithRunInFlight(
  workflowId: string,
  extraEnv: Record<string, string>,
): Promise<{ loop: CliProcess; owner: string; run: RunRow }> {
  const loop = spawnCli(['scheduler', '--interval', '3600'], { ...t.env, ...extraEnv });
  const owner = await schedulerOwner(loop);
  const run = await waitForRunningRun(t.db, workflowId, { owner, what: 'the loop scheduler to claim the run' });
  return { loop, owner, run };
}

describe('scheduler loop shutdown', () => {
  it('lets a run in flight finish after SIGTERM, then exits 0 and records stopped_at', async () => {
    const [workflowId] = await insertDueWorkflows(t.db, t.tenantId, { prefix: 'finish', steps: [{ type: 'delay', ms: 1500 }] });
    // The grace period easily covers the 1.5 s step, and bounds the test when something hangs.
    const { loop, owner, run } = await startLoopWithRunInFlight(workflowId as string, { LEVQOR_SHUTDOWN_TIMEOUT_SECONDS: '10' });

    loop.signal('SIGTERM');
    await loop.waitForLog((l) => l.msg.startsWith('stopping'), { what: 'the stopping line' });
    await expectCleanExit(loop);

    const after = await onlyRun(t.db, workflowId as string);
    expect(after).toMatchObject({ id: run.id, status: 'succeeded', error: null, lease_owner: null, step_index: 1 });
    const types = (await getRunEvents(t.db, run.id)).map((e) => e.type);
    expect(types).toEqual(['run_started', 'step_started', 'step_finished', 'run_finished']);
    const { rows: instances } = await t.db.query<{ stopped_at: number | null; last_summary: Record<string, number> }>(
      'SELECT stopped_at, last_summary FROM scheduler_instances WHERE id = $1',
      [owner],
    );
    expect(instances[0]?.stopped_at).toEqual(expect.any(Number));
    expect(instances[0]?.last_summary).toMatchObject({ claimed: 1, succeeded: 1, released: 0 });
    expect(loop.logs.some((l) => l.msg === 'scheduler stopped')).toBe(true);
  });

  it('releases a run still going after the shutdown timeout, which a later scheduler finishes', async () => {
    const [workflowId] = await insertDueWorkflows(t.db, t.tenantId, { prefix: 'release', steps: [{ type: 'delay', ms: 60_000 }] });
    const { loop, run } = await startLoopWithRunInFlight(workflowId as string, { LEVQOR_SHUTDOWN_TIMEOUT_SECONDS: '1' });

    loop.signal('SIGTERM');
    // The product promise: gone inside the 30 s an orchestrator waits before SIGKILL (the wait's
    // bound; the time itself is measured in bench, not asserted here).
    const exit = await loop.waitForExit(30_000);
    expect(exit.code, loop.tail()).toBe(0);

    const released = await onlyRun(t.db, workflowId as string);
    expect(released).toMatchObject({
      id: run.id,
      status: 'queued',
      attempt: 1,
      lease_owner: null,
      lease_expires_at: null,
      finished_at: null,
    });
    expect(loop.logs.find((l) => l.msg === 'tick')).toMatchObject({ claimed: 1, released: 1, succeeded: 0, failed: 0 });

    // The run resumes from its checkpoint (step 0) with the workflow as it is now.
    await t.db.query(`UPDATE workflows SET steps = '[{"type": "noop"}]' WHERE id = $1`, [workflowId]);
    await runSchedulerOnce(t.env);
    const after = await onlyRun(t.db, workflowId as string);
    expect(after).toMatchObject({ id: run.id, status: 'succeeded', attempt: 1, lease_owner: null, error: null });
    const events = await getRunEvents(t.db, run.id);
    expect(events.filter((e) => e.type === 'run_started')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'step_started')).toHaveLength(2);
    expect(events.filter((e) => e.type === 'run_finished').map((e) => e.payload)).toEqual([{ status: 'succeeded' }]);
  });

  it('releases runs at once on a second signal', async () => {
    const [workflowId] = await insertDueWorkflows(t.db, t.tenantId, { prefix: 'second-signal', steps: [{ type: 'delay', ms: 60_000 }] });
    // A grace period far beyond the test's timeout: only the second signal can end the run in time.
    const { loop, run } = await startLoopWithRunInFlight(workflowId as string, { LEVQOR_SHUTDOWN_TIMEOUT_SECONDS: '120' });

    loop.signal('SIGTERM');
    await loop.waitForLog((l) => l.msg.startsWith('stopping'), { what: 'the stopping line' });
    loop.signal('SIGINT');
    const second = await loop.waitForLog((l) => l.level === LEVEL.warn && l.msg.startsWith('second signal'), {
      what: 'the second-signal line',
    });
    expect(second).toMatchObject({ signal: 'SIGINT' });
    // Releasing is immediate; the bound only keeps a hang from using up the test's timeout.
    await expectCleanExit(loop, 15_000);

    expect(await onlyRun(t.db, workflowId as string)).toMatchObject({
      id: run.id,
      status: 'queued',
      lease_owner: null,
      lease_expires_at: null,
    });
    expect(loop.logs.find((l) => l.msg === 'tick')).toMatchObject({ claimed: 1, released: 1 });
  });
});
