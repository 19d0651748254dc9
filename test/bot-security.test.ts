import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestDeploy } from './helpers/api.js';
import { getApproval, listApprovals, setPolicy } from '../src/approvals/queries.js';
import { DEFAULT_POLICY } from '../src/approvals/types.js';
import { getRun } from '../src/runs/queries.js';
import { startRun } from '../src/scheduler/manual.js';
import { setSlackSettings } from '../src/slack/settings.js';
import type { RunningBot } from '../bot/app.js';
import { openPgTestDb, type TestDb } from './helpers/db.js';
import { pollUntil } from './helpers/proc.js';
import { capturingLog, testSchedulerDeps } from './helpers/deps.js';
import { applyVariant, makeTenant, makeWorkflow, startRecordingServer } from './helpers/fixtures.js';
import {
  blockAction,
  blockText,
  hostileSlackVariants,
  rejectSubmission,
  sendInteraction,
  sendSigned,
  startFakeSlack,
  startTestBot,
  type FakeSlack,
} from './helpers/slack.js';

let teams = 0;

describe('Slack app security and concurrency (Postgres, two bot processes)', () => {
  let t: TestDb;
  let t2: TestDb['db'];
  let fake: FakeSlack;
  let bot: RunningBot;
  let bot2: RunningBot;
  let target: Awaited<ReturnType<typeof startRecordingServer>>;
  const { log, lines } = capturingLog();
  const ignored = () => lines.filter((l) => l.msg === 'malformed Slack payload ignored').length;
  beforeAll(async () => {
    t = await openPgTestDb();
    // The second bot has its own connection pool, as a second process would.
    const { openDatabase } = await import('../src/db/open.js');
    const { MEMORY_DIR } = await import('../src/db/pglite.js');
    t2 = await openDatabase(
      { DATABASE_URL: t.url, LEVQOR_DATA_DIR: MEMORY_DIR, LEVQOR_DB_POOL_MAX: 10, LEVQOR_DB_CONNECT_TIMEOUT_MS: 10_000 },
      { migrate: false },
    );
    fake = await startFakeSlack();
    target = await startRecordingServer();
    bot = await startTestBot(t.db, fake, { log });
    bot2 = await startTestBot(t2, fake);
  });
  afterAll(async () => {
    await bot.stop();
    await bot2.stop();
    await t2.close();
    await fake.close();
    await target.close();
    await t.close();
  });

  async function connected(approvers: string[] = []) {
    const tenant = await makeTenant(t.db, 'sec');
    const team = `TSEC${process.pid}X${++teams}`;
    const channel = `CSEC${teams}`;
    await setSlackSettings(t.db, tenant.id, { team_id: team, approvals_channel: channel });
    await setPolicy(t.db, tenant.id, { ...DEFAULT_POLICY, approvers }, 'test');
    return { tenant, team, channel };
  }

  async function request(c: { tenant: { id: string } }, summary: string) {
    const a = await requestDeploy(t.db, c.tenant.id, { summary, payload: { token: 'xoxb-secret-value' } });
    await fake.waitFor('chat.postMessage', (m) => blockText(m.args).includes(a.id));
    return a;
  }

  it('posts each request exactly once although two bot processes follow the feed', async () => {
    const c = await connected();
    const ids = [];
    for (let i = 0; i < 12; i++) ids.push((await requestDeploy(t.db, c.tenant.id, { summary: `deploy ${i}`, payload: {} })).id);
    for (const id of ids) await fake.waitFor('chat.postMessage', (m) => blockText(m.args).includes(id));
    // Both bots have drained the feed past the last event: nothing more can arrive for these.
    await Promise.all([bot.feed.ready, bot2.feed.ready]);
    await expect
      .poll(
        async () =>
          (
            await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM approval_queue WHERE tenant_id = $1 AND slack_ts IS NOT NULL', [
              c.tenant.id,
            ])
          ).rows[0]?.n,
      )
      .toBe(12);
    for (const id of ids)
      expect(fake.of('chat.postMessage').filter((m) => blockText(m.args).includes(id) && !m.args.thread_ts)).toHaveLength(1);
  });

  it('refuses unsigned, wrongly signed and stale requests with 401, and acts on none', async () => {
    const c = await connected();
    const a = await request(c, 'signed only');
    const payload = {
      payload: JSON.stringify(
        blockAction({ user: 'UALICE', team: c.team, actionId: 'levqor_approve', approvalId: a.id, channel: c.channel }),
      ),
    };
    const forged = await sendSigned(bot.url, payload, { secret: 'not-the-secret' });
    expect(forged.status).toBe(401);
    const stale = await sendSigned(bot.url, payload, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(stale.status).toBe(401);
    const unsigned = await fetch(bot.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(payload).toString(),
    });
    expect(unsigned.status).toBe(401);
    const bad = await fetch(bot.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)),
        'x-slack-signature': 'v0=00',
      },
      body: new URLSearchParams(payload).toString(),
    });
    expect(bad.status).toBe(401);
    expect((await getApproval(t.db, a.id))?.status).toBe('pending');
    // The same payload, correctly signed, within the window: accepted.
    const ok = await sendSigned(bot.url, payload);
    expect(ok.status).toBe(200);
    await expect.poll(async () => (await getApproval(t.db, a.id))?.status).toBe('approved');
  });

  it('drops a retried delivery (X-Slack-Retry-Num) even when another bot process receives it', async () => {
    const c = await connected();
    const a = await request(c, 'retried');
    const click = blockAction({ user: 'UALICE', team: c.team, actionId: 'levqor_approve', approvalId: a.id, channel: c.channel });
    expect((await sendInteraction(bot, click)).status).toBe(200);
    await expect.poll(async () => (await getApproval(t.db, a.id))?.status).toBe('approved');
    const retry = await sendInteraction(bot2, click, { retryNum: 1 });
    expect(retry.status).toBe(200);
    const seen = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM slack_deliveries WHERE kind = 'block_actions' AND team_id = $1",
      [c.team],
    );
    expect(seen.rows[0]?.n).toBe(1);
    // Had the retry been processed, UALICE would be told the request was already approved.
    const marker = blockAction({ user: 'UALICE', team: c.team, actionId: 'levqor_approve', approvalId: a.id, channel: c.channel });
    await sendInteraction(bot, marker);
    await fake.waitFor('chat.postEphemeral', (e) => e.args.user === 'UALICE' && /already approved/.test(String(e.args.text)));
    expect(fake.of('chat.postEphemeral').filter((e) => e.args.user === 'UALICE' && e.args.channel === c.channel)).toHaveLength(1);
  });

  it('ignores every malformed or hostile click and reject dialog (test/fixtures/slack/hostile.json) without acting on it', async () => {
    const c = await connected();
    const a = await request(c, 'malformed');
    const hostile = hostileSlackVariants();
    const before = ignored();
    const click = blockAction({ user: 'UALICE', team: c.team, actionId: 'levqor_approve', approvalId: a.id, channel: c.channel });
    const dialog = rejectSubmission({ user: 'UALICE', team: c.team, approvalId: a.id, reason: 'hostile' });
    for (const [valid, variants] of [
      [click, hostile.block_actions],
      [dialog, hostile.view_submission],
    ] as const) {
      for (const variant of variants) {
        const res = await sendInteraction(bot, applyVariant(valid, variant, { approval: a.id }));
        expect(res.status, variant.name).toBe(200);
      }
    }
    // Each reached Levqor's handler and its schema refused it (not Bolt, not the database).
    await expect.poll(ignored).toBe(before + hostile.block_actions.length + hostile.view_submission.length);
    expect(await getApproval(t.db, a.id)).toMatchObject({ status: 'pending', processed_by: null });
    // A valid click afterwards is processed: the malformed ones did nothing before it.
    await sendInteraction(
      bot,
      blockAction({ user: 'UBOB', team: c.team, actionId: 'levqor_approve', approvalId: a.id, channel: c.channel }),
    );
    await expect.poll(async () => (await getApproval(t.db, a.id))?.processed_by).toBe('slack:UBOB');
  });

  it('10 concurrent clicks on one request across two processes: one decision, one execution, nine explanations', async () => {
    const users = Array.from({ length: 10 }, (_, i) => `UAPPR${i}`);
    const c = await connected(users.map((u) => `slack:${u}`));
    const wf = await makeWorkflow(t.db, c.tenant.id, {
      name: 'race',
      steps: [{ type: 'http', method: 'POST', url: `${target.url}/race`, body: { n: 1 } }],
      schedule_config: { enabled: false },
    });
    await startRun(testSchedulerDeps(t.db, { LEVQOR_HTTP_ALLOW: '127.0.0.1' }), wf, {
      enqueue: false,
      trigger: 'manual',
      actor: 'cli:test',
    });
    const [a] = await listApprovals(t.db, c.tenant.id, 'pending', 1);
    if (!a?.run_id) throw new Error('no request');
    await fake.waitFor('chat.postMessage', (m) => blockText(m.args).includes(a.id));
    const results = await Promise.all(
      users.map((u, i) =>
        sendInteraction(
          i % 2 ? bot2 : bot,
          blockAction({ user: u, team: c.team, actionId: 'levqor_approve', approvalId: a.id, channel: c.channel }),
        ),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    await expect.poll(async () => (await getRun(t.db, a.run_id ?? ''))?.status, { timeout: 15_000 }).toBe('succeeded');
    const winner = (await getApproval(t.db, a.id))?.processed_by ?? '';
    expect(users.map((u) => `slack:${u}`)).toContain(winner);
    for (const u of users.filter((u) => `slack:${u}` !== winner)) {
      await fake.waitFor('chat.postEphemeral', (e) => e.args.user === u && /already approved/.test(String(e.args.text)));
    }
    expect(target.requests.filter((r) => r.url === '/race')).toHaveLength(1);
    const votes = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM approval_votes WHERE approval_id = $1', [a.id]);
    expect(votes.rows[0]?.n).toBe(1);
    const slackTs = (await t.db.query<{ slack_ts: string }>('SELECT slack_ts FROM approval_queue WHERE id = $1', [a.id])).rows[0]?.slack_ts;
    await expect.poll(() => fake.of('chat.update').filter((u) => u.args.ts === slackTs).length).toBe(1);
  });

  it('a double click by one approver decides once and explains the second', async () => {
    const c = await connected(['slack:UDOUBLE']);
    const a = await request(c, 'double');
    const [r1, r2] = await Promise.all([
      sendInteraction(
        bot,
        blockAction({ user: 'UDOUBLE', team: c.team, actionId: 'levqor_approve', approvalId: a.id, channel: c.channel }),
      ),
      sendInteraction(
        bot2,
        blockAction({ user: 'UDOUBLE', team: c.team, actionId: 'levqor_approve', approvalId: a.id, channel: c.channel }),
      ),
    ]);
    expect([r1.status, r2.status]).toEqual([200, 200]);
    await fake.waitFor('chat.postEphemeral', (e) => e.args.user === 'UDOUBLE' && /already (approved|voted)/.test(String(e.args.text)));
    expect(await getApproval(t.db, a.id)).toMatchObject({ status: 'approved', processed_by: 'slack:UDOUBLE', approvals_count: 1 });
  });
  it('decides nothing for a user of another workspace in a shared channel, tells them why, and accepts an Enterprise Grid member', async () => {
    const c = await connected(['slack:UGUEST', 'slack:UGRID']);
    const a = await request(c, 'shared channel');
    const said = (user: string, pattern: RegExp) =>
      fake.waitFor('chat.postEphemeral', (e) => e.args.user === user && pattern.test(String(e.args.text)));
    const guest = { user: 'UGUEST', team: c.team, userTeam: 'TGUESTWS', approvalId: a.id, channel: c.channel };
    await sendInteraction(bot, blockAction({ ...guest, actionId: 'levqor_approve' }));
    await said('UGUEST', new RegExp(`member of Slack workspace TGUESTWS, not ${c.team}.*nothing was done`));
    const modalsBefore = fake.of('views.open').length;
    await sendInteraction(bot2, blockAction({ ...guest, actionId: 'levqor_reject' }));
    await fake.waitFor(
      'chat.postEphemeral',
      (e) => e.args.user === 'UGUEST' && fake.of('chat.postEphemeral').filter((x) => x.args.user === 'UGUEST').length === 2,
    );
    expect(fake.of('views.open')).toHaveLength(modalsBefore);
    // A forged dialog submission (no dialog was opened for them) is refused inside the dialog.
    const submitted = await sendInteraction(bot, rejectSubmission({ ...guest, reason: 'not mine to reject' }));
    const answer = JSON.parse(submitted.body) as { response_action?: string; errors?: Record<string, string> };
    expect(answer.response_action).toBe('errors');
    expect(Object.values(answer.errors ?? {}).join(' ')).toContain('TGUESTWS');
    // A click whose payload does not say the clicker's workspace is refused too.
    await sendInteraction(bot, blockAction({ ...guest, userTeam: null, actionId: 'levqor_approve' }));
    await said('UGUEST', /did not say which workspace you belong to/);
    expect(await getApproval(t.db, a.id)).toMatchObject({ status: 'pending', approvals_count: 0 });
    // Enterprise Grid reports a member's org id as user.team_id; the workspace's org is the same.
    await sendInteraction(
      bot,
      blockAction({
        user: 'UGRID',
        team: c.team,
        userTeam: 'EGRIDORG',
        enterprise: 'EGRIDORG',
        actionId: 'levqor_approve',
        approvalId: a.id,
        channel: c.channel,
      }),
    );
    await pollUntil(async () => (await getApproval(t.db, a.id))?.status === 'approved', { what: "the Grid member's approval" });
    expect(await getApproval(t.db, a.id)).toMatchObject({ status: 'approved', processed_by: 'slack:UGRID' });
  });
});
