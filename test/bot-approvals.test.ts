import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestDeploy } from './helpers/api.js';
import { getApproval, listApprovals, setPolicy } from '../src/approvals/queries.js';
import { decideApproval, remindApprovals } from '../src/approvals/service.js';
import { DEFAULT_POLICY } from '../src/approvals/types.js';
import { getRun } from '../src/runs/queries.js';
import { startRun } from '../src/scheduler/manual.js';
import { setSlackSettings } from '../src/slack/settings.js';
import type { RunningBot } from '../bot/app.js';
import { BACKENDS, type TestDb } from './helpers/db.js';
import { testSchedulerDeps } from './helpers/deps.js';
import { makeTenant, makeWorkflow, startRecordingServer } from './helpers/fixtures.js';
import {
  blockAction,
  blockText,
  rejectSubmission,
  sendInteraction,
  startFakeSlack,
  startTestBot,
  type FakeSlack,
} from './helpers/slack.js';

const ALLOW = { LEVQOR_HTTP_ALLOW: '127.0.0.1' };
let teams = 0;

describe.each(BACKENDS)('Slack approvals end to end on $name', ({ open }) => {
  let t: TestDb;
  let fake: FakeSlack;
  let bot: RunningBot;
  let target: Awaited<ReturnType<typeof startRecordingServer>>;
  beforeAll(async () => {
    t = await open();
    fake = await startFakeSlack();
    target = await startRecordingServer();
    bot = await startTestBot(t.db, fake);
  });
  afterAll(async () => {
    await bot.stop();
    await fake.close();
    await target.close();
    await t.close();
  });

  /** A tenant connected to its own workspace, with approvers UALICE and UBOB. */
  async function connectedTenant(approvers = ['slack:UALICE', 'slack:UBOB']) {
    const tenant = await makeTenant(t.db, 'slack');
    const team = `TTEAM${process.pid}X${++teams}`;
    const channel = `CAPPR${teams}`;
    await setSlackSettings(t.db, tenant.id, { team_id: team, approvals_channel: channel });
    await setPolicy(t.db, tenant.id, { ...DEFAULT_POLICY, approvers }, 'test');
    return { tenant, team, channel };
  }

  /** A workflow whose Class C http step is held, and the message it was posted as. */
  async function heldRequest(name: string, approvers?: string[]) {
    const c = await connectedTenant(approvers);
    const wf = await makeWorkflow(t.db, c.tenant.id, {
      name,
      steps: [
        {
          type: 'http',
          name: 'call',
          method: 'POST',
          url: `${target.url}/hook/${name}`,
          headers: { Authorization: 'Bearer sk-live-abcdef123456' },
          body: { password: 'hunter2', note: 'hello' },
        },
      ],
      schedule_config: { enabled: false },
    });
    await startRun(testSchedulerDeps(t.db, ALLOW), wf, { enqueue: false, trigger: 'manual', actor: 'cli:test' });
    const [approval] = await listApprovals(t.db, c.tenant.id, 'pending', 1);
    if (!approval?.run_id) throw new Error('no request was made');
    const posted = await fake.waitFor('chat.postMessage', (m) => m.args.channel === c.channel && blockText(m.args).includes(approval.id));
    return { ...c, approval, runId: approval.run_id, posted };
  }

  /** Where a request was posted, once the posting transaction has committed. */
  async function slackRow(id: string) {
    const read = () =>
      t.db.query<{ slack_channel: string; slack_ts: string }>('SELECT slack_channel, slack_ts FROM approval_queue WHERE id = $1', [id]);
    await expect.poll(async () => (await read()).rows[0]?.slack_ts, { timeout: 10_000 }).toBeTruthy();
    return read();
  }

  const hits = (name: string) => target.requests.filter((r) => r.url === `/hook/${name}`);
  const ephemeralFor = (user: string, text: RegExp) =>
    fake.waitFor('chat.postEphemeral', (c) => c.args.user === user && text.test(String(c.args.text)));

  it('posts a Class C request with what, why, a redacted preview and buttons; Approve updates it and runs the step once', async () => {
    const r = await heldRequest('deploy-hook');
    const blocks = blockText(r.posted.args);
    expect(blocks).toContain('deploy-hook');
    expect(blocks).toContain('Why Class C');
    expect(blocks).toContain('levqor_approve');
    expect(blocks).toContain('levqor_reject');
    expect(blocks).toContain('[redacted]');
    expect(blocks).not.toContain('hunter2');
    expect(blocks).not.toContain('sk-live-abcdef123456');
    const stored = await getApproval(t.db, r.approval.id);
    const row = await slackRow(r.approval.id);
    expect(stored?.status).toBe('pending');
    expect(row.rows[0]?.slack_channel).toBe(r.channel);
    expect(row.rows[0]?.slack_ts).toMatch(/^\d+\.\d+$/);
    const slackTs = row.rows[0]?.slack_ts;

    const res = await sendInteraction(
      bot,
      blockAction({
        user: 'UALICE',
        team: r.team,
        actionId: 'levqor_approve',
        approvalId: r.approval.id,
        channel: r.channel,
        messageTs: slackTs,
      }),
    );
    expect(res.status).toBe(200);
    const update = await fake.waitFor('chat.update', (c) => c.args.ts === slackTs);
    expect(update.args.channel).toBe(r.channel);
    expect(blockText(update.args)).toContain('Approved');
    expect(blockText(update.args)).toContain('<@UALICE>');
    expect(blockText(update.args)).not.toContain('levqor_approve');
    await expect.poll(async () => (await getRun(t.db, r.runId))?.status, { timeout: 15_000 }).toBe('succeeded');
    expect(hits('deploy-hook')).toHaveLength(1);
    expect(await getApproval(t.db, r.approval.id)).toMatchObject({ status: 'approved', processed_by: 'slack:UALICE' });
    const votes = await t.db.query<{ channel: string }>('SELECT channel FROM approval_votes WHERE approval_id = $1', [r.approval.id]);
    expect(votes.rows).toEqual([{ channel: 'slack' }]);

    // A second click, by another approver: explained privately, nothing runs again, the message is not touched again.
    await sendInteraction(
      bot,
      blockAction({
        user: 'UBOB',
        team: r.team,
        actionId: 'levqor_approve',
        approvalId: r.approval.id,
        channel: r.channel,
        messageTs: slackTs,
      }),
    );
    await ephemeralFor('UBOB', /already approved/);
    expect(hits('deploy-hook')).toHaveLength(1);
    expect(fake.of('chat.update').filter((c) => c.args.ts === slackTs)).toHaveLength(1);
  });

  it('Reject opens a dialog; an empty reason is an error inside it; a reason rejects and updates the message', async () => {
    const r = await heldRequest('refund-call');
    const click = blockAction({ user: 'UBOB', team: r.team, actionId: 'levqor_reject', approvalId: r.approval.id, channel: r.channel });
    await sendInteraction(bot, click);
    const opened = await fake.waitFor('views.open', (c) => c.args.trigger_id === click.trigger_id);
    expect(JSON.stringify(opened.args.view)).toContain('levqor_reject_modal');
    expect(JSON.stringify(opened.args.view)).toContain(r.approval.id);

    const empty = await sendInteraction(bot, rejectSubmission({ user: 'UBOB', team: r.team, approvalId: r.approval.id, reason: '   ' }));
    expect(empty.status).toBe(200);
    const answer = JSON.parse(empty.body) as { response_action?: string; errors?: { reason?: string } };
    expect(answer.response_action).toBe('errors');
    expect(answer.errors?.reason).toMatch(/needs a reason/);
    expect((await getApproval(t.db, r.approval.id))?.status).toBe('pending');

    const ok = await sendInteraction(
      bot,
      rejectSubmission({ user: 'UBOB', team: r.team, approvalId: r.approval.id, reason: 'wrong customer' }),
    );
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('');
    const slackTs = (await slackRow(r.approval.id)).rows[0]?.slack_ts;
    const update = await fake.waitFor('chat.update', (c) => c.args.ts === slackTs);
    expect(blockText(update.args)).toContain('Rejected');
    expect(blockText(update.args)).toContain('wrong customer');
    expect(await getRun(t.db, r.runId)).toMatchObject({ status: 'rejected', error: 'rejected by slack:UBOB: wrong customer' });
    expect(hits('refund-call')).toHaveLength(0);

    // Reject again: no dialog, an explanation.
    const again = blockAction({ user: 'UALICE', team: r.team, actionId: 'levqor_reject', approvalId: r.approval.id, channel: r.channel });
    await sendInteraction(bot, again);
    await ephemeralFor('UALICE', /already rejected/);
    expect(fake.of('views.open').filter((c) => c.args.trigger_id === again.trigger_id)).toHaveLength(0);
  });

  it('refuses an unauthorised clicker, a workspace of another tenant, and the requester itself', async () => {
    const r = await heldRequest('guarded');
    await sendInteraction(
      bot,
      blockAction({ user: 'UMALLORY', team: r.team, actionId: 'levqor_approve', approvalId: r.approval.id, channel: r.channel }),
    );
    await ephemeralFor('UMALLORY', /not an approver/);
    await sendInteraction(
      bot,
      blockAction({ user: 'UALICE', team: 'TSTRANGER', actionId: 'levqor_approve', approvalId: r.approval.id, channel: r.channel }),
    );
    await ephemeralFor('UALICE', /not connected/);
    // Another connected tenant's workspace cannot reach this tenant's request either.
    const other = await connectedTenant();
    await sendInteraction(
      bot,
      blockAction({ user: 'UBOB', team: other.team, actionId: 'levqor_approve', approvalId: r.approval.id, channel: r.channel }),
    );
    await ephemeralFor('UBOB', /not found/);
    expect((await getApproval(t.db, r.approval.id))?.status).toBe('pending');

    const self = await connectedTenant(['slack:UREQ', 'slack:UALICE']);
    const mine = await requestDeploy(t.db, self.tenant.id, {
      summary: 'deploy api v2',
      payload: { version: 'v2', api_key: 'abc' },
      actor: 'slack:UREQ',
      channel: 'slack',
    });
    await fake.waitFor('chat.postMessage', (m) => blockText(m.args).includes(mine.id));
    await sendInteraction(
      bot,
      blockAction({ user: 'UREQ', team: self.team, actionId: 'levqor_approve', approvalId: mine.id, channel: self.channel }),
    );
    await ephemeralFor('UREQ', /requested this action and cannot decide it/);
    expect((await getApproval(t.db, mine.id))?.status).toBe('pending');
    expect(hits('guarded')).toHaveLength(0);
  });

  it('updates the message for decisions made elsewhere (CLI, API, quorum votes) and replies in the thread for a reminder', async () => {
    const r = await heldRequest('elsewhere', ['slack:UALICE', 'cli:carol']);
    const slackTs = (await slackRow(r.approval.id)).rows[0]?.slack_ts;
    await t.db.query(
      'UPDATE approval_queue SET requested_at = extract(epoch FROM now()) - 1000, expires_at = extract(epoch FROM now()) + 100 WHERE id = $1',
      [r.approval.id],
    );
    expect((await remindApprovals(t.db)).map((a) => a.id)).toContain(r.approval.id);
    const reply = await fake.waitFor('chat.postMessage', (c) => c.args.thread_ts === slackTs);
    expect(reply.args.channel).toBe(r.channel);
    expect(String(reply.args.text)).toMatch(/^⏰ Reminder: still waiting for a decision on elsewhere: .* left \(expires .*\)\. <@UALICE>$/);

    await decideApproval(t.db, {
      id: r.approval.id,
      tenantId: r.tenant.id,
      decision: 'reject',
      actor: 'cli:carol',
      channel: 'cli',
      reason: 'not today',
    });
    const update = await fake.waitFor('chat.update', (c) => c.args.ts === slackTs);
    expect(blockText(update.args)).toContain('Rejected');
    expect(blockText(update.args)).toContain('cli:carol');
    expect(fake.of('chat.postMessage').filter((c) => c.args.thread_ts === slackTs)).toHaveLength(1);

    const q = await connectedTenant(['slack:UALICE', 'slack:UBOB']);
    await setPolicy(t.db, q.tenant.id, { ...DEFAULT_POLICY, approvers: ['slack:UALICE', 'token:ops'], required_approvals: 2 }, 'test');
    const two = await requestDeploy(t.db, q.tenant.id, { summary: 'two-person deploy', payload: {} });
    const posted = await fake.waitFor('chat.postMessage', (m) => blockText(m.args).includes(two.id));
    await sendInteraction(
      bot,
      blockAction({ user: 'UALICE', team: q.team, actionId: 'levqor_approve', approvalId: two.id, channel: q.channel }),
    );
    await ephemeralFor('UALICE', /1 of 2/);
    const vote = await fake.waitFor('chat.update', (c) => c.args.ts === posted.args.ts || blockText(c.args).includes(`${two.id}`));
    expect(blockText(vote.args)).toContain('1 of 2 approvals');
    expect(blockText(vote.args)).toContain('levqor_approve');
    await decideApproval(t.db, { id: two.id, tenantId: q.tenant.id, decision: 'approve', actor: 'token:ops', channel: 'api' });
    const final = await fake.waitFor('chat.update', (c) => blockText(c.args).includes(two.id) && blockText(c.args).includes('Approved'));
    expect(blockText(final.args)).toContain('token:ops');
    expect(blockText(final.args)).not.toContain('levqor_approve');
  });
});
