import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestDeploy } from './helpers/api.js';
import { setPolicy } from '../src/approvals/queries.js';
import { DEFAULT_POLICY } from '../src/approvals/types.js';
import { markdownToBlocks } from '../src/slack/report-blocks.js';
import { payloadPreview, redactPayload } from '../src/lib/redact.js';
import { setSlackSettings } from '../src/slack/settings.js';
import type { RunningBot } from '../bot/app.js';
import { parseCommandText } from '../bot/commands.js';
import { runCli } from './helpers/cli.js';
import { openPgTestDb, type TestDb } from './helpers/db.js';
import { makeTenant, makeWorkflow, startRecordingServer } from './helpers/fixtures.js';
import { blockText, sendCommand, startFakeSlack, startTestBot, type FakeSlack } from './helpers/slack.js';

describe('/levqor slash command', () => {
  let t: TestDb;
  let fake: FakeSlack;
  let bot: RunningBot;
  let target: Awaited<ReturnType<typeof startRecordingServer>>;
  let team: string;
  let tenantId: string;
  beforeAll(async () => {
    t = await openPgTestDb();
    fake = await startFakeSlack();
    target = await startRecordingServer();
    bot = await startTestBot(t.db, fake);
    const tenant = await makeTenant(t.db, 'cmd');
    tenantId = tenant.id;
    team = `TCMD${process.pid}`;
    await setSlackSettings(t.db, tenant.id, { team_id: team, approvals_channel: 'CCMDAPPR' });
    await setPolicy(t.db, tenant.id, { ...DEFAULT_POLICY, approvers: ['slack:UOPS'] }, 'test');
  });
  afterAll(async () => {
    await bot.stop();
    await fake.close();
    await target.close();
    await t.close();
  });

  async function ask(text: string, user = 'UOPS', fromTeam = team) {
    const { status, respondId } = await sendCommand(bot, fake, { user, team: fromTeam, text });
    expect(status).toBe(200);
    return (await fake.waitFor('respond', (c) => c.path === `/respond/${respondId}`)).args;
  }

  it('help, and unknown input shows the help (ephemeral)', async () => {
    const help = await ask('help');
    expect(help.response_type).toBe('ephemeral');
    for (const sub of ['health', 'approvals', 'report', 'run WORKFLOW', '--share']) expect(blockText(help)).toContain(sub);
    const unknown = await ask('frobnicate');
    expect(blockText(unknown)).toContain('Unknown command');
    expect(blockText(unknown)).toContain('/levqor approvals');
    const empty = await ask('');
    expect(blockText(empty)).toContain('/levqor health');
  });

  it("health: the workspace tenant's summary as blocks; --share posts it in the channel", async () => {
    // Another tenant's queue is not this workspace's business.
    const other = await makeTenant(t.db, 'cmd-other');
    for (const n of [1, 2]) await requestDeploy(t.db, other.id, { summary: `other ${n}`, payload: {} });
    const health = await ask('health');
    expect(health.response_type).toBe('ephemeral');
    expect(blockText(health)).toMatch(/Levqor health: (ok|degraded|down)/);
    expect(blockText(health)).toContain('Failure rate');
    expect(blockText(health)).toContain('0 pending approvals');
    const shared = await ask('health --share');
    expect(shared.response_type).toBe('in_channel');
  });

  it('approvals: the pending list with buttons', async () => {
    const a = await requestDeploy(t.db, tenantId, { summary: 'deploy web 42', payload: {} });
    const list = await ask('approvals');
    expect(blockText(list)).toContain('deploy web 42');
    expect(blockText(list)).toContain(`"value":"${a.id}"`);
    expect(blockText(list)).toContain('levqor_approve');
  });

  it('report: the weekly report as mrkdwn blocks', async () => {
    const report = await ask('report');
    const blocks = report.blocks as { type: string }[];
    expect(blocks.length).toBeGreaterThan(1);
    expect(blocks.some((b) => b.type === 'header')).toBe(true);
    expect(blockText(report)).not.toMatch(/\*\*/);
    const badWeek = await ask('report 2025-W99');
    expect(String(badWeek.text)).toMatch(/week/);
  });

  it('run WORKFLOW: runs it; a Class C step waits and is posted; unknown workflows and non-approvers are refused', async () => {
    await makeWorkflow(t.db, tenantId, { name: 'tidy', steps: [{ type: 'log', message: 'tidy up' }], schedule_config: { enabled: false } });
    const ok = await ask('run tidy');
    expect(String(ok.text)).toMatch(/Run of tidy: succeeded/);
    await makeWorkflow(t.db, tenantId, {
      name: 'notify',
      steps: [{ type: 'http', method: 'POST', url: `${target.url}/notify`, body: {} }],
      schedule_config: { enabled: false },
    });
    const held = await ask('run notify');
    expect(String(held.text)).toMatch(/waiting_approval/);
    expect(blockText(held)).toContain('<#CCMDAPPR>');
    await fake.waitFor('chat.postMessage', (m) => m.args.channel === 'CCMDAPPR' && blockText(m.args).includes('notify'));
    expect(target.requests).toHaveLength(0);
    expect(String((await ask('run nope')).text)).toMatch(/workflow "nope" not found/);
    expect(String((await ask('run')).text)).toMatch(/Which workflow/);
    expect(String((await ask('run tidy', 'UINTERN')).text)).toMatch(/only this tenant's approvers/);
  });

  it("an org-wide install answers commands from the org's workspaces, and only from them", async () => {
    const org = `EORG${process.pid}`;
    const tenant = await makeTenant(t.db, 'grid');
    await setSlackSettings(t.db, tenant.id, { team_id: org, approvals_channel: 'CGRIDAPPR' });
    const send = async (enterprise: string) => {
      const { respondId } = await sendCommand(bot, fake, { user: 'UGRID', team: 'TGRIDWS1', enterprise, text: 'health' });
      return String((await fake.waitFor('respond', (c) => c.path === `/respond/${respondId}`)).args.text);
    };
    expect(await send(org)).not.toMatch(/not connected|nothing was done/);
    expect(await send('EOTHERORG')).toMatch(/not connected .* levqor slack configure/);
  });

  it('a workspace not connected to a tenant is told how to connect it', async () => {
    const answer = await ask('health', 'UOPS', 'TUNKNOWN');
    expect(String(answer.text)).toMatch(/not connected .* levqor slack configure/);
  });
});

describe('Slack pure parts', () => {
  it('redacts secret keys and credential-shaped values', () => {
    const out = redactPayload({
      password: 'p',
      headers: { Authorization: 'Bearer abc.def', 'X-Api-Key': 'k' },
      note: 'use Bearer eyJhbGciOiJI.eyJzdWIiOiIx.sig please',
      url: 'https://bob:pw@example.com/x',
      list: ['xoxb-1-2-3'],
      ok: 'plain',
    });
    expect(out).toEqual({
      password: '[redacted]',
      headers: { Authorization: '[redacted]', 'X-Api-Key': '[redacted]' },
      note: 'use Bearer [redacted] please',
      url: 'https://bob:[redacted]@example.com/x',
      list: ['[redacted]'],
      ok: 'plain',
    });
    expect(payloadPreview({ big: 'x'.repeat(5000) }).length).toBeLessThanOrEqual(1500);
  });

  it('turns markdown into header and mrkdwn section blocks', () => {
    const blocks = markdownToBlocks(
      '# Weekly report\n\nSome **bold** and [a link](https://x.test).\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- item *one*\n',
    );
    expect(blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Weekly report' } });
    const text = JSON.stringify(blocks);
    expect(text).toContain('Some *bold* and <https://x.test|a link>.');
    expect(text).toContain('```a  b\\n1  2```');
    expect(text).toContain('• item _one_');
  });

  it('parses /levqor text', () => {
    expect(parseCommandText('  RUN nightly --share ')).toEqual({ sub: 'run', args: ['nightly'], share: true });
    expect(parseCommandText('')).toEqual({ sub: 'help', args: [], share: false });
  });
});

describe('levqor bot and levqor slack (CLI)', () => {
  it('refuses to start without the signing secret and bot token, naming them', async () => {
    const r = await runCli(['bot'], { env: { SLACK_SIGNING_SECRET: undefined, SLACK_BOT_TOKEN: undefined } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SLACK_SIGNING_SECRET');
    expect(r.stderr).toContain('SLACK_BOT_TOKEN');
    const half = await runCli(['bot'], { env: { SLACK_SIGNING_SECRET: 's', SLACK_BOT_TOKEN: undefined } });
    expect(half.code).toBe(2);
    expect(half.stderr).toContain('SLACK_BOT_TOKEN');
    expect(half.stderr).not.toContain('SLACK_SIGNING_SECRET (');
  });

  it("configures and shows a tenant's Slack settings; bad ids are refused", async () => {
    const t = await openPgTestDb();
    try {
      const env = { DATABASE_URL: t.url };
      expect((await runCli(['tenant', 'create', 'acme'], { env })).code).toBe(0);
      const bad = await runCli(['slack', 'configure', '--team', 'acme', '--approvals-channel', '#approvals'], { env });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/team: "acme" is not a Slack workspace id/);
      expect(bad.stderr).toMatch(/approvals-channel: "#approvals" is not a Slack channel id/);
      const ok = await runCli(
        ['slack', 'configure', '--team', 'T0ACME', '--approvals-channel', 'C0APPR', '--internal-channels', 'C0OPS,C0DEV'],
        { env },
      );
      expect(ok.code).toBe(0);
      expect(ok.stdout).toContain('connected to Slack workspace T0ACME');
      const more = await runCli(
        ['slack', 'configure', '--team', 'T0ACME', '--approvals-channel', 'C0APPR2', '--alerts-channel', 'C0ALERT'],
        { env },
      );
      expect(more.code).toBe(0);
      const show = await runCli(['slack', 'show', '--json'], { env });
      expect(JSON.parse(show.stdout)).toEqual([
        expect.objectContaining({
          tenant: 'acme',
          team: 'T0ACME',
          approvals_channel: 'C0APPR2',
          alerts_channel: 'C0ALERT',
          internal_channels: 'C0OPS,C0DEV',
        }),
      ]);
    } finally {
      await t.close();
    }
  });
});
