import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getApproval, listApprovals } from '../src/approvals/queries.js';
import { decideApproval, expireApprovals } from '../src/approvals/service.js';
import { AppError } from '../src/lib/errors.js';
import { getRun, getRunEvents } from '../src/runs/queries.js';
import { runQueuedNow, startRun } from '../src/scheduler/manual.js';
import { runTick } from '../src/scheduler/tick.js';
import { openDatabase } from '../src/db/open.js';
import { MEMORY_DIR } from '../src/db/pglite.js';
import { BACKENDS, openPgTestDb, useTestDb } from './helpers/db.js';
import { testSchedulerDeps } from './helpers/deps.js';
import { makeTenant, makeWorkflow, startRecordingServer } from './helpers/fixtures.js';

const ALLOW = { LEVQOR_HTTP_ALLOW: '127.0.0.1' };

describe.each(BACKENDS)('Class C steps on $name', ({ open }) => {
  const t = useTestDb(open);
  let target: Awaited<ReturnType<typeof startRecordingServer>>;
  beforeAll(async () => {
    target = await startRecordingServer();
  });
  afterAll(() => target.close());

  async function heldRun(name: string, body: Record<string, unknown> = { hello: 'world' }) {
    const tenant = await makeTenant(t.db);
    const wf = await makeWorkflow(t.db, tenant.id, {
      name,
      steps: [
        { type: 'log', message: 'before' },
        { type: 'http', name: 'call', method: 'POST', url: `${target.url}/hook/${name}`, body },
      ],
      schedule_config: { enabled: true, interval_minutes: 60 },
    });
    const deps = testSchedulerDeps(t.db, ALLOW);
    const summary = await runTick(deps);
    expect(summary.waiting_approval).toBeGreaterThanOrEqual(1);
    const [approval] = await listApprovals(t.db, tenant.id, 'pending', 10);
    if (!approval?.run_id) throw new Error('no approval was requested');
    return { tenant, wf, deps, approval, runId: approval.run_id };
  }

  const hits = (name: string) => target.requests.filter((r) => r.url === `/hook/${name}`);

  it('stops at waiting_approval with the request recorded, and sends nothing', async () => {
    const { approval, runId } = await heldRun('held');
    expect(hits('held')).toHaveLength(0);
    expect(approval).toMatchObject({
      status: 'pending',
      impact_class: 'C',
      action_type: 'http',
      step_index: 1,
      requested_by: 'workflow:held',
    });
    expect(approval.summary).toBe(`held: POST ${target.url}/hook/held`);
    expect(approval.payload).toMatchObject({ type: 'http', method: 'POST', url: `${target.url}/hook/held`, body: { hello: 'world' } });
    expect(approval.payload_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(approval.expires_at - approval.requested_at).toBeCloseTo(24 * 3600, 0);
    const run = await getRun(t.db, runId);
    expect(run).toMatchObject({ status: 'waiting_approval', step_index: 1, lease_owner: null });
    const types = (await getRunEvents(t.db, runId)).map((e) => e.type);
    expect(types).toEqual(['run_started', 'step_started', 'step_finished', 'step_started', 'approval_requested']);
  });

  it('runs the step exactly once after approval, even when resumed twice at the same time', async () => {
    const { approval, runId, deps } = await heldRun('approved');
    await decideApproval(t.db, { id: approval.id, decision: 'approve', actor: 'test:alice', channel: 'api' });
    expect((await getRun(t.db, runId))?.status).toBe('queued');
    const other = testSchedulerDeps(t.db, ALLOW);
    const [a, b] = await Promise.all([runQueuedNow(deps, runId), runQueuedNow(other, runId)]);
    expect([a.outcome, b.outcome].filter(Boolean)).toHaveLength(1);
    expect(hits('approved')).toHaveLength(1);
    expect(hits('approved')[0]?.headers['idempotency-key']).toBe(`levqor-${approval.id}`);
    expect(JSON.parse(hits('approved')[0]?.body ?? '')).toEqual({ hello: 'world' });
    const run = await getRun(t.db, runId);
    expect(run).toMatchObject({ status: 'succeeded', step_index: 2 });
    expect(run?.context.steps?.call).toMatchObject({ status: 200 });
    const used = await getApproval(t.db, approval.id);
    expect(used?.execution_started_at).not.toBeNull();
    expect(used?.execution_finished_at).not.toBeNull();
    // A later tick finds nothing left to do for it.
    await runTick(testSchedulerDeps(t.db, ALLOW));
    expect(hits('approved')).toHaveLength(1);
    const audit = await t.db.query<{ action: string; actor: string }>('SELECT action, actor FROM audit_log WHERE subject = $1', [
      `approval:${approval.id}`,
    ]);
    expect(audit.rows).toEqual([{ action: 'approval.approved', actor: 'test:alice' }]);
  });

  it('refuses to run a step whose payload changed after approval', async () => {
    const { tenant, approval, runId, deps } = await heldRun('changed');
    await decideApproval(t.db, { id: approval.id, decision: 'approve', actor: 'test:alice', channel: 'api' });
    await makeWorkflow(t.db, tenant.id, {
      name: 'changed',
      steps: [
        { type: 'log', message: 'before' },
        { type: 'http', name: 'call', method: 'POST', url: `${target.url}/hook/changed`, body: { hello: 'mallory' } },
      ],
      schedule_config: { enabled: true, interval_minutes: 60 },
    });
    const result = await runQueuedNow(deps, runId);
    expect(result.outcome).toMatchObject({ kind: 'finished', finish: { status: 'failed' } });
    expect(hits('changed')).toHaveLength(0);
    expect((await getRun(t.db, runId))?.error).toMatch(/changed after approval .* not executed/);
  });

  it('ends the run as rejected, with the reason, and a second decision is a conflict', async () => {
    const { approval, runId } = await heldRun('rejected');
    await expect(decideApproval(t.db, { id: approval.id, decision: 'reject', actor: 'test:bob', channel: 'cli' })).rejects.toMatchObject({
      code: 'bad_input',
    });
    const { approval: decided } = await decideApproval(t.db, {
      id: approval.id,
      decision: 'reject',
      actor: 'test:bob',
      channel: 'cli',
      reason: 'Not authorized',
    });
    expect(decided).toMatchObject({ status: 'rejected', processed_by: 'test:bob', reason: 'Not authorized' });
    const run = await getRun(t.db, runId);
    expect(run).toMatchObject({ status: 'rejected', error: 'rejected by test:bob: Not authorized' });
    expect(run?.finished_at).not.toBeNull();
    const again = await decideApproval(t.db, { id: approval.id, decision: 'approve', actor: 'test:alice', channel: 'api' }).catch(
      (e: unknown) => e,
    );
    expect(again).toBeInstanceOf(AppError);
    expect((again as AppError).code).toBe('conflict');
    expect((again as AppError).message).toMatch(/already rejected \(by test:bob\)/);
    expect(hits('rejected')).toHaveLength(0);
  });

  it('expires an undecided request: its own state, and the run ends expired', async () => {
    const { approval, runId } = await heldRun('expiring');
    await t.db.query('UPDATE approval_queue SET expires_at = extract(epoch FROM now()) - 1 WHERE id = $1', [approval.id]);
    const expired = await expireApprovals(t.db);
    expect(expired.map((a) => a.id)).toContain(approval.id);
    expect(await getApproval(t.db, approval.id)).toMatchObject({ status: 'expired', processed_by: 'levqor:expiry' });
    expect(await getRun(t.db, runId)).toMatchObject({ status: 'expired' });
    await expect(decideApproval(t.db, { id: approval.id, decision: 'approve', actor: 'test:alice', channel: 'api' })).rejects.toMatchObject(
      { code: 'conflict' },
    );
    expect(hits('expiring')).toHaveLength(0);
  });

  it('never repeats an approved action whose execution started in a process that died', async () => {
    const { approval, runId, deps } = await heldRun('in-doubt');
    await decideApproval(t.db, { id: approval.id, decision: 'approve', actor: 'test:alice', channel: 'api' });
    await t.db.query('UPDATE approval_queue SET execution_started_at = extract(epoch FROM now()) WHERE id = $1', [approval.id]);
    const result = await runQueuedNow(deps, runId);
    expect(result.outcome).toMatchObject({ kind: 'finished', finish: { status: 'failed' } });
    expect((await getRun(t.db, runId))?.error).toMatch(/outcome unknown/);
    expect(hits('in-doubt')).toHaveLength(0);
  });

  it("hides another tenant's request as not found", async () => {
    const { approval } = await heldRun('tenant-a');
    const other = await makeTenant(t.db);
    await expect(
      decideApproval(t.db, { id: approval.id, tenantId: other.id, decision: 'approve', actor: 'x', channel: 'api' }),
    ).rejects.toMatchObject({ code: 'not_found' });
    expect((await getApproval(t.db, approval.id))?.status).toBe('pending');
  });
});

describe('Class C on Postgres: concurrent resumes from separate connection pools', () => {
  it('executes once when 8 processes-worth of pools resume the same approved run together', async () => {
    const t = await openPgTestDb();
    const target = await startRecordingServer();
    try {
      const tenant = await makeTenant(t.db);
      await makeWorkflow(t.db, tenant.id, {
        name: 'race',
        steps: [{ type: 'http', url: `${target.url}/race`, body: { n: 1 } }],
        schedule_config: { enabled: true, interval_minutes: 60 },
      });
      await runTick(testSchedulerDeps(t.db, ALLOW));
      const [approval] = await listApprovals(t.db, tenant.id, 'pending', 1);
      await decideApproval(t.db, { id: approval!.id, decision: 'approve', actor: 'test:alice', channel: 'api' });
      const pools = await Promise.all(
        Array.from({ length: 8 }, () =>
          openDatabase({ DATABASE_URL: t.url, LEVQOR_DATA_DIR: MEMORY_DIR, LEVQOR_DB_POOL_MAX: 2, LEVQOR_DB_CONNECT_TIMEOUT_MS: 10_000 }),
        ),
      );
      const results = await Promise.all(pools.map((db) => runQueuedNow(testSchedulerDeps(db, ALLOW), approval!.run_id!)));
      expect(results.filter((r) => r.outcome).length).toBe(1);
      expect(target.requests).toHaveLength(1);
      await Promise.all(pools.map((db) => db.close()));
      expect((await getRun(t.db, approval!.run_id!))?.status).toBe('succeeded');
    } finally {
      await target.close();
      await t.close();
    }
  });
});

describe('email step end to end', () => {
  it('waits for approval, then delivers exactly one message through SMTP', async () => {
    const received: { from: string; to: string[]; data: string }[] = [];
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, session, callback) {
        let data = '';
        stream.on('data', (c: Buffer) => (data += c.toString()));
        stream.on('end', () => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            data,
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const port = (smtp.server.address() as AddressInfo).port;
    const t = await openPgTestDb();
    try {
      const env = { LEVQOR_SMTP_URL: `smtp://127.0.0.1:${port}`, LEVQOR_SMTP_FROM: 'levqor@example.test' };
      const tenant = await makeTenant(t.db);
      const wf = await makeWorkflow(t.db, tenant.id, {
        name: 'mail',
        steps: [{ type: 'email', to: ['ops@example.test'], subject: 'Weekly numbers', text: 'Run {{run.id}} says hi' }],
      });
      const deps = testSchedulerDeps(t.db, env);
      const started = await startRun(deps, wf, { enqueue: false, trigger: 'manual', actor: 'test' });
      expect(started.outcome?.kind).toBe('parked');
      expect(received).toHaveLength(0);
      const approvalId = started.outcome?.kind === 'parked' ? started.outcome.approvalId : '';
      await decideApproval(t.db, { id: approvalId, decision: 'approve', actor: 'test:alice', channel: 'api' });
      const [a, b] = await Promise.all([runQueuedNow(deps, started.runId), runQueuedNow(testSchedulerDeps(t.db, env), started.runId)]);
      expect([a.outcome, b.outcome].filter(Boolean)).toHaveLength(1);
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ from: 'levqor@example.test', to: ['ops@example.test'] });
      expect(received[0]?.data).toContain('Subject: Weekly numbers');
      expect(received[0]?.data).toContain(`Run ${started.runId} says hi`);
      expect(received[0]?.data).toContain(`X-Levqor-Approval: ${approvalId}`);
      expect((await getRun(t.db, started.runId))?.status).toBe('succeeded');
    } finally {
      await t.close();
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    }
  });
});
