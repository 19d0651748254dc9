import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideApproval } from '../src/approvals/service.js';
import type { Db } from '../src/db/types.js';
import { runMarketingCycle } from '../src/reports/marketing/cycle.js';
import { marketingRecommendations, type Engagement } from '../src/reports/marketing/rules.js';
import { runQueuedNow } from '../src/scheduler/manual.js';
import { runTick } from '../src/scheduler/tick.js';
import { createTenant, type TenantRow } from '../src/tenants/queries.js';
import { testSchedulerDeps } from './helpers/deps.js';
import { BACKENDS, useTestDb, type TestDb } from './helpers/db.js';

const NOW = Date.UTC(2025, 9, 29, 12) / 1000; // Wednesday of 2025-W44
const DAY = 86_400;

interface Smtp {
  port: number;
  messages: { to: string[]; raw: string }[];
  close(): Promise<void>;
}

async function startSmtp(): Promise<Smtp> {
  const messages: Smtp['messages'] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString() });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.server.address() as AddressInfo).port,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Engagement for a tenant: 10 users active through the last five weeks, of whom users 1–5
 * went silent 10 days ago (lapsed), and 6 newcomers first seen 12 days ago and back 2 days
 * ago, one of whom activated; plus a user id that is not an address, seen once 20 days ago
 * (new, lapsed, but never e-mailed).
 */
async function seedEngagement(db: Db, tenant: TenantRow): Promise<void> {
  await db.query(
    `INSERT INTO engagement_events (tenant_id, user_id, event, created_at)
     SELECT $1, 'user' || u || '@acme.example', 'login', $2::float8 - d * 86400
     FROM generate_series(1, 10) AS u, generate_series(0, 34) AS d
     WHERE NOT (u <= 5 AND d < 10)`,
    [tenant.id, NOW],
  );
  await db.query(
    `INSERT INTO engagement_events (tenant_id, user_id, event, created_at)
     SELECT $1, 'new' || u || '@acme.example', CASE WHEN u = 1 AND d = 11 THEN 'activated' ELSE 'login' END, $2::float8 - d * 86400
     FROM generate_series(1, 6) AS u, unnest(ARRAY[2, 11, 12]) AS d`,
    [tenant.id, NOW],
  );
  await db.query(
    `INSERT INTO engagement_events (tenant_id, user_id, event, created_at) VALUES ($1, 'U0123SLACK', 'login', $2::float8 - 20 * 86400)`,
    [tenant.id, NOW],
  );
}

describe.each(BACKENDS)('marketing cycle on $name', ({ open }) => {
  let t: TestDb;
  let acme: TenantRow;
  let quiet: TenantRow;
  beforeAll(async () => {
    t = await open();
    acme = await createTenant(t.db, 'acme', 'Europe/London');
    quiet = await createTenant(t.db, 'quiet');
    await seedEngagement(t.db, acme);
  });
  afterAll(async () => {
    await t.close();
  });

  it('measures active users, activation, lapse and cohorts with SQL aggregates', async () => {
    const r = await runMarketingCycle(t.db, { tenantId: acme.id, now: NOW, dryRun: true });
    const a = r.tenants[0];
    expect(a?.active).toMatchObject({ dau: 5, wau: 11, mau: 17 });
    expect(a?.funnel).toMatchObject({ new_users: 7, activated: 1, lapsed: 6 });
    expect(a?.funnel.lapsed_emails).toEqual([
      'user1@acme.example',
      'user2@acme.example',
      'user3@acme.example',
      'user4@acme.example',
      'user5@acme.example',
    ]);
    expect(a?.funnel.not_activated_emails).toEqual([
      'new2@acme.example',
      'new3@acme.example',
      'new4@acme.example',
      'new5@acme.example',
      'new6@acme.example',
    ]);
    expect(a?.recommendations.map((x) => x.rule)).toEqual(['lapsed-users', 'low-activation']);
    expect(a?.recommendations[0]?.message).toMatch(
      /^6 users were active in the 4 weeks before but not in the last 7 days \(35\.3 % of recent users, threshold 20\.0 %\)/,
    );
    expect(a?.proposals).toEqual([]);
  });

  it('proposes each campaign once a week as a pending Class C email, also when run twice', async () => {
    const first = await runMarketingCycle(t.db, { now: NOW });
    expect(first.summary).toMatchObject({ tenants: 2, proposals: 2 });
    const again = await runMarketingCycle(t.db, { now: NOW + DAY });
    expect(again.summary.proposals).toBe(0);
    expect(again.tenants.find((x) => x.tenant === 'acme')?.proposals.map((p) => p.status)).toEqual([
      'already_proposed',
      'already_proposed',
    ]);
    const { rows } = await t.db.query<{
      tenant_id: string;
      impact_class: string;
      status: string;
      action_type: string;
      summary: string;
      run_status: string;
    }>(
      `SELECT a.tenant_id, a.impact_class, a.status, a.action_type, a.summary, r.status AS run_status
       FROM approval_queue a JOIN workflow_runs r ON r.id = a.run_id ORDER BY a.summary`,
    );
    expect(rows.map((x) => [x.tenant_id, x.impact_class, x.status, x.action_type, x.run_status])).toEqual([
      [acme.id, 'C', 'pending', 'email', 'waiting_approval'],
      [acme.id, 'C', 'pending', 'email', 'waiting_approval'],
    ]);
    expect(rows.map((x) => x.summary)).toEqual([
      'campaign-onboarding-2025w44: email "Your first Levqor workflow in five minutes" to new2@acme.example, new3@acme.example, new4@acme.example and 2 more (blind copies)',
      'campaign-re-engagement-2025w44: email "Your Levqor workflows miss you" to user1@acme.example, user2@acme.example, user3@acme.example and 2 more (blind copies)',
    ]);
    // The quiet tenant has nothing to analyse and gets nothing proposed.
    expect(first.tenants.find((x) => x.tenant === quiet.name)?.recommendations).toEqual([]);
  });
});

