import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submitAction } from '../src/approvals/actions.js';
import { claimExecution, setPolicy } from '../src/approvals/queries.js';
import { decideApproval, expireApprovals } from '../src/approvals/service.js';
import { DEFAULT_POLICY } from '../src/approvals/types.js';
import { openDatabase } from '../src/db/open.js';
import { MEMORY_DIR } from '../src/db/pglite.js';
import type { Db } from '../src/db/types.js';
import { AppError } from '../src/lib/errors.js';
import { runQueuedNow, startRun } from '../src/scheduler/manual.js';
import { openPgTestDb, type TestDb } from './helpers/db.js';
import { testSchedulerDeps } from './helpers/deps.js';
import { makeTenant, makeWorkflow, startRecordingServer } from './helpers/fixtures.js';

// The approval state machine against real Postgres: random sequences of small concurrent
// groups of approve / reject / expire / execute. Every group's results must be explained by
// some order of its operations on a pure model (linearizability, brute force over at most
// 3! orders), the database must match that model, and the invariants below must hold after
// every group whatever the model says.

const ALLOW = { LEVQOR_HTTP_ALLOW: '127.0.0.1' };
const ACTORS = ['token:a0', 'token:a1', 'token:a2', 'token:a3', 'token:a4'] as const;
/** Actor index meaning "the identity that requested the action". */
const SELF = ACTORS.length;

type Op =
  { t: 'approve'; actor: number } | { t: 'reject'; actor: number; reason: string } | { t: 'expire' } | { t: 'execute'; pool: number };

interface Scenario {
  kind: 'workflow' | 'action';
  required: number;
  selfAllowed: boolean;
  /** A non-empty approver list leaves a4 out. */
  restricted: boolean;
  groups: Op[][];
}

type Status = 'pending' | 'approved' | 'rejected' | 'expired';

interface Model {
  status: Status;
  count: number;
  voters: readonly string[];
  executed: boolean;
  finalBy: string | null;
}

interface Rules {
  required: number;
  requester: string;
  selfAllowed: boolean;
  approvers: readonly string[];
}

const actorName = (i: number, rules: Rules) => (i === SELF ? rules.requester : (ACTORS[i] as string));

/** One operation on the model: its result and the next state (pure). */
function apply(m: Model, op: Op, rules: Rules): [string, Model] {
  switch (op.t) {
    case 'execute':
      return m.status === 'approved' && !m.executed ? ['executed', { ...m, executed: true }] : ['none', m];
    case 'expire':
      return m.status === 'pending' ? ['expired', { ...m, status: 'expired', finalBy: 'levqor:expiry' }] : ['noop', m];
    case 'approve':
    case 'reject': {
      if (op.t === 'reject' && (op.reason.trim().length === 0 || op.reason.trim().length > 500)) return ['bad_input', m];
      if (m.status !== 'pending') return ['conflict', m];
      const actor = actorName(op.actor, rules);
      const self = !rules.selfAllowed && actor === rules.requester;
      if (self || (rules.approvers.length > 0 && !rules.approvers.includes(actor))) return ['forbidden', m];
      if (m.voters.includes(actor)) return ['conflict', m];
      const voters = [...m.voters, actor].sort();
      if (op.t === 'reject') return ['rejected', { ...m, voters, status: 'rejected', finalBy: actor }];
      if (m.count + 1 >= rules.required) return ['approved', { ...m, voters, count: m.count + 1, status: 'approved', finalBy: actor }];
      return ['vote_recorded', { ...m, voters, count: m.count + 1 }];
    }
  }
}

function permutations(n: number): number[][] {
  if (n <= 1) return [[...Array(n).keys()]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

/** The model states some order of `group` reaches from some candidate while producing exactly `observed`. */
function linearize(candidates: readonly Model[], group: readonly Op[], observed: readonly string[], rules: Rules): Model[] {
  const out = new Map<string, Model>();
  for (const start of candidates) {
    for (const order of permutations(group.length)) {
      let state = start;
      const results: string[] = [];
      for (const i of order) {
        const [result, next] = apply(state, group[i] as Op, rules);
        results[i] = result;
        state = next;
      }
      if (results.every((r, i) => r === observed[i])) out.set(JSON.stringify(state), state);
    }
  }
  return [...out.values()];
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('approve' as const), actor: fc.nat(SELF) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('reject' as const),
      actor: fc.nat(SELF),
      reason: fc.oneof({ weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 30 }) }, fc.constantFrom('', '   ', 'x'.repeat(501))),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'expire' as const }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('execute' as const), pool: fc.nat(1) }) },
);

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  kind: fc.constantFrom('workflow' as const, 'action' as const),
  required: fc.integer({ min: 1, max: 3 }),
  selfAllowed: fc.boolean(),
  restricted: fc.boolean(),
  groups: fc.array(fc.array(opArb, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 8 }),
});

