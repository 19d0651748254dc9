import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertApproval } from '../src/approvals/queries.js';
import { expireApprovals } from '../src/approvals/service.js';
import type { ApprovalRow } from '../src/approvals/types.js';
import type { EventRow, RunRow } from '../src/runs/types.js';
import { runTick } from '../src/scheduler/tick.js';
import type { WorkflowRow } from '../src/workflows/queries.js';
import { deployAction, makeApiTenant, requestDeploy, useTestApi, type ApiTenant, type DecisionJson } from './helpers/api.js';
import { BACKENDS } from './helpers/db.js';
import { testSchedulerDeps } from './helpers/deps.js';
import { startRecordingServer } from './helpers/fixtures.js';

const ALLOW = { LEVQOR_HTTP_ALLOW: '127.0.0.1' };

interface ApprovalPage {
  approvals: ApprovalRow[];
  next_cursor: string | null;
}
type ApprovalWithVotes = ApprovalRow & { votes: { actor: string; channel: string; vote: string; reason: string | null }[] };
interface AuditEntry {
  id: string;
  actor: string;
  action: string;
  subject: string;
  detail: Record<string, unknown>;
}
type RunWithEvents = RunRow & { events: EventRow[] };
interface LinkedRunJson {
  status: string;
  run_id: string;
  workflow: string;
  step_index: number;
  previous_id: string;
  previous_run_id: string;
}
interface OpenApiOperation {
  summary: string;
  parameters?: { name: string; in: string; required: boolean }[];
  requestBody?: {
    required: boolean;
    content: { 'application/json': { schema: { type?: string; required?: string[]; properties?: Record<string, unknown> } } };
  };
  responses: Record<string, unknown>;
  security?: { bearer?: string[] }[];
}
interface OpenApiDoc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { securitySchemes: Record<string, { type: string; scheme: string }> };
}

