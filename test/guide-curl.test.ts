import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalRow } from '../src/approvals/types.js';
import type { RunRow } from '../src/runs/types.js';
import { apiRequest, deployAction, type ApiError, type DecisionJson, type RequestOptions } from './helpers/api.js';
import { killRunningClis, startCli } from './helpers/cli.js';
import { pollUntil } from './helpers/proc.js';

interface ApprovalPage {
  approvals: ApprovalRow[];
  next_cursor: string | null;
}
const FINAL = ['succeeded', 'failed', 'rejected', 'expired', 'cancelled'];

describe("the operations guide's curl commands against `npm start`", () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'levqor-guide-'));
  });
  afterEach(killRunningClis);
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('lists, approves and rejects with the demo token, then stops cleanly on SIGTERM', async () => {
    const server = startCli(['start', '--port', '0'], {
      env: {
        DATABASE_URL: undefined,
        LEVQOR_DATA_DIR: dataDir,
        LEVQOR_LOG_PRETTY: 'false',
        // The demo's partner URL is not ours: bound the one call the approval lets through.
        LEVQOR_HTTP_CONNECT_TIMEOUT_MS: '2000',
        LEVQOR_HTTP_TIMEOUT_MS: '5000',
      },
    });
    const tokenLine = await server.waitForLine(/Demo API token \(shown once\): lvq_/);
    const token = /Demo API token \(shown once\): (lvq_[A-Za-z0-9_-]+)/.exec(tokenLine)?.[1] ?? '';
    expect(token).toMatch(/^lvq_[A-Za-z0-9_-]{43}$/);
    const listening = await server.waitForLine(/levqor API listening on http:\/\/127\.0\.0\.1:\d+/);
    const base = /levqor API listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(listening)?.[1] ?? '';
    expect(base).not.toBe('');
    const call = <T = ApiError>(method: string, path: string, opts: RequestOptions = {}) =>
      apiRequest<T>(base, method, path, { token, ...opts });
    const pendingWhere = (pred: (a: ApprovalRow) => boolean, what: string) =>
      pollUntil(
        async () => {
          // curl -H "Authorization: Bearer $TOKEN" http://localhost:8000/api/approvals
          const res = await call<ApprovalPage>('GET', '/api/approvals');
          expect(res.status, res.text).toBe(200);
          return res.json.approvals.find(pred);
        },
        { what, attempts: 300, intervalMs: 100 },
      );
    const finalRun = (runId: string) =>
      pollUntil(
        async () => {
          const res = await call<RunRow>('GET', `/api/runs/${runId}`);
          return FINAL.includes(res.json.status) ? res.json : undefined;
        },
        { what: `run ${runId} to end`, attempts: 300, intervalMs: 100 },
      );

    // 1. The demo's Class C call waits for a human.
    const partner = await pendingWhere((a) => a.summary.startsWith('notify-partner:'), "notify-partner's approval request");
    expect(partner).toMatchObject({ status: 'pending', impact_class: 'C', action_type: 'http', requested_by: 'levqor:demo' });
    expect(partner.summary).toBe('notify-partner: POST https://partner.example.com/hooks/levqor');

    // 2. curl -X POST -H "Authorization: Bearer $TOKEN" …/api/approvals/<action_id>/approve
    const approved = await call<DecisionJson>('POST', `/api/approvals/${partner.id}/approve`);
    expect(approved.status, approved.text).toBe(200);
    expect(approved.json).toMatchObject({
      outcome: 'approved',
      approval: { id: partner.id, status: 'approved', processed_by: 'token:demo' },
    });
    // The scheduler in the same process picks the approved run up at once (NOTIFY).
    const partnerRun = await finalRun(partner.run_id ?? '');
    expect(['succeeded', 'failed']).toContain(partnerRun.status);

    // A second Class C request, submitted through the API with the same demo token …
    const submitted = await call<ApprovalRow>('POST', '/api/actions', { body: deployAction('deploy the demo') });
    expect(submitted.status, submitted.text).toBe(201);
    expect(submitted.json).toMatchObject({ status: 'pending', impact_class: 'C', requested_by: 'token:demo' });
    // … cannot be decided by its requester (self-approval is off by default).
    const self = await call('POST', `/api/approvals/${submitted.json.id}/reject`, {
      headers: { 'content-type': 'application/json' },
      rawBody: '{"reason": "Not authorized"}',
    });
    expect(self.status).toBe(403);
    expect(self.json.message).toContain('self-approval');

    // So the request to reject is the demo's other Class C workflow, the newsletter.
    const second = await pendingWhere((a) => a.summary.startsWith('customer-newsletter:'), "customer-newsletter's approval request");
    expect(second).toMatchObject({ impact_class: 'C', action_type: 'email', requested_by: 'levqor:demo' });

    // 3. curl -X POST -H "Authorization: Bearer $TOKEN" …/api/approvals/<action_id>/reject \
    //      -H "Content-Type: application/json" -d '{"reason": "Not authorized"}'
    const rejected = await call<DecisionJson>('POST', `/api/approvals/${second.id}/reject`, {
      headers: { 'content-type': 'application/json' },
      rawBody: '{"reason": "Not authorized"}',
    });
    expect(rejected.status, rejected.text).toBe(200);
    expect(rejected.json).toMatchObject({
      outcome: 'rejected',
      approval: { id: second.id, status: 'rejected', reason: 'Not authorized', processed_by: 'token:demo' },
    });
    expect(await finalRun(second.run_id ?? '')).toMatchObject({ status: 'rejected', error: 'rejected by token:demo: Not authorized' });

    // The resulting states, as the guide's list shows them.
    const pending = await call<ApprovalPage>('GET', '/api/approvals');
    expect(pending.json.approvals.map((a) => a.id)).toEqual([submitted.json.id]);
    // The demo's eight weeks of history hold decided requests too: walk every page (oldest first).
    const all = async (status: string) => {
      const rows: ApprovalRow[] = [];
      let cursor: string | null = null;
      do {
        const page: { json: ApprovalPage } = await call<ApprovalPage>(
          'GET',
          `/api/approvals?status=${status}&limit=200${cursor ? `&cursor=${cursor}` : ''}`,
        );
        rows.push(...page.json.approvals);
        cursor = page.json.next_cursor;
      } while (cursor);
      return rows;
    };
    const approvedList = await all('approved');
    expect(approvedList.at(-1)?.id).toBe(partner.id);
    const rejectedList = await all('rejected');
    expect(rejectedList.at(-1)).toMatchObject({ id: second.id, reason: 'Not authorized' });
    expect(rejectedList.filter((a) => a.id === second.id)).toHaveLength(1);

    server.child.kill('SIGTERM');
    const exit = await server.exited;
    expect(exit.code, `${exit.stdout}\n${exit.stderr}`).toBe(0);
    expect(exit.stdout).toContain('levqor serve stopped');
  });
});
