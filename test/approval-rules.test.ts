import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { submitAction } from '../src/approvals/actions.js';
import {
  APPROVALS_CHANNEL,
  approvalEventsAfter,
  getApproval,
  getPolicy,
  listVotes,
  setPolicy,
  type ApprovalEventRow,
} from '../src/approvals/queries.js';
import { decideApproval, expireApprovals, remindApprovals, type DecisionInput } from '../src/approvals/service.js';
import { DEFAULT_POLICY, type ApprovalPolicy, type ApprovalRow } from '../src/approvals/types.js';
import { getRun, getRunEvents } from '../src/runs/queries.js';
import { startRun } from '../src/scheduler/manual.js';
import { deployAction, makeApiTenant, useTestApi, type DecisionJson } from './helpers/api.js';
import { killRunningClis, parseJson, runCli } from './helpers/cli.js';
import { BACKENDS, openPgTestDb, type TestDb } from './helpers/db.js';
import { testSchedulerDeps } from './helpers/deps.js';
import { makeTenant, makeWorkflow } from './helpers/fixtures.js';
import { appErrorOf } from './helpers/errors.js';

const QUORUM: ApprovalPolicy = {
  ...DEFAULT_POLICY,
  approvers: ['token:a', 'token:b', 'token:c'],
  required_approvals: 2,
  ttl_seconds: 3600,
};