interface Snapshot {
  status: Status;
  /** "expired" for a pending request past its time that no sweep or decision has closed yet. */
  effective: Status;
  processed_at: number | null;
  processed_by: string | null;
  approvals_count: number;
  required_approvals: number;
  execution_started_at: number | null;
  votes: { actor: string; vote: string }[];
  audit: { actor: string; action: string }[];
  events: string[];
  runStatus: string | undefined;
  hits: number;
}

describe('approval state machine (fast-check, real Postgres)', () => {
  let t: TestDb;
  let pools: Db[];
  let target: Awaited<ReturnType<typeof startRecordingServer>>;
  let scenarios = 0;
  beforeAll(async () => {
    t = await openPgTestDb({ poolMax: 8 });
    const second = await openDatabase(
      { DATABASE_URL: t.url, LEVQOR_DATA_DIR: MEMORY_DIR, LEVQOR_DB_POOL_MAX: 4, LEVQOR_DB_CONNECT_TIMEOUT_MS: 10_000 },
      { migrate: false },
    );
    pools = [t.db, second];
    target = await startRecordingServer();
  });
  afterAll(async () => {
    await pools?.[1]?.close();
    await target?.close();
    await t?.close();
  });

  async function snapshot(id: string, runId: string | undefined, hook: string): Promise<Snapshot> {
    const { rows } = await t.db.query<Omit<Snapshot, 'effective' | 'votes' | 'audit' | 'events' | 'runStatus' | 'hits'> & { due: boolean }>(
      `SELECT status, processed_at, processed_by, approvals_count, required_approvals, execution_started_at,
              expires_at <= extract(epoch FROM now()) AS due FROM approval_queue WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    if (!row) throw new Error(`approval ${id} vanished`);
    const [votes, audit, events, run] = await Promise.all([
      t.db.query<{ actor: string; vote: string }>('SELECT actor, vote FROM approval_votes WHERE approval_id = $1 ORDER BY id', [id]),
      t.db.query<{ actor: string; action: string }>('SELECT actor, action FROM audit_log WHERE subject = $1 ORDER BY id', [
        `approval:${id}`,
      ]),
      t.db.query<{ type: string }>('SELECT type FROM approval_events WHERE approval_id = $1 ORDER BY id', [id]),
      runId ? t.db.query<{ status: string }>('SELECT status FROM workflow_runs WHERE id = $1', [runId]) : undefined,
    ]);
    const { due, ...rest } = row;
    return {
      ...rest,
      effective: row.status === 'pending' && due ? 'expired' : row.status,
      votes: votes.rows,
      audit: audit.rows,
      events: events.rows.map((e) => e.type),
      runStatus: run?.rows[0]?.status,
      hits: target.requests.filter((r) => r.url === hook).length,
    };
  }

  /** Invariants that hold whatever happened; `first` is the state when the request first became final. */
  function checkInvariants(s: Snapshot, first: Snapshot | undefined, voteResults: number, kind: Scenario['kind']): void {
    expect(['pending', 'approved', 'rejected', 'expired']).toContain(s.status);
    expect(s.processed_at === null).toBe(s.status === 'pending');
    if (first)
      expect({ status: s.status, processed_at: s.processed_at, processed_by: s.processed_by }).toEqual({
        status: first.status,
        processed_at: first.processed_at,
        processed_by: first.processed_by,
      });
    if (first?.execution_started_at != null) expect(s.execution_started_at).toBe(first.execution_started_at);
    expect(s.approvals_count).toBeLessThanOrEqual(s.required_approvals);
    expect(s.approvals_count).toBe(s.votes.filter((v) => v.vote === 'approve').length);
    expect(new Set(s.votes.map((v) => v.actor)).size).toBe(s.votes.length);
    expect(s.votes.filter((v) => v.vote === 'reject').length).toBeLessThanOrEqual(s.status === 'rejected' ? 1 : 0);
    // One execution at most, and only of an approved request.
    expect(s.hits).toBeLessThanOrEqual(1);
    if (s.status !== 'approved') expect([s.execution_started_at, s.hits]).toEqual([null, 0]);
    if (kind === 'workflow') expect(s.hits).toBe(s.execution_started_at === null ? 0 : 1);
    else expect(s.hits).toBe(0);
    // The audit log: one entry per recorded vote, one for the decision.
    expect(s.audit.filter((a) => a.action === 'approval.vote')).toHaveLength(voteResults);
    const finals = s.audit.filter((a) => a.action !== 'approval.vote');
    expect(finals).toEqual(s.status === 'pending' ? [] : [{ action: `approval.${s.status}`, actor: s.processed_by }]);
    expect(s.events.filter((e) => e === 'requested')).toHaveLength(1);
    expect(s.events.filter((e) => e === 'approved' || e === 'rejected' || e === 'expired')).toEqual(
      s.status === 'pending' ? [] : [s.status],
    );
    if (kind === 'workflow') {
      const expected = {
        pending: 'waiting_approval',
        approved: s.execution_started_at === null ? 'queued' : 'succeeded',
        rejected: 'rejected',
        expired: 'expired',
      }[s.status];
      expect(s.runStatus).toBe(expected);
    }
  }

  function matches(m: Model, s: Snapshot): boolean {
    return (
      m.status === s.effective &&
      m.count === s.approvals_count &&
      JSON.stringify(m.voters) === JSON.stringify(s.votes.map((v) => v.actor).sort()) &&
      m.executed === (s.execution_started_at !== null) &&
      (m.status === 'approved' || m.status === 'rejected' ? m.finalBy === s.processed_by : true)
    );
  }

  async function runOp(op: Op, ctx: { id: string; tenantId: string; runId?: string; rules: Rules }): Promise<string> {
    try {
      switch (op.t) {
        case 'approve':
        case 'reject': {
          const decision = op.t;
          const reason = op.t === 'reject' ? op.reason : undefined;
          const { outcome } = await decideApproval(pools[0] as Db, {
            id: ctx.id,
            tenantId: ctx.tenantId,
            decision,
            actor: actorName(op.actor, ctx.rules),
            channel: 'test',
            reason,
          });
          return outcome;
        }
        case 'expire': {
          // The linearisation point is this UPDATE: from its commit on, the request is past its time.
          const res = await t.db.query(
            "UPDATE approval_queue SET expires_at = extract(epoch FROM now()) - 3600 WHERE id = $1 AND status = 'pending' AND expires_at > extract(epoch FROM now())",
            [ctx.id],
          );
          await expireApprovals(t.db);
          return res.rowCount === 1 ? 'expired' : 'noop';
        }
        case 'execute': {
          const db = pools[op.pool] as Db;
          if (!ctx.runId) return (await claimExecution(db, ctx.id)) ? 'executed' : 'none';
          const { outcome } = await runQueuedNow(testSchedulerDeps(db, ALLOW), ctx.runId);
          return outcome ? 'executed' : 'none';
        }
      }
    } catch (err) {
      if (err instanceof AppError) return err.code;
      throw err;
    }
  }

  async function check(sc: Scenario): Promise<void> {
    scenarios += 1;
    const tenant = await makeTenant(t.db, 'prop');
    const approvers = sc.restricted ? ACTORS.slice(0, 4) : [];
    await setPolicy(
      t.db,
      tenant.id,
      { ...DEFAULT_POLICY, required_approvals: sc.required, allow_self_approval: sc.selfAllowed, approvers: [...approvers] },
      'test',
    );
    const hook = `/prop/${scenarios}`;
    let id: string;
    let runId: string | undefined;
    let requester: string;
    if (sc.kind === 'workflow') {
      const name = `prop-${scenarios}`;
      const wf = await makeWorkflow(t.db, tenant.id, {
        name,
        steps: [{ type: 'http', method: 'POST', url: `${target.url}${hook}`, body: { n: scenarios } }],
      });
      // The request is made in the name of the run's starter: deciding it is self-approval.
      const started = await startRun(testSchedulerDeps(t.db, ALLOW), wf, { enqueue: false, trigger: 'manual', actor: 'token:starter' });
      if (started.outcome?.kind !== 'parked') throw new Error(`the run did not park: ${JSON.stringify(started.outcome)}`);
      const { rows } = await t.db.query<{ requested_by: string }>('SELECT requested_by FROM approval_queue WHERE id = $1', [
        started.outcome.approvalId,
      ]);
      [id, runId, requester] = [started.outcome.approvalId, started.runId, rows[0]?.requested_by ?? '?'];
      expect(requester).toBe('token:starter');
    } else {
      requester = 'token:requester';
      const action = await submitAction(t.db, {
        tenantId: tenant.id,
        actor: requester,
        channel: 'test',
        action_type: 'deploy.prod',
        summary: `deploy ${scenarios}`,
        payload: { n: scenarios },
      });
      id = action.id;
    }
    const rules: Rules = { required: sc.required, requester, selfAllowed: sc.selfAllowed, approvers };
    let candidates: Model[] = [{ status: 'pending', count: 0, voters: [], executed: false, finalBy: null }];
    let first: Snapshot | undefined;
    let voteResults = 0;
    const history: string[] = [];
    const verify = (s: Snapshot, what: string) => {
      try {
        checkInvariants(s, first, voteResults, sc.kind);
      } catch (err) {
        throw new Error(`${what}: ${(err as Error).message}\nhistory:\n  ${history.join('\n  ')}\nstate: ${JSON.stringify(s)}`, {
          cause: err,
        });
      }
      if (!first && s.status !== 'pending') first = s;
      if (first && first.execution_started_at === null && s.execution_started_at !== null)
        first = { ...first, execution_started_at: s.execution_started_at };
    };
    for (const group of sc.groups) {
      const results = await Promise.all(group.map((op) => runOp(op, { id, tenantId: tenant.id, runId, rules })));
      history.push(group.map((op, i) => `${JSON.stringify(op)} → ${results[i] ?? '?'}`).join(' ‖ '));
      voteResults += results.filter((r) => r === 'vote_recorded').length;
      const s = await snapshot(id, runId, hook);
      const next = linearize(candidates, group, results, rules).filter((m) => matches(m, s));
      if (next.length === 0) {
        throw new Error(
          `no order of the last group explains its results and the database\nhistory:\n  ${history.join('\n  ')}\nmodel before: ${JSON.stringify(candidates)}\ndatabase: ${JSON.stringify(s)}`,
        );
      }
      candidates = next;
      verify(s, 'after a group');
    }
    // Settle a request left past its time, then check the end state once more.
    await expireApprovals(t.db);
    verify(await snapshot(id, runId, hook), 'after the final sweep');
  }

  it('keeps one final decision, unique votes, at most one execution, and a matching audit log', async () => {
    // 40 scenarios of up to 8 groups take a few seconds; shrinking a failure takes longer.
    await fc.assert(
      fc.asyncProperty(scenarioArb, (sc) => check(sc)),
      { numRuns: 40 },
    );
  }, 120_000);

  it('the model itself: a quorum of 2 needs two distinct approvers, a reject ends it, nothing runs twice', () => {
    const rules: Rules = { required: 2, requester: 'token:starter', selfAllowed: false, approvers: [] };
    let m: Model = { status: 'pending', count: 0, voters: [], executed: false, finalBy: null };
    const results: string[] = [];
    for (const op of [
      { t: 'approve', actor: SELF },
      { t: 'approve', actor: 0 },
      { t: 'approve', actor: 0 },
      { t: 'reject', actor: 1, reason: ' ' },
      { t: 'approve', actor: 1 },
      { t: 'reject', actor: 2, reason: 'late' },
      { t: 'execute', pool: 0 },
      { t: 'execute', pool: 1 },
      { t: 'expire' },
    ] as Op[]) {
      const [r, n] = apply(m, op, rules);
      results.push(r);
      m = n;
    }
    expect(results).toEqual(['forbidden', 'vote_recorded', 'conflict', 'bad_input', 'approved', 'conflict', 'executed', 'none', 'noop']);
    expect(m).toEqual({ status: 'approved', count: 2, voters: ['token:a0', 'token:a1'], executed: true, finalBy: 'token:a1' });
    expect(
      linearize(
        [{ status: 'pending', count: 0, voters: [], executed: false, finalBy: null }],
        [
          { t: 'approve', actor: 0 },
          { t: 'reject', actor: 1, reason: 'no' },
        ],
        ['conflict', 'rejected'],
        rules,
      ),
    ).toHaveLength(1);
    expect(
      linearize(
        [{ status: 'pending', count: 0, voters: [], executed: false, finalBy: null }],
        [
          { t: 'approve', actor: 0 },
          { t: 'approve', actor: 1 },
        ],
        ['approved', 'approved'],
        rules,
      ),
    ).toHaveLength(0);
  });
});
