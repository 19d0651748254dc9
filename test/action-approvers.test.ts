import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { requestDeploy } from './helpers/api.js';
import { dispatchApproved } from '../src/approvals/dispatch.js';
import { decideApproval } from '../src/approvals/service.js';
import type { CriticalChanges, GatePullRequest } from '../src/checks/gate.js';
import { CRITICAL_FILES_ACTION, levqorApprover } from '../src/checks/levqor-approval.js';
import { BACKENDS, type TestDb } from './helpers/db.js';
import { startFakeGitHub, type FakeGitHub } from './helpers/github.js';
import { insertTenant } from './helpers/proc.js';

// The gate's Levqor approver and the dispatcher, in process, on both backends (their SQL must run on each).

const quiet = { info: () => undefined, warn: () => undefined };
const changes: CriticalChanges = {
  added: [],
  removed: [],
  changed: ['migrations/0001_init.sql'],
  modes: [],
  renamed: [],
  manifestChanged: true,
};
const pr = (headSha: string): GatePullRequest => ({ repository: 'acme/shop', number: 5, baseSha: 'b'.repeat(40), headSha });

describe.each(BACKENDS)('on $name', ({ open }) => {
  let t: TestDb;
  let tenantId: string;
  let gh: FakeGitHub;

  beforeAll(async () => {
    t = await open();
    tenantId = await insertTenant(t.db, 'acme');
    gh = await startFakeGitHub('ghp_dispatch');
  });
  afterEach(async () => {
    await t.db.query('DELETE FROM approval_queue WHERE tenant_id = $1', [tenantId]);
  });
  afterAll(async () => {
    await gh.close();
    await t.close();
  });

  it('two gate runs at once ask once; approval is seen; a new head sha asks again', async () => {
    const approve = levqorApprover(t.db, tenantId, 'github:alice');
    const [a, b] = await Promise.all([approve(pr('1'.repeat(40)), changes), approve(pr('1'.repeat(40)), changes)]);
    expect([a.state, b.state]).toEqual(['pending', 'pending']);
    const { rows } = await t.db.query<{ id: string; requested_by: string }>(
      'SELECT id, requested_by FROM approval_queue WHERE tenant_id = $1 AND action_type = $2',
      [tenantId, CRITICAL_FILES_ACTION],
    );
    expect(rows).toHaveLength(1);
    await decideApproval(t.db, { id: rows[0]!.id, tenantId, decision: 'approve', actor: 'cli:carol', channel: 'cli' });
    expect(await approve(pr('1'.repeat(40)), changes)).toMatchObject({ state: 'approved', by: 'cli:carol' });
    expect((await approve(pr('2'.repeat(40)), changes)).state).toBe('pending');
  });

  it('an expired request is asked again, linked in the message', async () => {
    const approve = levqorApprover(t.db, tenantId, 'github:alice');
    await approve(pr('3'.repeat(40)), changes);
    await t.db.query("UPDATE approval_queue SET status = 'expired', processed_at = extract(epoch FROM now()) WHERE tenant_id = $1", [
      tenantId,
    ]);
    const again = await approve(pr('3'.repeat(40)), changes);
    expect(again.state).toBe('pending');
    expect(again.detail).toMatch(/\(the previous request [0-9a-f-]{36} expired\)/);
  });

  it('dispatches each approved request with payload.dispatch once, and ignores the rest', async () => {
    const wanted = await requestDeploy(t.db, tenantId, {
      summary: 'go',
      payload: { v: 1, dispatch: { repository: 'acme/deployer', event_type: 'ship' } },
    });
    const plain = await requestDeploy(t.db, tenantId, { summary: 'no dispatch', payload: { v: 2 } });
    const pending = await requestDeploy(t.db, tenantId, {
      summary: 'undecided',
      payload: { dispatch: { repository: 'acme/deployer', event_type: 'ship' } },
    });
    for (const a of [wanted, plain])
      await decideApproval(t.db, { id: a.id, tenantId, decision: 'approve', actor: 'cli:carol', channel: 'cli' });
    const cfg = { token: 'ghp_dispatch', apiUrl: gh.url, allowedRepos: [] };
    expect(await dispatchApproved(t.db, cfg, quiet)).toEqual({ sent: 1, failed: 0 });
    expect(await dispatchApproved(t.db, cfg, quiet)).toEqual({ sent: 0, failed: 0 });
    const mine = gh.dispatches.filter((d) => (d.client_payload as { approval_id: string }).approval_id === wanted.id);
    expect(mine).toEqual([
      {
        repo: 'acme/deployer',
        event_type: 'ship',
        client_payload: {
          approval_id: wanted.id,
          decision: 'approved',
          action_type: 'deploy',
          summary: 'go',
          approver: 'cli:carol',
          reason: null,
          payload: { v: 1 },
        },
      },
    ]);
    expect(gh.dispatches.some((d) => [plain.id, pending.id].includes((d.client_payload as { approval_id: string }).approval_id))).toBe(
      false,
    );
    const row = await t.db.query<{ execution_started_at: number | null; execution_finished_at: number | null }>(
      'SELECT execution_started_at, execution_finished_at FROM approval_queue WHERE id = $1',
      [wanted.id],
    );
    expect(row.rows[0]?.execution_finished_at).toBeGreaterThan(0);
  });

  it('a GitHub error is audited and not retried (a deploy starts at most once)', async () => {
    const a = await requestDeploy(t.db, tenantId, {
      summary: 'nope',
      payload: { dispatch: { repository: 'acme/gone', event_type: 'ship' } },
    });
    await decideApproval(t.db, { id: a.id, tenantId, decision: 'approve', actor: 'cli:carol', channel: 'cli' });
    gh.failWith(/\/repos\/acme\/gone\/dispatches$/, 404);
    const cfg = { token: 'ghp_dispatch', apiUrl: gh.url, allowedRepos: [] };
    expect(await dispatchApproved(t.db, cfg, quiet)).toEqual({ sent: 0, failed: 1 });
    expect(await dispatchApproved(t.db, cfg, quiet)).toEqual({ sent: 0, failed: 0 });
    const audit = await t.db.query<{ detail: { error: string } }>(
      "SELECT detail FROM audit_log WHERE subject = $1 AND action = 'approval.dispatch_failed'",
      [`approval:${a.id}`],
    );
    expect(audit.rows[0]?.detail.error).toMatch(/^GitHub POST \/repos\/acme\/gone\/dispatches: 404 /);
  });
});