describe('an approved campaign is sent by the email step, exactly once, and nothing before', () => {
  const t = useTestDb();
  let smtp: Smtp;
  beforeAll(async () => {
    smtp = await startSmtp();
  });
  afterAll(() => smtp.close());

  it('sends zero messages before approval and one after approve + resume', async () => {
    const tenant = await createTenant(t.db, 'sender');
    await seedEngagement(t.db, tenant);
    const deps = testSchedulerDeps(t.db, { LEVQOR_SMTP_URL: `smtp://127.0.0.1:${smtp.port}` });
    const result = await runMarketingCycle(t.db, { tenantId: tenant.id, now: NOW, runDeps: deps });
    const reengage = result.tenants[0]?.proposals.find((p) => p.campaign === 're-engagement');
    expect(reengage?.approval_id).toBeTruthy();
    expect(smtp.messages).toHaveLength(0);
    // Rejecting the other proposal sends nothing either.
    const onboarding = result.tenants[0]?.proposals.find((p) => p.campaign === 'onboarding');
    await decideApproval(t.db, {
      id: onboarding?.approval_id ?? '',
      decision: 'reject',
      actor: 'test:lead',
      channel: 'api',
      reason: 'not this week',
    });
    await decideApproval(t.db, { id: reengage?.approval_id ?? '', decision: 'approve', actor: 'test:lead', channel: 'api' });
    const [a, b] = await Promise.all([
      runQueuedNow(deps, reengage?.run_id ?? ''),
      runQueuedNow(testSchedulerDeps(t.db, { LEVQOR_SMTP_URL: `smtp://127.0.0.1:${smtp.port}` }), reengage?.run_id ?? ''),
    ]);
    expect([a.outcome?.kind, b.outcome?.kind].filter(Boolean)).toEqual(['finished']);
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0]?.to).toEqual([
      'user1@acme.example',
      'user2@acme.example',
      'user3@acme.example',
      'user4@acme.example',
      'user5@acme.example',
    ]);
    expect(smtp.messages[0]?.raw).toContain('Subject: Your Levqor workflows miss you');
    // Blind copies: no recipient's address appears in the message the others receive.
    expect(smtp.messages[0]?.raw).not.toMatch(/user\d@acme\.example/);
    expect(smtp.messages[0]?.raw).toContain(`X-Levqor-Approval: ${reengage?.approval_id ?? ''}`);
    const { rows } = await t.db.query<{ status: string }>('SELECT status FROM workflow_runs WHERE id = $1', [reengage?.run_id]);
    expect(rows[0]?.status).toBe('succeeded');
    // Running the cycle again the same week proposes nothing and sends nothing.
    await runMarketingCycle(t.db, { tenantId: tenant.id, now: NOW + 3600, runDeps: deps });
    expect(smtp.messages).toHaveLength(1);
  });
});

