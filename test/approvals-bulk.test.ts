import { describe, expect, it } from 'vitest';
import { BULK_MAX, decideApproval } from '../src/approvals/service.js';
import { makeApiTenant, requestDeploy, useTestApi } from './helpers/api.js';
import { runCli } from './helpers/cli.js';
import { BACKENDS, openPgTestDb } from './helpers/db.js';

// Bulk decisions: one decision and reason for several requests, each its own vote, audit entry
// and policy check, each with its own result.

interface BulkBody {
  decision: string;
  decided: number;
  failed: number;
  results: { id: string; status: number; outcome?: string; error?: string; message?: string; approval?: { status: string } }[];
}

describe.each(BACKENDS)('POST /api/approvals/decide on $name', ({ open }) => {
  const { t, api } = useTestApi(open);

  it('decides the valid ids and answers 409, 403 and 404 for the others, each on its own', async () => {
    const mine = await makeApiTenant(t.db, { ops: 'all', ci: 'all' }, 'bulk');
    const foreign = await makeApiTenant(t.db, { ops: 'all' }, 'bulk-other');
    const a = await requestDeploy(t.db, mine.tenant.id, { summary: 'deploy a' });
    const b = await requestDeploy(t.db, mine.tenant.id, { summary: 'deploy b' });
    const done = await requestDeploy(t.db, mine.tenant.id, { summary: 'already decided' });
    await decideApproval(t.db, {
      id: done.id,
      tenantId: mine.tenant.id,
      decision: 'reject',
      actor: 'cli:carol',
      channel: 'cli',
      reason: 'no',
    });
    const own = await requestDeploy(t.db, mine.tenant.id, { summary: 'my own', actor: 'token:ops' });
    const theirs = await requestDeploy(t.db, foreign.tenant.id, { summary: 'foreign' });
    const res = await api.request<BulkBody>('POST', '/api/approvals/decide', {
      token: mine.token('ops'),
      body: { ids: [a.id, b.id, done.id, own.id, theirs.id, 'not-an-id', a.id], decision: 'approve', reason: 'release train 42' },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json.decided).toBe(2);
    expect(res.json.failed).toBe(4);
    expect(res.json.results.map((r) => [r.id, r.status, r.outcome ?? r.error])).toEqual([
      [a.id, 200, 'approved'],
      [b.id, 200, 'approved'],
      [done.id, 409, 'conflict'],
      [own.id, 403, 'forbidden'],
      [theirs.id, 404, 'not_found'],
      ['not-an-id', 404, 'not_found'],
    ]);
    expect(res.json.results[2]?.message).toBe(`approval ${done.id} is already rejected (by cli:carol)`);
    const { rows } = await t.db.query<{ subject: string; detail: { reason: string; channel: string } }>(
      "SELECT subject, detail FROM audit_log WHERE tenant_id = $1 AND actor = 'token:ops' AND action = 'approval.approved' ORDER BY subject",
      [mine.tenant.id],
    );
    expect(rows.map((r) => r.subject).sort()).toEqual([`approval:${a.id}`, `approval:${b.id}`].sort());
    expect(rows.every((r) => r.detail.reason === 'release train 42' && r.detail.channel === 'api')).toBe(true);
    const { rows: theirRow } = await t.db.query<{ status: string }>('SELECT status FROM approval_queue WHERE id = $1', [theirs.id]);
    expect(theirRow[0]?.status).toBe('pending');
  });

  it('refuses the whole batch before deciding anything when the reason or the ids are wrong', async () => {
    const mine = await makeApiTenant(t.db, { ops: 'all' }, 'bulk-bad');
    const a = await requestDeploy(t.db, mine.tenant.id, { summary: 'deploy c' });
    const noReason = await api.request('POST', '/api/approvals/decide', {
      token: mine.token('ops'),
      body: { ids: [a.id], decision: 'reject' },
    });
    expect(noReason.status).toBe(400);
    expect(noReason.text).toContain('a rejection needs a reason');
    const tooMany = await api.request('POST', '/api/approvals/decide', {
      token: mine.token('ops'),
      body: { ids: Array.from({ length: BULK_MAX + 1 }, () => a.id), decision: 'approve' },
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.text).toContain('ids');
    const { rows } = await t.db.query<{ status: string }>('SELECT status FROM approval_queue WHERE id = $1', [a.id]);
    expect(rows[0]?.status).toBe('pending');
  });

  it('needs the approvals:decide scope', async () => {
    const mine = await makeApiTenant(t.db, { reader: ['approvals:read'] }, 'bulk-scope');
    const a = await requestDeploy(t.db, mine.tenant.id);
    const res = await api.request('POST', '/api/approvals/decide', {
      token: mine.token('reader'),
      body: { ids: [a.id], decision: 'approve' },
    });
    expect(res.status).toBe(403);
  });
});

describe('levqor approvals reject ID ID… (CLI)', () => {
  const { t } = useTestApi(openPgTestDb);

  it('rejects each with one reason, prints a line per id and exits 1 when one was not decided', async () => {
    const mine = await makeApiTenant(t.db, { ops: 'all' }, 'bulk-cli');
    const a = await requestDeploy(t.db, mine.tenant.id, { summary: 'cli a' });
    const b = await requestDeploy(t.db, mine.tenant.id, { summary: 'cli b' });
    const gone = '00000000-0000-4000-8000-000000000000';
    const r = await runCli(['approvals', 'reject', a.id, b.id, gone, '--reason', 'freeze', '--as', 'carol', '--tenant', mine.tenant.name], {
      env: { DATABASE_URL: t.url as string },
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain(`approval ${a.id}: rejected by cli:carol`);
    expect(r.stdout).toContain(`approval ${b.id}: rejected by cli:carol`);
    expect(r.stdout).toContain(`approval ${gone}: not decided (not_found) — approval ${gone} not found`);
    const { rows } = await t.db.query<{ n: string }>(
      "SELECT count(*) AS n FROM approval_votes WHERE tenant_id = $1 AND actor = 'cli:carol' AND vote = 'reject' AND reason = 'freeze'",
      [mine.tenant.id],
    );
    expect(Number(rows[0]?.n)).toBe(2);
  });
});