describe.each(BACKENDS)('approval rules on $name', ({ open }) => {
  const { t, api } = useTestApi(open);

  async function tenantWith(policy?: ApprovalPolicy) {
    const tenant = await makeTenant(t.db, 'rules');
    if (policy) await setPolicy(t.db, tenant.id, policy, 'test');
    return tenant;
  }
  const request = (tenantId: string, requestedBy = 'token:requester') =>
    submitAction(t.db, { tenantId, actor: requestedBy, channel: 'api', ...deployAction() });
  const decide = (a: ApprovalRow, actor: string, decision: DecisionInput['decision'] = 'approve', reason?: string) =>
    decideApproval(t.db, { id: a.id, tenantId: a.tenant_id, decision, actor, channel: 'api', reason });
  const eventTypes = async (approvalId: string) =>
    (await t.db.query<{ type: string }>('SELECT type FROM approval_events WHERE approval_id = $1 ORDER BY id', [approvalId])).rows.map(
      (r) => r.type,
    );

  describe('quorum (service)', () => {
    it('2 of [a, b, c]: a vote is recorded, the same identity again is a conflict, a second approver approves', async () => {
      const tenant = await tenantWith(QUORUM);
      const a = await request(tenant.id);
      expect(a).toMatchObject({ status: 'pending', required_approvals: 2, approvals_count: 0 });
      const first = await decide(a, 'token:a', 'approve', 'fine by me');
      expect(first.outcome).toBe('vote_recorded');
      expect(first.approval).toMatchObject({ status: 'pending', approvals_count: 1, processed_by: null });
      const twice = await appErrorOf(decide(a, 'token:a'));
      expect(twice.code).toBe('conflict');
      expect(twice.message).toContain('token:a already voted');
      expect(twice.message).toContain('1 of 2');
      const second = await decide(a, 'token:b');
      expect(second.outcome).toBe('approved');
      expect(second.approval).toMatchObject({ status: 'approved', approvals_count: 2, processed_by: 'token:b' });
      expect((await listVotes(t.db, a.id)).map((v) => [v.actor, v.vote])).toEqual([
        ['token:a', 'approve'],
        ['token:b', 'approve'],
      ]);
      const late = await appErrorOf(decide(a, 'token:c'));
      expect(late.code).toBe('conflict');
      expect(late.message).toContain('already approved (by token:b)');
      expect(await eventTypes(a.id)).toEqual(['requested', 'vote', 'approved']);
      const audit = await t.db.query<{ action: string; actor: string }>(
        'SELECT action, actor FROM audit_log WHERE subject = $1 ORDER BY id',
        [`approval:${a.id}`],
      );
      expect(audit.rows).toEqual([
        { action: 'approval.vote', actor: 'token:a' },
        { action: 'approval.approved', actor: 'token:b' },
      ]);
    });

    it('one rejection rejects at once, even after an approving vote', async () => {
      const tenant = await tenantWith(QUORUM);
      const a = await request(tenant.id);
      expect((await decide(a, 'token:a')).outcome).toBe('vote_recorded');
      const rejected = await decide(a, 'token:c', 'reject', 'not during the freeze');
      expect(rejected.outcome).toBe('rejected');
      expect(rejected.approval).toMatchObject({ status: 'rejected', processed_by: 'token:c', reason: 'not during the freeze' });
      expect(await eventTypes(a.id)).toEqual(['requested', 'vote', 'rejected']);
    });

    it('an identity not in the list is refused (forbidden), and nothing is recorded', async () => {
      const tenant = await tenantWith(QUORUM);
      const a = await request(tenant.id);
      const err = await appErrorOf(decide(a, 'token:mallory'));
      expect(err.code).toBe('forbidden');
      expect(err.message).toContain('token:mallory is not an approver');
      expect(await listVotes(t.db, a.id)).toEqual([]);
      expect((await getApproval(t.db, a.id))?.approvals_count).toBe(0);
    });

    it('a group entry admits its members and no one else', async () => {
      const tenant = await tenantWith({ ...DEFAULT_POLICY, approvers: ['group:oncall'], groups: { oncall: ['slack:U1', 'github:bob'] } });
      const a = await request(tenant.id);
      expect((await appErrorOf(decide(a, 'slack:U2'))).code).toBe('forbidden');
      expect((await decide(a, 'slack:U1')).outcome).toBe('approved');
      const b = await request(tenant.id);
      expect((await decide(b, 'github:bob', 'reject', 'no')).outcome).toBe('rejected');
    });

    it('refuses self-approval unless the policy allows it', async () => {
      const tenant = await tenantWith();
      const a = await request(tenant.id, 'token:x');
      const err = await appErrorOf(decide(a, 'token:x'));
      expect(err.code).toBe('forbidden');
      expect(err.message).toContain('self-approval');
      await setPolicy(t.db, tenant.id, { ...DEFAULT_POLICY, allow_self_approval: true }, 'test');
      expect((await decide(a, 'token:x')).outcome).toBe('approved');
    });
  });

  describe('quorum and rules through the API', () => {
    it('2 of [token:a, token:b, token:c]: vote_recorded, 409 for the same token, approved by the second, 403 outside the list', async () => {
      const ten = await makeApiTenant(t.db, { ops: 'all', a: 'all', b: 'all', c: 'all', d: 'all' });
      await setPolicy(t.db, ten.tenant.id, QUORUM, 'test');
      const sub = await api.request<ApprovalRow>('POST', '/api/actions', { token: ten.token('ops'), body: deployAction() });
      expect(sub.json).toMatchObject({ status: 'pending', required_approvals: 2 });
      const id = sub.json.id;
      const outsider = await api.request('POST', `/api/approvals/${id}/approve`, { token: ten.token('d') });
      expect(outsider.status).toBe(403);
      expect(outsider.json.message).toContain('token:d is not an approver');
      const first = await api.request<DecisionJson>('POST', `/api/approvals/${id}/approve`, { token: ten.token('a') });
      expect(first.status).toBe(200);
      expect(first.json.outcome).toBe('vote_recorded');
      expect(first.json.approval).toMatchObject({ status: 'pending', approvals_count: 1 });
      const again = await api.request('POST', `/api/approvals/${id}/approve`, { token: ten.token('a') });
      expect(again.status).toBe(409);
      expect(again.json.message).toContain('already voted');
      const shown = await api.request<ApprovalRow & { votes: { actor: string }[] }>('GET', `/api/approvals/${id}`, {
        token: ten.token('a'),
      });
      expect(shown.json.votes.map((v) => v.actor)).toEqual(['token:a']);
      const second = await api.request<DecisionJson>('POST', `/api/approvals/${id}/approve`, { token: ten.token('b') });
      expect(second.status).toBe(200);
      expect(second.json.outcome).toBe('approved');
      expect(second.json.approval).toMatchObject({ status: 'approved', approvals_count: 2, processed_by: 'token:b' });
    });

    it('one rejection through the API rejects a quorum request at once', async () => {
      const ten = await makeApiTenant(t.db, { ops: 'all', a: 'all', c: 'all' });
      await setPolicy(t.db, ten.tenant.id, QUORUM, 'test');
      const { json: a } = await api.request<ApprovalRow>('POST', '/api/actions', { token: ten.token('ops'), body: deployAction() });
      await api.request('POST', `/api/approvals/${a.id}/approve`, { token: ten.token('a') });
      const res = await api.request<DecisionJson>('POST', `/api/approvals/${a.id}/reject`, {
        token: ten.token('c'),
        body: { reason: 'Not authorized' },
      });
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ outcome: 'rejected', approval: { status: 'rejected', approvals_count: 1 } });
    });

    it('a group of tokens admits its members', async () => {
      const ten = await makeApiTenant(t.db, { ops: 'all', e: 'all', f: 'all' });
      await setPolicy(t.db, ten.tenant.id, { ...DEFAULT_POLICY, approvers: ['group:oncall'], groups: { oncall: ['token:e'] } }, 'test');
      const { json: a } = await api.request<ApprovalRow>('POST', '/api/actions', { token: ten.token('ops'), body: deployAction() });
      expect((await api.request('POST', `/api/approvals/${a.id}/approve`, { token: ten.token('f') })).status).toBe(403);
      expect((await api.request('POST', `/api/approvals/${a.id}/approve`, { token: ten.token('e') })).status).toBe(200);
    });

    it('a Class C action submitted with token X cannot be approved by X (403) unless allow_self_approval', async () => {
      const ten = await makeApiTenant(t.db, { x: 'all', y: 'all' });
      const { json: a } = await api.request<ApprovalRow>('POST', '/api/actions', { token: ten.token('x'), body: deployAction() });
      expect(a.requested_by).toBe('token:x');
      const self = await api.request('POST', `/api/approvals/${a.id}/approve`, { token: ten.token('x') });
      expect(self.status).toBe(403);
      expect(self.json.message).toContain('token:x requested this action');
      expect((await api.request('POST', `/api/approvals/${a.id}/approve`, { token: ten.token('y') })).status).toBe(200);

      await setPolicy(t.db, ten.tenant.id, { ...DEFAULT_POLICY, allow_self_approval: true }, 'test');
      const { json: b } = await api.request<ApprovalRow>('POST', '/api/actions', { token: ten.token('x'), body: deployAction() });
      const allowed = await api.request<DecisionJson>('POST', `/api/approvals/${b.id}/approve`, { token: ten.token('x') });
      expect(allowed.status).toBe(200);
      expect(allowed.json.approval.processed_by).toBe('token:x');
    });
  });

  describe('expiry and reminders', () => {
    const backdate = (id: string, requestedAgo: number, expiresIn: number) =>
      t.db.query(
        'UPDATE approval_queue SET requested_at = extract(epoch FROM now()) - $2, expires_at = extract(epoch FROM now()) + $3 WHERE id = $1',
        [id, requestedAgo, expiresIn],
      );

    it('a decision after expires_at is a 409 saying expired, and the request is left expired', async () => {
      const tenant = await tenantWith();
      const a = await request(tenant.id);
      await backdate(a.id, 100, -1);
      const err = await appErrorOf(decide(a, 'token:lead'));
      expect(err.code).toBe('conflict');
      expect(err.message).toContain('expired');
      expect(await getApproval(t.db, a.id)).toMatchObject({ status: 'expired', processed_by: 'levqor:expiry' });
      expect(await listVotes(t.db, a.id)).toEqual([]);
      expect(await eventTypes(a.id)).toEqual(['requested', 'expired']);
    });

    it('through the API too', async () => {
      const ten = await makeApiTenant(t.db);
      const { json: a } = await api.request<ApprovalRow>('POST', '/api/actions', { token: ten.token('ops'), body: deployAction() });
      await backdate(a.id, 100, -1);
      const res = await api.request('POST', `/api/approvals/${a.id}/approve`, { token: ten.token('lead') });
      expect(res.status).toBe(409);
      expect(res.json.message).toContain('is already expired');
    });

    it('expireApprovals() turns past-due pending requests into expired (not rejected), and their runs end expired', async () => {
      const tenant = await tenantWith();
      const standalone = await request(tenant.id);
      const fresh = await request(tenant.id);
      const wf = await makeWorkflow(t.db, tenant.id, { name: 'held', steps: [{ type: 'http', url: 'http://127.0.0.1:9/never' }] });
      const started = await startRun(testSchedulerDeps(t.db), wf, { enqueue: false, trigger: 'manual', actor: 'cli:test' });
      if (started.outcome?.kind !== 'parked') throw new Error(`expected the run to park, got ${JSON.stringify(started.outcome)}`);
      const runApproval = started.outcome.approvalId;
      await backdate(standalone.id, 100, -1);
      await backdate(runApproval, 100, -1);

      const expired = await expireApprovals(t.db);
      expect(expired.map((a) => a.id).sort()).toEqual([standalone.id, runApproval].sort());
      for (const id of [standalone.id, runApproval]) {
        expect(await getApproval(t.db, id)).toMatchObject({ status: 'expired', processed_by: 'levqor:expiry' });
        expect(await eventTypes(id)).toEqual(['requested', 'expired']);
      }
      expect((await getApproval(t.db, fresh.id))?.status).toBe('pending');
      const run = await getRun(t.db, started.runId);
      expect(run?.status).toBe('expired');
      expect(run?.error).toContain('expired without a decision');
      expect((await getRunEvents(t.db, started.runId)).at(-1)).toMatchObject({ type: 'run_finished', payload: { status: 'expired' } });
      const audit = await t.db.query<{ actor: string }>("SELECT actor FROM audit_log WHERE action = 'approval.expired' AND subject = $1", [
        `approval:${standalone.id}`,
      ]);
      expect(audit.rows).toEqual([{ actor: 'levqor:expiry' }]);
      // A second sweep finds nothing more of this tenant's.
      expect((await expireApprovals(t.db)).filter((a) => a.tenant_id === tenant.id)).toEqual([]);
    });

    it('remindApprovals() marks a request at 80 % of its lifetime once, with one reminder event', async () => {
      const tenant = await tenantWith();
      const due = await request(tenant.id);
      const early = await request(tenant.id);
      await backdate(due.id, 850, 150); // 85 % through
      await backdate(early.id, 500, 500); // 50 % through
      const first = await remindApprovals(t.db);
      const mine = first.filter((a) => a.tenant_id === tenant.id);
      expect(mine.map((a) => a.id)).toEqual([due.id]);
      const reminded = await getApproval(t.db, due.id);
      expect(reminded?.reminded_at).toBeGreaterThan(0);
      expect(reminded?.status).toBe('pending');
      expect((await getApproval(t.db, early.id))?.reminded_at).toBeNull();
      expect(await eventTypes(due.id)).toEqual(['requested', 'reminder']);
      const second = await remindApprovals(t.db);
      expect(second.filter((a) => a.tenant_id === tenant.id)).toEqual([]);
      expect(await eventTypes(due.id)).toEqual(['requested', 'reminder']);
      expect((await getApproval(t.db, due.id))?.reminded_at).toBe(reminded?.reminded_at);
    });
  });

  describe('approval events', () => {
    it('a decision is announced on NOTIFY levqor_approvals', async () => {
      const tenant = await tenantWith();
      const a = await request(tenant.id);
      let resolveHeard!: (payload: Record<string, unknown>) => void;
      const heard = new Promise<Record<string, unknown>>((resolve) => (resolveHeard = resolve));
      const unlisten = await t.db.listen(APPROVALS_CHANNEL, (payload) => {
        const msg = JSON.parse(payload) as Record<string, unknown>;
        if (msg.approval_id === a.id && msg.type === 'approved') resolveHeard(msg);
      });
      try {
        await decide(a, 'token:lead');
        let timer: NodeJS.Timeout | undefined;
        const guard = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('no NOTIFY on levqor_approvals within 10 s')), 10_000);
        });
        const msg = await Promise.race([heard, guard]).finally(() => clearTimeout(timer));
        expect(msg).toMatchObject({ type: 'approved', approval_id: a.id, tenant_id: tenant.id });
        // The notification names the persisted event.
        const { rows } = await t.db.query<{ id: string }>(
          "SELECT id::text AS id FROM approval_events WHERE approval_id = $1 AND type = 'approved'",
          [a.id],
        );
        expect(msg.event_id).toBe(rows[0]?.id);
      } finally {
        await unlisten();
      }
    });

    it('approvalEventsAfter(lastId) returns exactly the events after an id, for catching up', async () => {
      const tenant = await tenantWith();
      const { rows } = await t.db.query<{ last: string }>('SELECT coalesce(max(id), 0)::text AS last FROM approval_events');
      const lastId = rows[0]?.last ?? '0';
      const a = await request(tenant.id);
      const b = await request(tenant.id);
      await decide(a, 'token:lead');
      await decide(b, 'token:lead', 'reject', 'no');
      const all = await approvalEventsAfter(t.db, lastId, 100);
      const shape = (events: ApprovalEventRow[]) => events.map((e) => [e.approval_id, e.type]);
      expect(shape(all)).toEqual([
        [a.id, 'requested'],
        [b.id, 'requested'],
        [a.id, 'approved'],
        [b.id, 'rejected'],
      ]);
      expect(all.every((e) => BigInt(e.id) > BigInt(lastId))).toBe(true);
      expect(all[2]?.payload).toMatchObject({ by: 'token:lead' });
      // From the middle: exactly what came after.
      expect(shape(await approvalEventsAfter(t.db, all[1]?.id ?? '', 100))).toEqual(shape(all.slice(2)));
      expect(await approvalEventsAfter(t.db, all[3]?.id ?? '', 100)).toEqual([]);
      expect(shape(await approvalEventsAfter(t.db, lastId, 2))).toEqual(shape(all.slice(0, 2)));
      // Scoped to a tenant, another tenant's events are left out.
      const other = await tenantWith();
      await request(other.id);
      expect(shape(await approvalEventsAfter(t.db, lastId, 100, tenant.id))).toEqual(shape(all));
    });
  });
});

