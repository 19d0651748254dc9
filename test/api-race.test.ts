import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setPolicy } from '../src/approvals/queries.js';
import { DEFAULT_POLICY } from '../src/approvals/types.js';
import { createToken } from '../src/auth/tokens.js';
import { openDatabase } from '../src/db/open.js';
import { MEMORY_DIR } from '../src/db/pglite.js';
import { getRun } from '../src/runs/queries.js';
import { runQueuedNow, startRun } from '../src/scheduler/manual.js';
import { openPgTestDb, type TestDb } from './helpers/db.js';
import { testSchedulerDeps } from './helpers/deps.js';
import { makeTenant, makeWorkflow, startRecordingServer } from './helpers/fixtures.js';
import { killLeftovers, spawnCli } from './helpers/proc.js';
import { callApi, startServe, type ApiResponse, type ServedApi } from './helpers/server.js';

// Two API processes on one Postgres database, 50 distinct identities deciding the same
// request at once: the row lock and the conditional UPDATE must leave exactly one decision,
// and the approved action must run once however many executors race for it.

const ALLOW = { LEVQOR_HTTP_ALLOW: '127.0.0.1' };
const CALLERS = 50;

interface DecideBody {
  outcome?: 'approved' | 'rejected' | 'vote_recorded';
  error?: string;
  approval?: { status: string; approvals_count: number };
}

let t: TestDb;
let target: Awaited<ReturnType<typeof startRecordingServer>>;
let servers: ServedApi[] = [];

beforeAll(async () => {
  t = await openPgTestDb({ poolMax: 4 });
  target = await startRecordingServer();
  const env = { DATABASE_URL: t.url as string, LEVQOR_DB_POOL_MAX: '12' };
  servers = await Promise.all([startServe(env), startServe(env)]);
});

afterEach(() => {
  // A crashed API would otherwise only show up as connection errors in the next test.
  for (const s of servers) expect(s.proc.exit, s.proc.tail()).toBeUndefined();
});

afterAll(async () => {
  const exits = await Promise.all(servers.map((s) => s.stop().catch(() => undefined)));
  await killLeftovers();
  await target?.close();
  await t?.close();
  for (const exit of exits) expect(exit).toEqual({ code: 0, signal: null });
});

/** A tenant with `CALLERS` decide tokens and one run parked on a Class C http step. */
async function pendingRequest(label: string, requiredApprovals: number) {
  const tenant = await makeTenant(t.db, label);
  if (requiredApprovals !== 1) await setPolicy(t.db, tenant.id, { ...DEFAULT_POLICY, required_approvals: requiredApprovals }, 'test');
  const tokens = await Promise.all(
    Array.from({ length: CALLERS }, async (_, i) => ({
      name: `approver-${i}`,
      ...(await createToken(t.db, tenant.id, `approver-${i}`, ['approvals:decide', 'approvals:read'])),
    })),
  );
  const wf = await makeWorkflow(t.db, tenant.id, {
    name: label,
    steps: [{ type: 'http', name: 'call', method: 'POST', url: `${target.url}/hook/${label}`, body: { label } }],
  });
  const started = await startRun(testSchedulerDeps(t.db, ALLOW), wf, { enqueue: false, trigger: 'manual', actor: 'test' });
  if (started.outcome?.kind !== 'parked') throw new Error(`expected the run to park, got ${JSON.stringify(started.outcome)}`);
  return { tenant, tokens, runId: started.runId, approvalId: started.outcome.approvalId };
}

/** Fires every call at once, alternating between the two API processes. */
async function fire(calls: { token: string; decision: 'approve' | 'reject'; name: string }[], approvalId: string) {
  const responses = await Promise.all(
    calls.map(async (c, i) => {
      const server = servers[i % servers.length] as ServedApi;
      const body = c.decision === 'reject' ? { reason: `no from ${c.name}` } : {};
      const res: ApiResponse<DecideBody> = await callApi<DecideBody>(server.baseUrl, 'POST', `/api/approvals/${approvalId}/${c.decision}`, {
        token: c.token,
        body,
      });
      return { ...c, server: i % servers.length, res };
    }),
  );
  const unexpected = responses.filter((r) => r.res.status !== 200 && r.res.status !== 409);
  expect(unexpected.map((r) => `${r.decision} by ${r.name} → ${r.res.status} ${r.res.text}`)).toEqual([]);
  return responses;
}

