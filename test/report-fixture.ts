import { Lexer, type Token, type Tokens } from 'marked';
import type { Db } from '../src/db/types.js';
import { createTenant, type TenantRow } from '../src/tenants/queries.js';

/** 2025-W43 in Europe/London: Monday 20 Oct 00:00 BST (19 Oct 23:00 UTC) to Monday 27 Oct 00:00 GMT; clocks go back on the 26th. */
export const W43_FROM = Date.UTC(2025, 9, 19, 23) / 1000;
export const W43_TO = Date.UTC(2025, 9, 27, 0) / 1000;
/** 2025-W42 in Europe/London. */
export const W42_FROM = Date.UTC(2025, 9, 12, 23) / 1000;
/** A fixed "now": Tuesday 28 Oct 2025 09:00 UTC, so the default week is 2025-W43. */
export const FIXED_NOW = Date.UTC(2025, 9, 28, 9) / 1000;

async function workflow(db: Db, tenantId: string, name: string, steps: unknown[], scheduled: boolean): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO workflows (tenant_id, name, steps, schedule_config, created_at, updated_at)
     VALUES ($1, $2, $3::jsonb, $4::jsonb, $5, $5) RETURNING id`,
    [
      tenantId,
      name,
      JSON.stringify(steps),
      JSON.stringify(scheduled ? { enabled: true, interval_minutes: 60 } : { enabled: false }),
      W42_FROM - 86_400,
    ],
  );
  return rows[0]?.id ?? '';
}

/**
 * `n` runs of a workflow spread over a week from `from`: run i starts at from + 3600 + i·step,
 * lasts `dur(i)` seconds, and ends with `status(i)` (and `error(i)` when it failed).
 */
async function runs(
  db: Db,
  tenantId: string,
  workflowId: string,
  from: number,
  n: number,
  spec: { trigger?: string; dur: string; status: string; error?: string; lag?: string },
): Promise<void> {
  const step = Math.floor((7 * 86_400 - 7200) / n);
  await db.query(
    `INSERT INTO workflow_runs (tenant_id, workflow_id, status, trigger, scheduled_for, started_at, finished_at, error)
     SELECT $1, $2, s.status, $5, CASE WHEN $5 = 'schedule' THEN s.started - (${spec.lag ?? '0'}) END, s.started,
            CASE WHEN s.status IN ('queued', 'running', 'waiting_approval') THEN NULL ELSE s.started + (${spec.dur}) END,
            CASE WHEN s.status = 'failed' THEN ${spec.error ?? 'NULL'} END
     FROM (SELECT i, $3::float8 + 3600 + i * $4::float8 AS started, (${spec.status}) AS status FROM generate_series(0, $6::int - 1) AS i) s`,
    [tenantId, workflowId, from, step, spec.trigger ?? 'manual', n],
  );
}

async function approval(
  db: Db,
  tenantId: string,
  a: { cls: string; status: string; requested: number; decidedAfter?: number; reason?: string; summary: string },
): Promise<void> {
  const processed = a.status === 'pending' ? null : a.requested + (a.decidedAfter ?? 86_400);
  await db.query(
    `INSERT INTO approval_queue (tenant_id, action_type, impact_class, summary, payload, payload_hash, status, requested_by,
       requested_at, expires_at, processed_at, processed_by, reason)
     VALUES ($1, 'email', $2, $3, '{}', 'x', $4, 'token:ops', $5::float8, $5::float8 + 86400, $6::float8, $7, $8)`,
    [
      tenantId,
      a.cls,
      a.summary,
      a.status,
      a.requested,
      processed,
      a.status === 'pending' ? null : a.status === 'expired' ? 'levqor:expiry' : 'token:lead',
      a.reason ?? null,
    ],
  );
}

/** The fixed history the weekly report snapshots are taken on: tenant "acme" in Europe/London. */
export async function seedReportFixture(db: Db, name = 'acme'): Promise<TenantRow> {
  const tenant = await createTenant(db, name, 'Europe/London');
  const t = tenant.id;
  const nightly = await workflow(db, t, 'nightly-sync', [{ type: 'http', method: 'GET', url: 'https://example.com' }], true);
  const partner = await workflow(db, t, 'partner-webhook', [{ type: 'http', method: 'POST', url: 'https://partner.example.com' }], true);
  const letter = await workflow(db, t, 'newsletter', [{ type: 'email', to: ['a@example.com'], subject: 's', text: 't' }], false);
  const cleanup = await workflow(
    db,
    t,
    'cleanup',
    [
      { type: 'log', message: 'x' },
      { type: 'set_workflow_active', active: false },
    ],
    true,
  );
  // This week: the partner hook fails 8 of 20, nightly-sync 4 of 40 and starts late, cleanup is slow.
  await runs(db, t, nightly, W43_FROM, 40, {
    trigger: 'schedule',
    dur: '2 + (i % 5)',
    status: "CASE WHEN i % 10 = 3 THEN 'failed' ELSE 'succeeded' END",
    error: "CASE WHEN i > 30 THEN 'timeout after 30 s' ELSE 'connect ECONNREFUSED 10.0.0.5:5432' END",
    lag: '5 + (i * 7) % 300',
  });
  await runs(db, t, partner, W43_FROM, 20, {
    trigger: 'schedule',
    dur: '0.2 + i * 0.01',
    status: "CASE WHEN i % 5 IN (1, 3) THEN 'failed' ELSE 'succeeded' END",
    error: "'HTTP 502 from partner.example.com | gateway *down*'",
    lag: '3',
  });
  await runs(db, t, letter, W43_FROM, 10, {
    dur: '1',
    status: "CASE WHEN i IN (2, 5) THEN 'rejected' WHEN i = 7 THEN 'expired' WHEN i = 9 THEN 'waiting_approval' ELSE 'succeeded' END",
  });
  await runs(db, t, cleanup, W43_FROM, 30, { trigger: 'schedule', dur: '100 + i * 10', status: "'succeeded'", lag: '1' });
  // Last week: fewer runs, faster, one failure.
  await runs(db, t, nightly, W42_FROM, 30, {
    trigger: 'schedule',
    dur: '2',
    status: "CASE WHEN i = 4 THEN 'failed' ELSE 'succeeded' END",
    error: "'disk full'",
    lag: '2',
  });
  await runs(db, t, cleanup, W42_FROM, 20, { trigger: 'schedule', dur: '40 + i', status: "'succeeded'", lag: '1' });
  // Approvals requested this week: 6 approved (10 min … 9 h), 4 rejected, 2 expired, 1 pending; plus A and B actions.
  const base = W43_FROM + 86_400;
  for (const [i, after] of [600, 1800, 3600, 5 * 3600, 7 * 3600, 9 * 3600].entries()) {
    await approval(db, t, { cls: 'C', status: 'approved', requested: base + i * 3600, decidedAfter: after, summary: `send ${i}` });
  }
  for (const [i, reason] of ['Not authorized', 'Not authorized', 'wrong | list', 'Not authorized'].entries()) {
    await approval(db, t, {
      cls: 'C',
      status: 'rejected',
      requested: base + 86_400 + i * 3600,
      decidedAfter: 1200 * (i + 1),
      reason,
      summary: `post ${i}`,
    });
  }
  for (const i of [0, 1])
    await approval(db, t, { cls: 'C', status: 'expired', requested: base + 2 * 86_400 + i * 60, summary: `late ${i}` });
  await approval(db, t, { cls: 'C', status: 'pending', requested: W43_TO - 3600, summary: 'still waiting' });
  await approval(db, t, { cls: 'A', status: 'approved', requested: base + 10, decidedAfter: 0, summary: 'report' });
  await approval(db, t, { cls: 'B', status: 'approved', requested: base + 20, decidedAfter: 0, summary: 'pause' });
  // Last week: 3 requests.
  for (const i of [0, 1, 2])
    await approval(db, t, { cls: 'C', status: 'approved', requested: W42_FROM + 86_400 + i * 60, decidedAfter: 300, summary: `old ${i}` });
  for (const i of [0, 1, 2]) {
    await db.query(
      `INSERT INTO audit_log (tenant_id, actor, action, subject, created_at) VALUES ($1, 'run:x', 'workflow.pause', 'workflow:x', $2)`,
      [t, base + i * 3600],
    );
  }
  await db.query(
    `INSERT INTO scheduler_instances (id, hostname, pid, started_at, last_tick_at, stopped_at) VALUES
       ('scheduler:ops-1:101:aaaa', 'ops-1', 101, $1, $2, NULL),
       ('scheduler:ops-2:202:bbbb', 'ops-2', 202, $1, $3, $3)`,
    [W42_FROM, W43_TO - 30, W43_FROM + 7200],
  );
  return tenant;
}

/** Parses markdown as GFM and returns the top-level tokens, failing on raw HTML. */
export function lexGfm(markdown: string): Token[] {
  return new Lexer({ gfm: true }).lex(markdown);
}

/** The tables of a GFM document, as header and rows of cell text. */
export function gfmTables(markdown: string): { header: string[]; rows: string[][] }[] {
  return lexGfm(markdown)
    .filter((t): t is Tokens.Table => t.type === 'table')
    .map((t) => ({ header: t.header.map((h) => h.text), rows: t.rows.map((r) => r.map((c) => c.text)) }));
}