describe('levqor approvals policy (CLI, Postgres)', () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await openPgTestDb();
  });
  afterEach(killRunningClis);
  afterAll(async () => {
    await t?.close();
  });

  it('sets approvers, a group and a quorum, shows them, and the service applies them', async () => {
    const tenant = await makeTenant(t.db, 'cli-policy');
    const env = { DATABASE_URL: t.url };
    const set = await runCli(
      [
        'approvals',
        'policy',
        'set',
        '--approvers',
        'token:a,group:oncall',
        '--group',
        'oncall=slack:U1',
        '--required',
        '2',
        '--as',
        'alice',
        '--tenant',
        tenant.name,
      ],
      { env },
    );
    expect(set.code, set.stderr).toBe(0);
    expect(parseJson(set)).toEqual(
      expect.objectContaining({
        tenant: tenant.name,
        approvers: ['token:a', 'group:oncall'],
        groups: { oncall: ['slack:U1'] },
        required_approvals: 2,
      }),
    );
    const show = await runCli(['approvals', 'policy', 'show', '--tenant', tenant.name], { env });
    expect(show.code, show.stderr).toBe(0);
    const shown = parseJson<Record<string, unknown>>(show);
    expect(shown).toMatchObject({
      tenant: tenant.name,
      approvers: ['token:a', 'group:oncall'],
      groups: { oncall: ['slack:U1'] },
      required_approvals: 2,
      allow_self_approval: false,
      ttl_seconds: 86_400,
      updated_by: 'cli:alice',
    });

    const a = await submitAction(t.db, { tenantId: tenant.id, actor: 'token:ops', channel: 'api', ...deployAction() });
    const decideAs = (actor: string) =>
      decideApproval(t.db, { id: a.id, tenantId: tenant.id, decision: 'approve', actor, channel: 'slack' });
    expect((await decideAs('slack:U1')).outcome).toBe('vote_recorded');
    expect((await decideAs('token:a')).outcome).toBe('approved');
  });

  it('a bad identity or an undefined group exits 2 naming it, and leaves the policy as it was', async () => {
    const tenant = await makeTenant(t.db, 'cli-policy');
    const env = { DATABASE_URL: t.url };
    const bad = await runCli(['approvals', 'policy', 'set', '--approvers', 'token:a,bogus', '--tenant', tenant.name], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"bogus" is not an identity');
    const undefinedGroup = await runCli(['approvals', 'policy', 'set', '--approvers', 'group:nobody', '--tenant', tenant.name], { env });
    expect(undefinedGroup.code).toBe(2);
    expect(undefinedGroup.stderr).toContain('group "nobody" is not defined');
    const badGroup = await runCli(['approvals', 'policy', 'set', '--group', 'oncall=slack U1', '--tenant', tenant.name], { env });
    expect(badGroup.code).toBe(2);
    const zero = await runCli(['approvals', 'policy', 'set', '--required', '0', '--tenant', tenant.name], { env });
    expect(zero.code).toBe(2);
    expect(await getPolicy(t.db, tenant.id)).toBeUndefined();
    const show = await runCli(['approvals', 'policy', 'show', '--tenant', tenant.name], { env });
    expect(parseJson<Record<string, unknown>>(show)).toMatchObject({ approvers: [], required_approvals: 1, default: true });
  });
});