async function dbState(approvalId: string) {
  const [approval, votes, audit] = await Promise.all([
    t.db.query<{
      status: string;
      approvals_count: number;
      required_approvals: number;
      processed_by: string | null;
      processed_at: number | null;
      execution_started_at: number | null;
      execution_finished_at: number | null;
    }>(
      'SELECT status, approvals_count, required_approvals, processed_by, processed_at, execution_started_at, execution_finished_at FROM approval_queue WHERE id = $1',
      [approvalId],
    ),
    t.db.query<{ actor: string; vote: string }>('SELECT actor, vote FROM approval_votes WHERE approval_id = $1 ORDER BY id', [approvalId]),
    t.db.query<{ actor: string; action: string }>('SELECT actor, action FROM audit_log WHERE subject = $1 ORDER BY id', [
      `approval:${approvalId}`,
    ]),
  ]);
  return { approval: approval.rows[0], votes: votes.rows, audit: audit.rows };
}

/**
 * Executes the decided run from three separate connection pools and a `levqor scheduler
 * --once` process at the same moment; only the compare-and-set claim may let one through.
 */
async function executeEverywhere(runId: string) {
  const pools = await Promise.all(
    Array.from({ length: 3 }, () =>
      openDatabase(
        { DATABASE_URL: t.url, LEVQOR_DATA_DIR: MEMORY_DIR, LEVQOR_DB_POOL_MAX: 2, LEVQOR_DB_CONNECT_TIMEOUT_MS: 10_000 },
        { migrate: false },
      ),
    ),
  );
  try {
    const scheduler = spawnCli(['scheduler', '--once'], { DATABASE_URL: t.url as string, ...ALLOW });
    const [results, exit] = await Promise.all([
      Promise.all(pools.map((db) => runQueuedNow(testSchedulerDeps(db, ALLOW), runId))),
      scheduler.waitForExit(30_000),
    ]);
    expect(exit, scheduler.tail()).toEqual({ code: 0, signal: null });
    return results.filter((r) => r.outcome !== undefined).length;
  } finally {
    await Promise.all(pools.map((db) => db.close()));
  }
}

const hits = (label: string) => target.requests.filter((r) => r.url === `/hook/${label}`);