describe('a marketing cycle that dies right after proposing (Postgres)', () => {
  const t = useTestDb();

  it('leaves each proposed campaign with its queued run, which a scheduler takes up to the approval', async () => {
    const tenant = await createTenant(t.db, 'crashy');
    await seedEngagement(t.db, tenant);
    // The process "dies" between the proposal's commit and running it here: claiming the run fails.
    const dying: Db = {
      ...t.db,
      query: (sql, params) => (sql.includes("SET status = 'running'") ? Promise.reject(new Error('killed')) : t.db.query(sql, params)),
    };
    await expect(
      runMarketingCycle(t.db, { tenantId: tenant.id, now: NOW, runDeps: { ...testSchedulerDeps(t.db), db: dying } }),
    ).rejects.toThrow('killed');
    const campaigns = async () =>
      (
        await t.db.query<{ campaign: string; run_status: string | null; approval_status: string | null }>(
          `SELECT m.campaign, r.status AS run_status, (SELECT a.status FROM approval_queue a WHERE a.run_id = m.run_id) AS approval_status
       FROM marketing_campaigns m LEFT JOIN workflow_runs r ON r.id = m.run_id WHERE m.tenant_id = $1 ORDER BY m.campaign`,
          [tenant.id],
        )
      ).rows;
    expect(await campaigns()).toEqual([{ campaign: 're-engagement', run_status: 'queued', approval_status: null }]);

    const tick = await runTick(testSchedulerDeps(t.db));
    expect(tick).toMatchObject({ claimed: 1, waiting_approval: 1 });
    expect(await campaigns()).toEqual([{ campaign: 're-engagement', run_status: 'waiting_approval', approval_status: 'pending' }]);
    // The next cycle proposes the rest and reports the first as already proposed, with its request.
    const again = await runMarketingCycle(t.db, { tenantId: tenant.id, now: NOW + 60, runDeps: testSchedulerDeps(t.db) });
    const proposals = again.tenants[0]?.proposals ?? [];
    expect(proposals.find((p) => p.campaign === 're-engagement')).toMatchObject({
      status: 'already_proposed',
      approval_id: expect.any(String) as string,
    });
    expect(proposals.find((p) => p.campaign === 'onboarding')).toMatchObject({
      status: 'proposed',
      approval_id: expect.any(String) as string,
    });
  });
});

describe('marketing rules', () => {
  const base: Engagement = {
    tenant: 'x',
    week: '2025-W44',
    active: { dau: 2, wau: 10, mau: 20, events_this_week: 10, events_last_week: 40 },
    funnel: { new_users: 0, activated: 0, lapsed: 0, lapsed_emails: [], not_activated_emails: [] },
    cohorts: [],
    features: { active_workflows: 2, scheduled_workflows: 0, step_types: {} },
  };
  it('flags churn risk when activity halves, with the numbers', () => {
    const recs = marketingRecommendations(base);
    expect(recs.map((r) => r.rule)).toEqual(['churn-risk', 'low-stickiness']);
    expect(recs[0]?.message).toContain('fell from 40 to 10 events');
    expect(recs[0]?.evidence).toMatchObject({ ratio: 0.25, threshold: 0.5 });
  });
  it('stays quiet at the thresholds and below the minimum sizes', () => {
    const calm = { ...base, active: { dau: 4, wau: 10, mau: 20, events_this_week: 12, events_last_week: 22 } };
    expect(marketingRecommendations(calm).map((r) => r.rule)).toEqual([]);
    const few = { ...base, active: { ...calm.active, events_this_week: 1, events_last_week: 19 } };
    expect(marketingRecommendations(few)).toEqual([]);
  });
  it('points out unused step types once a tenant has three workflows', () => {
    const e = {
      ...base,
      active: { dau: 5, wau: 10, mau: 20, events_this_week: 10, events_last_week: 10 },
      features: { active_workflows: 3, scheduled_workflows: 1, step_types: { email: 1, http: 2, transform: 1 } },
    };
    expect(marketingRecommendations(e).map((r) => [r.rule, r.message.includes('set_workflow_active')])).toEqual([['feature-unused', true]]);
  });
});
