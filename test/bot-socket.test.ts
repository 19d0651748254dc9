// The Slack app in Socket Mode (SLACK_APP_TOKEN): it opens its connection through the Web API
// at SLACK_API_URL, acknowledges every envelope over the socket, and handles slash commands and
// Approve clicks exactly as over HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listApprovals, setPolicy } from '../src/approvals/queries.js';
import { DEFAULT_POLICY } from '../src/approvals/types.js';
import { startRun } from '../src/scheduler/manual.js';
import { setSlackSettings } from '../src/slack/settings.js';
import { startBot, type RunningBot } from '../bot/app.js';
import { openPgTestDb, type TestDb } from './helpers/db.js';
import { testSchedulerDeps } from './helpers/deps.js';
import { makeTenant, makeWorkflow, startRecordingServer } from './helpers/fixtures.js';
import {
  BOT_TOKEN,
  SIGNING_SECRET,
  blockAction,
  blockText,
  slashCommand,
  startFakeSlack,
  testBotDeps,
  type FakeSlack,
} from './helpers/slack.js';
import { startFakeSocketMode, type FakeSocketMode } from './helpers/socket-mode.js';

describe('the Slack app in Socket Mode (Postgres)', () => {
  let t: TestDb;
  let fake: FakeSlack;
  let socket: FakeSocketMode;
  let bot: RunningBot;
  let target: Awaited<ReturnType<typeof startRecordingServer>>;
  let tenantId: string;
  const team = `TSOCK${process.pid}`;
  beforeAll(async () => {
    t = await openPgTestDb();
    fake = await startFakeSlack();
    socket = await startFakeSocketMode();
    fake.socketUrl = socket.url;
    target = await startRecordingServer();
    bot = await startBot(testBotDeps(t.db, fake), {
      signingSecret: SIGNING_SECRET,
      botToken: BOT_TOKEN,
      appToken: 'xapp-1-test',
      apiUrl: fake.apiUrl,
      port: 0,
      host: '127.0.0.1',
      sweepSeconds: 3600,
    });
    await socket.connected;
    const tenant = await makeTenant(t.db, 'sock');
    tenantId = tenant.id;
    await setSlackSettings(t.db, tenant.id, { team_id: team, approvals_channel: 'CSOCKAPPR' });
    await setPolicy(t.db, tenant.id, { ...DEFAULT_POLICY, approvers: ['slack:UOPS'] }, 'test');
  });
  afterAll(async () => {
    await bot.stop();
    await socket.close();
    await fake.close();
    await target.close();
    await t.close();
  });

  it('opens the connection through SLACK_API_URL with the app token', () => {
    expect(bot.url).toBe('socket-mode');
    const open = fake.of('apps.connections.open');
    expect(open.length).toBeGreaterThanOrEqual(1);
  });

  it('acknowledges a slash command over the socket and answers at its response_url', async () => {
    const respondId = `sock-${Date.now()}`;
    const ack = await socket.deliver(
      'slash_commands',
      slashCommand({ user: 'UOPS', team, text: 'help', responseUrl: `${fake.respondUrl}${respondId}` }),
    );
    expect(ack.envelope_id).toMatch(/^env-/);
    const answer = await fake.waitFor('respond', (c) => c.path === `/respond/${respondId}`);
    expect(answer.args.response_type).toBe('ephemeral');
    expect(blockText(answer.args)).toContain('/levqor health');
  });

  it('an Approve click delivered over the socket decides the request, runs the step once and updates the message', async () => {
    const wf = await makeWorkflow(t.db, tenantId, {
      name: 'sock-deploy',
      steps: [{ type: 'http', name: 'call', method: 'POST', url: `${target.url}/hook/sock`, body: { go: true } }],
      schedule_config: { enabled: false },
    });
    await startRun(testSchedulerDeps(t.db, { LEVQOR_HTTP_ALLOW: '127.0.0.1' }), wf, {
      enqueue: false,
      trigger: 'manual',
      actor: 'cli:test',
    });
    const [approval] = await listApprovals(t.db, tenantId, 'pending', 1);
    if (!approval) throw new Error('no request was made');
    const posted = await fake.waitFor('chat.postMessage', (m) => m.args.channel === 'CSOCKAPPR' && blockText(m.args).includes(approval.id));
    await expect
      .poll(async () => (await t.db.query(`SELECT slack_ts FROM approval_queue WHERE id = $1`, [approval.id])).rows[0]?.slack_ts, {
        timeout: 10_000,
      })
      .toBeTruthy();

    const click = blockAction({ user: 'UOPS', team, actionId: 'levqor_approve', approvalId: approval.id, channel: 'CSOCKAPPR' });
    const [first, second] = await Promise.all([socket.deliver('interactive', click), socket.deliver('interactive', click)]);
    expect([first.envelope_id, second.envelope_id]).toHaveLength(2);
    await fake.waitFor('chat.update', (c) => blockText(c.args).includes(approval.id) && /Approved/i.test(blockText(c.args)));
    await expect
      .poll(
        async () =>
          (await t.db.query<{ status: string }>('SELECT status FROM workflow_runs WHERE id = $1', [approval.run_id])).rows[0]?.status,
        { timeout: 10_000 },
      )
      .toBe('succeeded');
    expect(target.requests.filter((r) => r.url === '/hook/sock')).toHaveLength(1);
    expect(posted.args.channel).toBe('CSOCKAPPR');
  });
});