describe('50 concurrent decisions on one request, through two levqor serve processes', () => {
  it.each([1, 2, 3])(
    'required_approvals 1, mixed approve/reject (round %i): one decision, 49 conflicts, one execution at most',
    async (round) => {
      const label = `race-${round}`;
      const { tokens, runId, approvalId } = await pendingRequest(label, 1);
      // Alternate the decisions, then rotate by the round so the first callers differ between rounds.
      const calls = tokens.map((tk, i) => ({
        token: tk.token,
        name: tk.name,
        decision: (i + round) % 2 === 0 ? ('approve' as const) : ('reject' as const),
      }));
      const responses = await fire(calls, approvalId);

      const accepted = responses.filter((r) => r.res.status === 200);
      expect(accepted).toHaveLength(1);
      expect(responses.filter((r) => r.res.status === 409)).toHaveLength(CALLERS - 1);
      const winner = accepted[0] as (typeof accepted)[number];
      const final = winner.decision === 'approve' ? 'approved' : 'rejected';
      expect(winner.res.json?.outcome).toBe(final);
      for (const r of responses.filter((x) => x.res.status === 409)) {
        expect(r.res.json?.error).toBe('conflict');
        expect(r.res.text).toContain(`already ${final} (by token:${winner.name})`);
      }

      const state = await dbState(approvalId);
      expect(state.approval).toMatchObject({
        status: final,
        processed_by: `token:${winner.name}`,
        approvals_count: final === 'approved' ? 1 : 0,
      });
      expect(state.approval?.processed_at).not.toBeNull();
      expect(state.votes).toEqual([{ actor: `token:${winner.name}`, vote: winner.decision }]);
      expect(state.audit).toEqual([{ actor: `token:${winner.name}`, action: `approval.${final}` }]);
      // Both processes report the same state.
      for (const s of servers) {
        const shown = await callApi<{ status: string; votes: unknown[] }>(s.baseUrl, 'GET', `/api/approvals/${approvalId}`, {
          token: tokens[0]?.token,
        });
        expect(shown.status).toBe(200);
        expect(shown.json).toMatchObject({ status: final, votes: [{ actor: `token:${winner.name}` }] });
      }

      const executed = await executeEverywhere(runId);
      const run = await getRun(t.db, runId);
      const after = await dbState(approvalId);
      if (final === 'approved') {
        expect(executed).toBeLessThanOrEqual(1);
        expect(hits(label)).toHaveLength(1);
        expect(hits(label)[0]?.headers['idempotency-key']).toBe(`levqor-${approvalId}`);
        expect(run).toMatchObject({ status: 'succeeded' });
        expect(after.approval?.execution_started_at).not.toBeNull();
        expect(after.approval?.execution_finished_at).not.toBeNull();
      } else {
        expect(executed).toBe(0);
        expect(hits(label)).toHaveLength(0);
        expect(run).toMatchObject({ status: 'rejected', error: `rejected by token:${winner.name}: no from ${winner.name}` });
        expect(after.approval?.execution_started_at).toBeNull();
      }
      // Execution changed nothing about the decision.
      expect(after.approval).toMatchObject({
        status: final,
        processed_by: `token:${winner.name}`,
        processed_at: state.approval?.processed_at,
      });
      expect(after.audit).toEqual(state.audit);
    },
  );

  it('required_approvals 3, all 50 approve: exactly 3 votes accepted, approved once, executed once', async () => {
    const label = 'quorum';
    const { tokens, runId, approvalId } = await pendingRequest(label, 3);
    const responses = await fire(
      tokens.map((tk) => ({ token: tk.token, name: tk.name, decision: 'approve' as const })),
      approvalId,
    );

    const accepted = responses.filter((r) => r.res.status === 200);
    expect(accepted).toHaveLength(3);
    expect(responses.filter((r) => r.res.status === 409)).toHaveLength(CALLERS - 3);
    expect(accepted.map((r) => r.res.json?.outcome).sort()).toEqual(['approved', 'vote_recorded', 'vote_recorded']);
    const closer = accepted.find((r) => r.res.json?.outcome === 'approved');
    // Each vote saw the count the previous one left.
    expect(accepted.map((r) => r.res.json?.approval?.approvals_count).sort()).toEqual([1, 2, 3]);

    const state = await dbState(approvalId);
    expect(state.approval).toMatchObject({
      status: 'approved',
      approvals_count: 3,
      required_approvals: 3,
      processed_by: `token:${closer?.name ?? '?'}`,
    });
    expect(state.votes.map((v) => v.actor).sort()).toEqual(accepted.map((r) => `token:${r.name}`).sort());
    expect(state.votes.every((v) => v.vote === 'approve')).toBe(true);
    expect(state.audit.filter((a) => a.action === 'approval.approved')).toEqual([
      { actor: `token:${closer?.name ?? '?'}`, action: 'approval.approved' },
    ]);
    expect(state.audit.filter((a) => a.action === 'approval.vote')).toHaveLength(2);
    expect(state.audit).toHaveLength(3);

    const executed = await executeEverywhere(runId);
    expect(executed).toBeLessThanOrEqual(1);
    expect(hits(label)).toHaveLength(1);
    expect(await getRun(t.db, runId)).toMatchObject({ status: 'succeeded' });
  });

  it('required_approvals 3, mixed votes: the votes before the decision are all recorded, and one decision ends it', async () => {
    const label = 'quorum-mixed';
    const { tokens, runId, approvalId } = await pendingRequest(label, 3);
    // Mostly approvals, so both an approval quorum and an early rejection are plausible.
    const calls = tokens.map((tk, i) => ({
      token: tk.token,
      name: tk.name,
      decision: i % 5 === 4 ? ('reject' as const) : ('approve' as const),
    }));
    const responses = await fire(calls, approvalId);

    const accepted = responses.filter((r) => r.res.status === 200);
    const finals = accepted.filter((r) => r.res.json?.outcome !== 'vote_recorded');
    const votes = accepted.filter((r) => r.res.json?.outcome === 'vote_recorded');
    expect(finals).toHaveLength(1);
    expect(votes.length).toBeLessThanOrEqual(2);
    expect(votes.every((r) => r.decision === 'approve')).toBe(true);
    expect(responses.filter((r) => r.res.status === 409)).toHaveLength(CALLERS - accepted.length);
    const closer = finals[0] as (typeof finals)[number];
    const final = closer.res.json?.outcome as 'approved' | 'rejected';
    if (final === 'approved') expect(votes).toHaveLength(2);

    const state = await dbState(approvalId);
    expect(state.approval).toMatchObject({
      status: final,
      approvals_count: votes.length + (final === 'approved' ? 1 : 0),
      processed_by: `token:${closer.name}`,
    });
    expect(state.votes.map((v) => `${v.actor}/${v.vote}`).sort()).toEqual(accepted.map((r) => `token:${r.name}/${r.decision}`).sort());
    expect(state.audit.filter((a) => a.action === 'approval.vote')).toHaveLength(votes.length);
    expect(state.audit.filter((a) => a.action !== 'approval.vote')).toEqual([
      { actor: `token:${closer.name}`, action: `approval.${final}` },
    ]);

    await executeEverywhere(runId);
    expect(hits(label)).toHaveLength(final === 'approved' ? 1 : 0);
    expect((await getRun(t.db, runId))?.status).toBe(final === 'approved' ? 'succeeded' : 'rejected');
  });
});