describe.each(BACKENDS)('REST API on $name', ({ open }) => {
  const { t, api } = useTestApi(open, { env: ALLOW });
  let target: Awaited<ReturnType<typeof startRecordingServer>>;
  beforeAll(async () => {
    target = await startRecordingServer();
  });
  afterAll(async () => {
    await target?.close();
  });

  /** Submits an action through the API with the tenant's `ops` token. */
  async function submit(ten: ApiTenant, body: Record<string, unknown> = deployAction()): Promise<ApprovalRow> {
    const res = await api.request<ApprovalRow>('POST', '/api/actions', { token: ten.token('ops'), body });
    expect(res.status, res.text).toBe(201);
    return res.json;
  }

  describe('GET /api/approvals', () => {
    it('lists pending requests by default and other states with ?status=', async () => {
      const ten = await makeApiTenant(t.db);
      const pending = await submit(ten, deployAction('deploy one'));
      const classA = await submit(ten, { action_type: 'log', summary: 'write a line', payload: { message: 'hi' } });
      const res = await api.request<ApprovalPage>('GET', '/api/approvals', { token: ten.token('lead') });
      expect(res.status).toBe(200);
      expect(res.json.approvals.map((a) => a.id)).toEqual([pending.id]);
      expect(res.json.next_cursor).toBeNull();
      const approved = await api.request<ApprovalPage>('GET', '/api/approvals?status=approved', { token: ten.token('lead') });
      expect(approved.json.approvals.map((a) => a.id)).toEqual([classA.id]);
      const rejected = await api.request<ApprovalPage>('GET', '/api/approvals?status=rejected', { token: ten.token('lead') });
      expect(rejected.json.approvals).toEqual([]);
      const bad = await api.request('GET', '/api/approvals?status=maybe', { token: ten.token('lead') });
      expect(bad.status).toBe(400);
      expect(bad.json.message).toContain('query.status');
    });

    it('accepts limit up to 200 and refuses more, naming query.limit', async () => {
      const ten = await makeApiTenant(t.db);
      expect((await api.request('GET', '/api/approvals?limit=200', { token: ten.token('lead') })).status).toBe(200);
      for (const limit of ['201', '0', 'ten']) {
        const res = await api.request('GET', `/api/approvals?limit=${limit}`, { token: ten.token('lead') });
        expect(res.status, limit).toBe(400);
        expect(res.json).toMatchObject({ error: 'bad_input' });
        expect(res.json.issues?.join('\n')).toContain('query.limit');
      }
    });

    it('walks 120 requests in pages of 50, oldest first, with no duplicates or gaps (ties broken by id)', async () => {
      const ten = await makeApiTenant(t.db);
      // Half in one transaction, so they share requested_at and only the id orders them.
      await t.db.transaction(async (tx) => {
        for (let i = 0; i < 60; i++) {
          await insertApproval(tx, {
            tenant_id: ten.tenant.id,
            run_id: null,
            workflow_id: null,
            step_index: null,
            action_type: 'deploy',
            impact_class: 'C',
            summary: `tied ${i}`,
            payload: { i },
            requested_by: 'token:ops',
            ttl_seconds: 3600,
          });
        }
      });
      for (let i = 0; i < 60; i++) {
        await requestDeploy(t.db, ten.tenant.id, { summary: `single ${i}`, payload: { i }, actor: 'token:ops' });
      }
      const { rows: expected } = await t.db.query<{ id: string }>(
        "SELECT id FROM approval_queue WHERE tenant_id = $1 AND status = 'pending' ORDER BY requested_at, id",
        [ten.tenant.id],
      );
      expect(expected).toHaveLength(120);
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      do {
        const path: string = `/api/approvals?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const res = await api.request<ApprovalPage>('GET', path, { token: ten.token('lead') });
        expect(res.status, res.text).toBe(200);
        sizes.push(res.json.approvals.length);
        seen.push(...res.json.approvals.map((a) => a.id));
        cursor = res.json.next_cursor;
      } while (cursor !== null && sizes.length < 10);
      expect(sizes).toEqual([50, 50, 20]);
      expect(new Set(seen).size).toBe(120);
      expect(seen).toEqual(expected.map((r) => r.id));
    });

    it('refuses a forged cursor with a 400 naming query.cursor', async () => {
      const ten = await makeApiTenant(t.db);
      const forged = [
        'not-a-cursor',
        Buffer.from(JSON.stringify([1, "x' OR 1=1 --"])).toString('base64url'),
        Buffer.from(JSON.stringify({ requested_at: 1 })).toString('base64url'),
        Buffer.from('[1,').toString('base64url'),
        'A'.repeat(600),
      ];
      for (const cursor of forged) {
        const res = await api.request('GET', `/api/approvals?cursor=${encodeURIComponent(cursor)}`, { token: ten.token('lead') });
        expect(res.status, cursor).toBe(400);
        expect(res.json.error).toBe('bad_input');
        expect(res.json.message).toContain('query.cursor');
      }
    });
  });

  describe('one approval and its decisions', () => {
    it('GET /api/approvals/:id shows the request with its votes; unknown or malformed ids are 404', async () => {
      const ten = await makeApiTenant(t.db);
      const a = await submit(ten);
      const before = await api.request<ApprovalWithVotes>('GET', `/api/approvals/${a.id}`, { token: ten.token('lead') });
      expect(before.status).toBe(200);
      expect(before.json).toMatchObject({
        id: a.id,
        status: 'pending',
        impact_class: 'C',
        action_type: 'deploy',
        requested_by: 'token:ops',
        source: 'api',
        votes: [],
      });
      await api.request('POST', `/api/approvals/${a.id}/approve`, { token: ten.token('lead'), body: { reason: 'looks fine' } });
      const after = await api.request<ApprovalWithVotes>('GET', `/api/approvals/${a.id}`, { token: ten.token('lead') });
      expect(after.json.status).toBe('approved');
      expect(after.json.votes).toEqual([
        expect.objectContaining({ actor: 'token:lead', channel: 'api', vote: 'approve', reason: 'looks fine' }),
      ]);
      for (const id of ['00000000-0000-4000-8000-000000000000', 'nope']) {
        const res = await api.request('GET', `/api/approvals/${id}`, { token: ten.token('lead') });
        expect(res.status).toBe(404);
        expect(res.json.error).toBe('not_found');
      }
    });

    it('POST approve decides a pending request as token:NAME through the api channel', async () => {
      const ten = await makeApiTenant(t.db);
      const a = await submit(ten);
      const res = await api.request<DecisionJson>('POST', `/api/approvals/${a.id}/approve`, { token: ten.token('lead') });
      expect(res.status, res.text).toBe(200);
      expect(res.json.outcome).toBe('approved');
      expect(res.json.approval).toMatchObject({ id: a.id, status: 'approved', processed_by: 'token:lead', approvals_count: 1 });
      expect(res.json.approval.processed_at).toBeGreaterThan(0);
    });

    it('POST reject needs a reason of 1–500 characters, naming body.reason', async () => {
      const ten = await makeApiTenant(t.db);
      const a = await submit(ten);
      for (const body of [{}, { reason: '' }, { reason: '   ' }, { reason: 'x'.repeat(501) }, { reason: '😀'.repeat(501) }]) {
        const res = await api.request('POST', `/api/approvals/${a.id}/reject`, { token: ten.token('lead'), body });
        expect(res.status, JSON.stringify(body).slice(0, 40)).toBe(400);
        expect(res.json.error).toBe('bad_input');
        expect(res.json.message).toContain('body.reason');
      }
      const noBody = await api.request('POST', `/api/approvals/${a.id}/reject`, { token: ten.token('lead') });
      expect(noBody.status).toBe(400);
      expect(noBody.json.message).toContain('body');
      // Nothing was decided by the refused attempts.
      const still = await api.request<ApprovalRow>('GET', `/api/approvals/${a.id}`, { token: ten.token('lead') });
      expect(still.json.status).toBe('pending');
      const ok = await api.request<DecisionJson>('POST', `/api/approvals/${a.id}/reject`, {
        token: ten.token('lead'),
        body: { reason: 'x'.repeat(500) },
      });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.json.outcome).toBe('rejected');
      expect(ok.json.approval).toMatchObject({ status: 'rejected', processed_by: 'token:lead', reason: 'x'.repeat(500) });
    });

    it('counts a reason in code points: 500 emoji (1,000 UTF-16 units) are a valid reason', async () => {
      const ten = await makeApiTenant(t.db);
      const a = await submit(ten);
      const ok = await api.request<DecisionJson>('POST', `/api/approvals/${a.id}/reject`, {
        token: ten.token('lead'),
        body: { reason: '😀'.repeat(500) },
      });
      expect(ok.status, ok.text).toBe(200);
      expect(ok.json.approval.reason).toBe('😀'.repeat(500));
    });
  });

  describe('POST /api/actions', () => {
    it('approves a Class A action at once as levqor:class-A, without an audit entry', async () => {
      const ten = await makeApiTenant(t.db);
      const a = await submit(ten, { action_type: 'noop', summary: 'nothing at all' });
      expect(a).toMatchObject({
        status: 'approved',
        impact_class: 'A',
        processed_by: 'levqor:class-A',
        requested_by: 'token:ops',
        payload: {},
      });
      const { rows } = await t.db.query('SELECT 1 FROM audit_log WHERE subject = $1', [`approval:${a.id}`]);
      expect(rows).toHaveLength(0);
    });

    it('approves a Class B action at once and writes it to audit_log', async () => {
      const ten = await makeApiTenant(t.db);
      const a = await submit(ten, {
        action_type: 'set_workflow_active',
        summary: 'pause nightly',
        payload: { workflow: 'nightly', active: false },
      });
      expect(a).toMatchObject({ status: 'approved', impact_class: 'B', processed_by: 'levqor:class-B' });
      const { rows } = await t.db.query<{ actor: string; action: string; detail: Record<string, unknown> }>(
        'SELECT actor, action, detail FROM audit_log WHERE tenant_id = $1 AND subject = $2',
        [ten.tenant.id, `approval:${a.id}`],
      );
      expect(rows).toEqual([
        {
          actor: 'token:ops',
          action: 'action.set_workflow_active',
          detail: { channel: 'api', summary: 'pause nightly', impact_class: 'B' },
        },
      ]);
    });

    it('holds a Class C action (an unknown type such as deploy) for a human', async () => {
      const ten = await makeApiTenant(t.db);
      const a = await submit(ten, deployAction('deploy api 2.0', { service: 'api', version: '2.0' }));
      expect(a).toMatchObject({
        status: 'pending',
        impact_class: 'C',
        processed_by: null,
        summary: 'deploy api 2.0',
        payload: { service: 'api', version: '2.0' },
      });
      expect(a.payload_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(a.expires_at - a.requested_at).toBeCloseTo(86_400, 0);
      const explicit = await submit(ten, { action_type: 'log', summary: 'raised by the caller', impact_class: 'C' });
      expect(explicit).toMatchObject({ status: 'pending', impact_class: 'C' });
    });

    it('refuses an unknown field, a bad action_type and a missing summary, naming each', async () => {
      const ten = await makeApiTenant(t.db);
      const unknown = await api.request('POST', '/api/actions', { token: ten.token('ops'), body: { ...deployAction(), approved: true } });
      expect(unknown.status).toBe(400);
      expect(unknown.json.message).toContain('approved');
      expect(unknown.json.issues?.join('\n')).toMatch(/^body: .*approved/m);
      const badType = await api.request('POST', '/api/actions', {
        token: ten.token('ops'),
        body: { action_type: 'Deploy Now', summary: 's' },
      });
      expect(badType.status).toBe(400);
      expect(badType.json.message).toContain('body.action_type');
      const noSummary = await api.request('POST', '/api/actions', { token: ten.token('ops'), body: { action_type: 'deploy' } });
      expect(noSummary.status).toBe(400);
      expect(noSummary.json.message).toContain('body.summary');
      const badClass = await api.request('POST', '/api/actions', {
        token: ten.token('ops'),
        body: { ...deployAction(), impact_class: 'D' },
      });
      expect(badClass.status).toBe(400);
      expect(badClass.json.message).toContain('body.impact_class');
      const { rows } = await t.db.query('SELECT 1 FROM approval_queue WHERE tenant_id = $1', [ten.tenant.id]);
      expect(rows).toHaveLength(0);
    });
  });

  describe('POST /api/approvals/:id/rerequest', () => {
    it('asks again for a rejected standalone action; the new request links to the old one', async () => {
      const ten = await makeApiTenant(t.db);
      const old = await submit(ten, deployAction('deploy web 9', { v: 9 }));
      await api.request('POST', `/api/approvals/${old.id}/reject`, { token: ten.token('lead'), body: { reason: 'not now' } });
      const res = await api.request<ApprovalRow>('POST', `/api/approvals/${old.id}/rerequest`, { token: ten.token('ops') });
      expect(res.status, res.text).toBe(201);
      expect(res.json).toMatchObject({
        status: 'pending',
        previous_id: old.id,
        action_type: 'deploy',
        summary: 'deploy web 9',
        payload: { v: 9 },
        requested_by: 'token:ops',
      });
      expect(res.json.id).not.toBe(old.id);
      // The old row keeps its decision.
      const kept = await api.request<ApprovalRow>('GET', `/api/approvals/${old.id}`, { token: ten.token('lead') });
      expect(kept.json).toMatchObject({ status: 'rejected', reason: 'not now' });
      // The new request is pending: asking again for it is a conflict.
      const again = await api.request('POST', `/api/approvals/${res.json.id}/rerequest`, { token: ten.token('ops') });
      expect(again.status).toBe(409);
      expect(again.json.message).toContain('pending');
    });

    it('asks again for an expired action', async () => {
      const ten = await makeApiTenant(t.db);
      const old = await submit(ten);
      await t.db.query('UPDATE approval_queue SET expires_at = extract(epoch FROM now()) - 1 WHERE id = $1', [old.id]);
      expect((await expireApprovals(t.db)).map((a) => a.id)).toContain(old.id);
      const res = await api.request<ApprovalRow>('POST', `/api/approvals/${old.id}/rerequest`, { token: ten.token('ops') });
      expect(res.status, res.text).toBe(201);
      expect(res.json).toMatchObject({ status: 'pending', previous_id: old.id });
    });

    it("for a workflow step: a linked new run asks again at that step, with the ended run's context; approved, it sends once", async () => {
      const ten = await makeApiTenant(t.db);
      const name = 'rerequest-step';
      const put = await api.request('PUT', `/api/workflows/${name}`, {
        token: ten.token('ops'),
        body: {
          name,
          steps: [
            { type: 'transform', name: 'prep', set: { hello: 'again' } },
            { type: 'log', message: 'before the call' },
            { type: 'http', method: 'POST', url: `${target.url}/hook/${name}`, body: { hello: '{{vars.hello}}', run: '{{run.id}}' } },
          ],
        },
      });
      expect(put.status, put.text).toBe(201);
      const hits = () => target.requests.filter((r) => r.url === `/hook/${name}`);
      const started = await api.request<{ run_id: string }>('POST', `/api/workflows/${name}/run`, { token: ten.token('ops') });
      const oldRun = started.json.run_id;
      await runTick(testSchedulerDeps(t.db, ALLOW));
      const [old] = (await api.request<ApprovalPage>('GET', '/api/approvals', { token: ten.token('lead') })).json.approvals;
      if (!old) throw new Error('expected the run to ask');
      await api.request('POST', `/api/approvals/${old.id}/reject`, { token: ten.token('lead'), body: { reason: 'not today' } });

      const res = await api.request<LinkedRunJson>('POST', `/api/approvals/${old.id}/rerequest`, { token: ten.token('ops') });
      expect(res.status, res.text).toBe(202);
      const newRun = res.json.run_id;
      expect(res.json).toEqual({
        status: 'queued',
        run_id: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
        workflow: name,
        step_index: 2,
        previous_id: old.id,
        previous_run_id: oldRun,
      });
      // One linked run per request: asking again while it is queued is a conflict.
      const twice = await api.request('POST', `/api/approvals/${old.id}/rerequest`, { token: ten.token('ops') });
      expect(twice.status).toBe(409);
      expect(twice.json.message).toContain(newRun);
      const queued = await api.request<RunWithEvents>('GET', `/api/runs/${newRun}`, { token: ten.token('lead') });
      expect(queued.json).toMatchObject({ status: 'queued', trigger: 'api', started_by: 'token:ops', step_index: 2 });
      expect(queued.json.events[0]).toMatchObject({
        type: 'run_started',
        payload: { trigger: 'api', by: 'token:ops', rerequest_of: old.id, previous_run_id: oldRun, from_step_index: 2 },
      });

      expect((await runTick(testSchedulerDeps(t.db, ALLOW))).waiting_approval).toBe(1);
      expect(hits()).toHaveLength(0);
      const [asked] = (await api.request<ApprovalPage>('GET', '/api/approvals', { token: ten.token('lead') })).json.approvals;
      expect(asked).toMatchObject({
        run_id: newRun,
        step_index: 2,
        previous_id: old.id,
        requested_by: 'token:ops',
        status: 'pending',
        payload: expect.objectContaining({ body: { hello: 'again', run: newRun } }) as unknown,
      });
      const thrice = await api.request('POST', `/api/approvals/${old.id}/rerequest`, { token: ten.token('ops') });
      expect(thrice.status).toBe(409);
      expect(thrice.json.message).toContain(`already asked again as ${asked?.id ?? '?'}`);

      await api.request('POST', `/api/approvals/${asked?.id ?? ''}/approve`, { token: ten.token('lead') });
      expect((await runTick(testSchedulerDeps(t.db, ALLOW))).succeeded).toBe(1);
      expect(hits().map((h) => JSON.parse(h.body) as unknown)).toEqual([{ hello: 'again', run: newRun }]);
      const done = await api.request<RunWithEvents>('GET', `/api/runs/${newRun}`, { token: ten.token('lead') });
      expect(done.json.status).toBe('succeeded');
      // The steps before the rejected one are not repeated.
      expect(new Set(done.json.events.filter((e) => e.type === 'step_started').map((e) => e.step_index))).toEqual(new Set([2]));
      expect(done.json.events.find((e) => e.type === 'approval_requested')?.payload).toMatchObject({ previous_id: old.id });
      const audit = await api.request<{ entries: AuditEntry[] }>('GET', '/api/audit', { token: ten.token('lead') });
      expect(audit.json.entries.find((e) => e.action === 'approval.rerequested')).toMatchObject({
        actor: 'token:ops',
        subject: `approval:${old.id}`,
        detail: { channel: 'api', run_id: newRun, previous_run_id: oldRun, workflow: name, step_index: 2, status: 'rejected' },
      });
    });

    it('for a workflow step that changed since: a 409 that says so and what to do, and no run', async () => {
      const ten = await makeApiTenant(t.db);
      const define = (step: Record<string, unknown>) =>
        api.request('PUT', '/api/workflows/changes', { token: ten.token('ops'), body: { name: 'changes', steps: [step] } });
      await define({ type: 'http', url: `${target.url}/hook/changes` });
      const started = await api.request<{ run_id: string }>('POST', '/api/workflows/changes/run', { token: ten.token('ops') });
      await runTick(testSchedulerDeps(t.db, ALLOW));
      const [old] = (await api.request<ApprovalPage>('GET', '/api/approvals', { token: ten.token('lead') })).json.approvals;
      await api.request('POST', `/api/approvals/${old?.id ?? ''}/reject`, { token: ten.token('lead'), body: { reason: 'no' } });
      await define({ type: 'email', to: 'ops@example.com', subject: 's', text: 't' });
      const res = await api.request('POST', `/api/approvals/${old?.id ?? ''}/rerequest`, { token: ten.token('ops') });
      expect(res.status).toBe(409);
      expect(res.json.message).toContain(
        'workflow "changes" changed since, step 1 is now a email step; start a new run of the workflow instead',
      );
      const { rows } = await t.db.query('SELECT id FROM workflow_runs WHERE tenant_id = $1', [ten.tenant.id]);
      expect(rows).toEqual([{ id: started.json.run_id }]);
    });

    it('is a 409 for a pending or approved request', async () => {
      const ten = await makeApiTenant(t.db);
      const pending = await submit(ten);
      const res = await api.request('POST', `/api/approvals/${pending.id}/rerequest`, { token: ten.token('ops') });
      expect(res.status).toBe(409);
      expect(res.json).toMatchObject({ error: 'conflict' });
      expect(res.json.message).toContain('is pending');
      const approved = await submit(ten, { action_type: 'noop', summary: 'a' });
      expect((await api.request('POST', `/api/approvals/${approved.id}/rerequest`, { token: ten.token('ops') })).status).toBe(409);
      const { rows } = await t.db.query('SELECT 1 FROM approval_queue WHERE previous_id IS NOT NULL AND tenant_id = $1', [ten.tenant.id]);
      expect(rows).toHaveLength(0);
    });
  });

  describe('workflows and runs', () => {
    const definition = (message: string) => ({ name: 'report', description: 'a report', steps: [{ type: 'log', message }] });

    it('PUT creates (201) then updates (200), with the outcome; GET lists and shows', async () => {
      const ten = await makeApiTenant(t.db);
      const created = await api.request<{ outcome: string; workflow: WorkflowRow }>('PUT', '/api/workflows/report', {
        token: ten.token('ops'),
        body: definition('v1'),
      });
      // Soft, so that a wrong create status still lets the rest of the test run.
      expect.soft(created.status, 'PUT of a new workflow answers 201 Created').toBe(201);
      expect(created.json.outcome).toBe('created');
      expect(created.json.workflow).toMatchObject({
        name: 'report',
        tenant_id: ten.tenant.id,
        is_active: true,
        steps: [{ type: 'log', message: 'v1' }],
      });
      const updated = await api.request<{ outcome: string; workflow: WorkflowRow }>('PUT', '/api/workflows/report', {
        token: ten.token('ops'),
        body: definition('v2'),
      });
      expect(updated.status).toBe(200);
      expect(updated.json.outcome).toBe('updated');
      expect(updated.json.workflow.id).toBe(created.json.workflow.id);
      const same = await api.request<{ outcome: string }>('PUT', '/api/workflows/report', {
        token: ten.token('ops'),
        body: definition('v2'),
      });
      expect(same.status).toBe(200);
      expect(same.json.outcome).toBe('unchanged');
      const list = await api.request<{ workflows: WorkflowRow[] }>('GET', '/api/workflows', { token: ten.token('lead') });
      expect(list.status).toBe(200);
      expect(list.json.workflows.map((w) => w.name)).toEqual(['report']);
      const one = await api.request<WorkflowRow>('GET', '/api/workflows/report', { token: ten.token('lead') });
      expect(one.status).toBe(200);
      expect(one.json).toMatchObject({ name: 'report', description: 'a report', steps: [{ type: 'log', message: 'v2' }] });
      const missing = await api.request('GET', '/api/workflows/absent', { token: ten.token('lead') });
      expect(missing.status).toBe(404);
      expect(missing.json.message).toContain('absent');
    });

    it('PUT with a bad step type is a 400 naming body.steps[0].type, and writes nothing', async () => {
      const ten = await makeApiTenant(t.db);
      const res = await api.request('PUT', '/api/workflows/broken', {
        token: ten.token('ops'),
        body: { name: 'broken', steps: [{ type: 'shell', command: 'rm -rf /' }] },
      });
      expect(res.status).toBe(400);
      expect(res.json.error).toBe('bad_input');
      expect(res.json.issues?.some((i) => i.startsWith('body.steps[0].type:'))).toBe(true);
      expect(res.json.message).toContain('"shell"');
      expect((await api.request('GET', '/api/workflows/broken', { token: ten.token('lead') })).status).toBe(404);
      const { rows } = await t.db.query('SELECT 1 FROM workflows WHERE tenant_id = $1', [ten.tenant.id]);
      expect(rows).toHaveLength(0);
    });

    it('PUT with a reference no run can resolve, or a URL that is none, is a 400 naming each, and writes nothing', async () => {
      const ten = await makeApiTenant(t.db);
      const res = await api.request('PUT', '/api/workflows/holes', {
        token: ten.token('ops'),
        body: {
          name: 'holes',
          steps: [
            { type: 'transform', set: { day: 'monday' } },
            { type: 'http', url: 'htps//partner.example.com/hook', body: { day: '{{vars.dya}}', who: '{{sercets.TOKEN}}' } },
          ],
        },
      });
      expect(res.status).toBe(400);
      expect(res.json.issues).toEqual([
        'body.steps[1].url: "htps//partner.example.com/hook" is not a valid URL: an http step needs an absolute http:// or https:// URL',
        'body.steps[1].body.day: "{{vars.dya}}": no transform step before this one sets "dya" (set before it: "day")',
        'body.steps[1].body.who: "{{sercets.TOKEN}}": unknown root "sercets": a reference starts with workflow, run, steps, vars, secrets',
      ]);
      expect((await api.request('GET', '/api/workflows/holes', { token: ten.token('lead') })).status).toBe(404);
    });

    it('PUT with a name that differs from the URL is a 400 naming body.name', async () => {
      const ten = await makeApiTenant(t.db);
      const res = await api.request('PUT', '/api/workflows/report', {
        token: ten.token('ops'),
        body: { ...definition('x'), name: 'other' },
      });
      expect(res.status).toBe(400);
      expect(res.json.message).toContain('body.name');
      const { rows } = await t.db.query('SELECT 1 FROM workflows WHERE tenant_id = $1', [ten.tenant.id]);
      expect(rows).toHaveLength(0);
    });

    it('POST run queues a run (202); GET /api/runs and /api/runs/:id show it and its events; a tick executes it', async () => {
      const ten = await makeApiTenant(t.db);
      await api.request('PUT', '/api/workflows/report', { token: ten.token('ops'), body: definition('hello from the api') });
      const started = await api.request<{ run_id: string; status: string }>('POST', '/api/workflows/report/run', {
        token: ten.token('ops'),
      });
      expect(started.status, started.text).toBe(202);
      expect(started.json).toEqual({ run_id: expect.stringMatching(/^[0-9a-f-]{36}$/) as string, status: 'queued' });
      const runId = started.json.run_id;
      const queued = await api.request<RunWithEvents>('GET', `/api/runs/${runId}`, { token: ten.token('lead') });
      expect(queued.status).toBe(200);
      expect(queued.json).toMatchObject({ id: runId, status: 'queued', trigger: 'api' });
      expect(queued.json.events).toEqual([expect.objectContaining({ type: 'run_started', payload: { trigger: 'api', by: 'token:ops' } })]);

      const summary = await runTick(testSchedulerDeps(t.db));
      expect(summary.succeeded).toBeGreaterThanOrEqual(1);
      const done = await api.request<RunWithEvents>('GET', `/api/runs/${runId}`, { token: ten.token('lead') });
      expect(done.json.status).toBe('succeeded');
      expect(done.json.events.map((e) => e.type)).toEqual(['run_started', 'step_started', 'step_finished', 'run_finished']);

      const list = await api.request<{ runs: (RunRow & { workflow_name: string })[] }>('GET', '/api/runs', { token: ten.token('lead') });
      expect(list.status).toBe(200);
      expect(list.json.runs.map((r) => [r.id, r.workflow_name, r.status])).toEqual([[runId, 'report', 'succeeded']]);
      const filtered = await api.request<{ runs: RunRow[] }>('GET', '/api/runs?workflow=report&status=failed', {
        token: ten.token('lead'),
      });
      expect(filtered.json.runs).toEqual([]);
      expect((await api.request('GET', '/api/runs?workflow=absent', { token: ten.token('lead') })).status).toBe(404);
      expect((await api.request('GET', '/api/runs?status=done', { token: ten.token('lead') })).status).toBe(400);
      for (const id of ['00000000-0000-4000-8000-000000000000', 'nope']) {
        expect((await api.request('GET', `/api/runs/${id}`, { token: ten.token('lead') })).status).toBe(404);
      }
      expect((await api.request('POST', '/api/workflows/absent/run', { token: ten.token('ops') })).status).toBe(404);
    });

    it('an http step parks; approving it through the API queues the run and one tick executes it once', async () => {
      const ten = await makeApiTenant(t.db);
      const name = `notify-${t.kind}`;
      const put = await api.request<{ outcome: string }>('PUT', `/api/workflows/${name}`, {
        token: ten.token('ops'),
        body: {
          name,
          steps: [
            { type: 'log', message: 'before' },
            { type: 'http', name: 'call', method: 'POST', url: `${target.url}/hook/${name}`, body: { hello: 'api' } },
          ],
        },
      });
      // The create status itself is checked by the PUT test; here only that it was created.
      expect(put.status, put.text).toBeLessThan(300);
      expect(put.json).toMatchObject({ outcome: 'created' });
      const hits = () => target.requests.filter((r) => r.url === `/hook/${name}`);

      // Two runs: one to approve, one to reject.
      const runs: string[] = [];
      for (let i = 0; i < 2; i++) {
        const res = await api.request<{ run_id: string }>('POST', `/api/workflows/${name}/run`, { token: ten.token('ops') });
        expect(res.status).toBe(202);
        runs.push(res.json.run_id);
      }
      const parked = await runTick(testSchedulerDeps(t.db, ALLOW));
      expect(parked.waiting_approval).toBe(2);
      expect(hits()).toHaveLength(0);
      const pending = await api.request<ApprovalPage>('GET', '/api/approvals', { token: ten.token('lead') });
      const byRun = new Map(pending.json.approvals.map((a) => [a.run_id, a]));
      const [approveRun, rejectRun] = runs as [string, string];
      const toApprove = byRun.get(approveRun);
      const toReject = byRun.get(rejectRun);
      if (!toApprove || !toReject) throw new Error(`expected a request per run, got ${pending.text}`);
      // Requested on behalf of whoever started the run: that token may not approve it itself.
      expect(toApprove).toMatchObject({ action_type: 'http', impact_class: 'C', requested_by: 'token:ops', step_index: 1 });
      const selfApproval = await api.request('POST', `/api/approvals/${toApprove.id}/approve`, { token: ten.token('ops') });
      expect(selfApproval.status).toBe(403);
      expect((await api.request<RunRow>('GET', `/api/runs/${approveRun}`, { token: ten.token('lead') })).json.status).toBe(
        'waiting_approval',
      );

      const approved = await api.request<DecisionJson>('POST', `/api/approvals/${toApprove.id}/approve`, { token: ten.token('lead') });
      expect(approved.status, approved.text).toBe(200);
      expect((await api.request<RunRow>('GET', `/api/runs/${approveRun}`, { token: ten.token('lead') })).json.status).toBe('queued');
      const rejected = await api.request<DecisionJson>('POST', `/api/approvals/${toReject.id}/reject`, {
        token: ten.token('lead'),
        body: { reason: 'Not authorized' },
      });
      expect(rejected.status).toBe(200);
      const rejectedRun = await api.request<RunWithEvents>('GET', `/api/runs/${rejectRun}`, { token: ten.token('lead') });
      expect(rejectedRun.json).toMatchObject({ status: 'rejected', error: 'rejected by token:lead: Not authorized' });

      const executed = await runTick(testSchedulerDeps(t.db, ALLOW));
      expect(executed.succeeded).toBe(1);
      expect(hits()).toHaveLength(1);
      expect(JSON.parse(hits()[0]?.body ?? '')).toEqual({ hello: 'api' });
      const done = await api.request<RunWithEvents>('GET', `/api/runs/${approveRun}`, { token: ten.token('lead') });
      expect(done.json.status).toBe('succeeded');
      expect(done.json.events.map((e) => e.type)).toContain('run_resumable');
      await runTick(testSchedulerDeps(t.db, ALLOW));
      expect(hits()).toHaveLength(1);

      // A run's request is asked again by a linked new run (see the rerequest tests).
      const again = await api.request<LinkedRunJson>('POST', `/api/approvals/${toReject.id}/rerequest`, { token: ten.token('ops') });
      expect(again.status, again.text).toBe(202);
      expect(again.json).toMatchObject({ status: 'queued', previous_id: toReject.id, previous_run_id: rejectRun });
    });
  });

  it('GET /api/audit lists decisions with actor token:NAME and channel api, newest first', async () => {
    const ten = await makeApiTenant(t.db);
    const a = await submit(ten);
    const b = await submit(ten);
    await api.request('POST', `/api/approvals/${a.id}/approve`, { token: ten.token('lead') });
    await api.request('POST', `/api/approvals/${b.id}/reject`, { token: ten.token('lead'), body: { reason: 'Not authorized' } });
    const res = await api.request<{ entries: AuditEntry[]; next_before: string | null }>('GET', '/api/audit', { token: ten.token('lead') });
    expect(res.status).toBe(200);
    expect(res.json.entries.map((e) => [e.actor, e.action, e.subject])).toEqual([
      ['token:lead', 'approval.rejected', `approval:${b.id}`],
      ['token:lead', 'approval.approved', `approval:${a.id}`],
    ]);
    expect(res.json.entries[0]?.detail).toMatchObject({ channel: 'api', reason: 'Not authorized', action_type: 'deploy' });
    expect(res.json.entries[1]?.detail).toMatchObject({ channel: 'api', reason: null });
    expect(res.json.next_before).toBeNull();
    const page = await api.request<{ entries: AuditEntry[]; next_before: string | null }>('GET', '/api/audit?limit=1', {
      token: ten.token('lead'),
    });
    expect(page.json.entries).toHaveLength(1);
    expect(page.json.next_before).toBe(page.json.entries[0]?.id);
    const rest = await api.request<{ entries: AuditEntry[] }>('GET', `/api/audit?limit=1&before=${page.json.next_before ?? ''}`, {
      token: ten.token('lead'),
    });
    expect(rest.json.entries.map((e) => e.subject)).toEqual([`approval:${a.id}`]);
  });

  it('GET /healthz and /readyz answer without a token', async () => {
    const health = await api.request<{ ok: boolean; uptime_seconds: number }>('GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({ ok: true });
    expect(typeof health.json.uptime_seconds).toBe('number');
    const ready = await api.request<{ ok: boolean }>('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json).toEqual({ ok: true });
  });

  it('GET /api/openapi.json is an OpenAPI 3.1 document with every API route', async () => {
    const res = await api.request<OpenApiDoc>('GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.json;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: 'Levqor API', version: expect.any(String) as string, license: { name: 'MIT' } });
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const routes: [string, string][] = [
      ['get', '/api/approvals'],
      ['get', '/api/approvals/{id}'],
      ['post', '/api/approvals/{id}/approve'],
      ['post', '/api/approvals/{id}/reject'],
      ['post', '/api/approvals/{id}/rerequest'],
      ['post', '/api/actions'],
      ['post', '/api/approvals/decide'],
      ['post', '/api/gate/critical-files'],
      ['get', '/api/workflows'],
      ['get', '/api/workflows/{name}'],
      ['put', '/api/workflows/{name}'],
      ['post', '/api/workflows/{name}/run'],
      ['get', '/api/runs'],
      ['get', '/api/runs/{id}'],
      ['get', '/api/audit'],
      ['get', '/api/secrets'],
      ['put', '/api/secrets/{name}'],
      ['delete', '/api/secrets/{name}'],
      ['get', '/api/alerts'],
    ];
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => [m, path] as [string, string]));
    // Other faces may add routes; every one of these must be there.
    expect(documented).toEqual(expect.arrayContaining(routes));
    for (const [method, path] of routes) {
      const op = doc.paths[path]?.[method];
      expect(op?.summary, `${method} ${path}`).toBeTruthy();
      expect(Object.keys(op?.responses ?? {}), `${method} ${path}`).toContain('401');
      expect(op?.security?.[0]?.bearer, `${method} ${path} needs a token`).toBeDefined();
      // Every {param} in the path is a required path parameter.
      for (const [, param] of path.matchAll(/\{(\w+)\}/g)) {
        expect(op?.parameters, `${method} ${path}`).toContainEqual(expect.objectContaining({ name: param, in: 'path', required: true }));
      }
    }
    const reject = doc.paths['/api/approvals/{id}/reject']?.post;
    expect(reject?.requestBody?.required).toBe(true);
    const rejectSchema = reject?.requestBody?.content['application/json'].schema;
    expect(rejectSchema?.type).toBe('object');
    expect(rejectSchema?.required).toEqual(['reason']);
    expect(rejectSchema?.properties?.reason).toMatchObject({ type: 'string', minLength: 1, maxLength: 500 });
    const actions = doc.paths['/api/actions']?.post?.requestBody?.content['application/json'].schema;
    expect(actions?.required).toEqual(expect.arrayContaining(['action_type', 'summary']));
    expect(doc.paths['/api/approvals']?.get?.parameters?.map((p) => p.name).sort()).toEqual(['cursor', 'limit', 'status']);
  });

  it('GET /api/openapi.json documents the approve body as optional: the guide approves with no body', async () => {
    const ten = await makeApiTenant(t.db);
    const a = await submit(ten);
    // The server accepts an approval without a body …
    expect((await api.request('POST', `/api/approvals/${a.id}/approve`, { token: ten.token('lead') })).status).toBe(200);
    // … so the document must not tell clients that one is required.
    const doc = (await api.request<OpenApiDoc>('GET', '/api/openapi.json')).json;
    expect(doc.paths['/api/approvals/{id}/approve']?.post?.requestBody?.required).not.toBe(true);
  });
});
