import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listApprovals } from '../src/approvals/queries.js';
import { decideApproval } from '../src/approvals/service.js';
import { getRun } from '../src/runs/queries.js';
import { runQueuedNow } from '../src/scheduler/manual.js';
import { runTick } from '../src/scheduler/tick.js';
import { createSlackClient } from '../src/slack/client.js';
import { slackPoster } from '../src/slack/poster.js';
import { setSlackSettings } from '../src/slack/settings.js';
import { workflowSchema } from '../src/workflows/schema.js';
import { BACKENDS, useTestDb } from './helpers/db.js';
import { testSchedulerDeps } from './helpers/deps.js';
import { makeTenant, makeWorkflow } from './helpers/fixtures.js';
import { BOT_TOKEN, startFakeSlack, type FakeSlack } from './helpers/slack.js';

// The slack_message step: Class C (it leaves the team), Class B for the tenant's internal
// channels; posted through the Web API exactly once.

describe.each(BACKENDS)('slack_message steps on $name', ({ open }) => {
  const t = useTestDb(open);
  let slack: FakeSlack;
  beforeAll(async () => {
    slack = await startFakeSlack();
  });
  afterAll(() => slack.close());

  function deps() {
    const base = testSchedulerDeps(t.db);
    const client = createSlackClient({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_API_URL: slack.apiUrl });
    return { ...base, services: { ...base.services, slack: slackPoster(() => Promise.resolve(client)) } };
  }

  async function tenantWithSlack(internal: string[]) {
    const tenant = await makeTenant(t.db);
    await setSlackSettings(t.db, tenant.id, {
      team_id: `T${tenant.id.replace(/-/g, '').slice(0, 10).toUpperCase()}`,
      approvals_channel: 'CAPPROVALS',
      internal_channels: internal,
    });
    return tenant;
  }

  const posts = (text: string) => slack.of('chat.postMessage').filter((c) => c.args.text === text);

  it('to a channel outside the internal list: waits for approval, then posts exactly once', async () => {
    const tenant = await tenantWithSlack(['CTEAM']);
    await makeWorkflow(t.db, tenant.id, {
      name: 'announce',
      steps: [{ type: 'slack_message', name: 'post', channel: 'CPARTNERS', text: 'Release 1.2 is out' }],
      schedule_config: { enabled: true, interval_minutes: 60 },
    });
    const d = deps();
    await runTick(d);
    const [approval] = await listApprovals(t.db, tenant.id, 'pending', 10);
    expect(approval).toMatchObject({
      action_type: 'slack_message',
      impact_class: 'C',
      summary: 'announce: Slack message to CPARTNERS: "Release 1.2 is out"',
    });
    expect(approval?.payload).toMatchObject({ channel: 'CPARTNERS', text: 'Release 1.2 is out' });
    expect(posts('Release 1.2 is out')).toHaveLength(0);

    await decideApproval(t.db, { id: approval?.id ?? '', decision: 'approve', actor: 'test:alice', channel: 'api' });
    const runId = approval?.run_id ?? '';
    const [a, b] = await Promise.all([runQueuedNow(d, runId), runQueuedNow(deps(), runId)]);
    expect([a.outcome, b.outcome].filter(Boolean)).toHaveLength(1);
    expect(posts('Release 1.2 is out').map((c) => c.args.channel)).toEqual(['CPARTNERS']);
    const run = await getRun(t.db, runId);
    expect(run).toMatchObject({ status: 'succeeded' });
    expect(run?.context.steps?.post).toMatchObject({ channel: 'CPARTNERS', ts: expect.stringMatching(/^\d+\.\d+$/) as string });
  });

  it('to an internal channel: Class B, posted at once and written to audit_log', async () => {
    const tenant = await tenantWithSlack(['CTEAM']);
    const wf = await makeWorkflow(t.db, tenant.id, {
      name: 'standup',
      steps: [{ type: 'slack_message', channel: 'CTEAM', text: 'Stand-up in 5 minutes' }],
      schedule_config: { enabled: true, interval_minutes: 60 },
    });
    const summary = await runTick(deps());
    expect(summary.succeeded).toBeGreaterThanOrEqual(1);
    expect(posts('Stand-up in 5 minutes').map((c) => c.args.channel)).toEqual(['CTEAM']);
    expect(await listApprovals(t.db, tenant.id, 'pending', 10)).toEqual([]);
    const audit = await t.db.query<{ action: string }>('SELECT action FROM audit_log WHERE tenant_id = $1 AND subject = $2', [
      tenant.id,
      `workflow:${wf.id}`,
    ]);
    expect(audit.rows.map((r) => r.action)).toEqual(['step.slack_message']);
  });

  it('an internal channel with impact_class C on the step still waits: nothing lowers a class', async () => {
    const tenant = await tenantWithSlack(['CTEAM']);
    await makeWorkflow(t.db, tenant.id, {
      name: 'raised',
      steps: [{ type: 'slack_message', channel: 'CTEAM', text: 'raised to C', impact_class: 'C' }],
      schedule_config: { enabled: true, interval_minutes: 60 },
    });
    await runTick(deps());
    const [approval] = await listApprovals(t.db, tenant.id, 'pending', 10);
    expect(approval).toMatchObject({ impact_class: 'C' });
    expect(posts('raised to C')).toHaveLength(0);
  });

  it('without a bot token the approved step fails saying what to set', async () => {
    const tenant = await tenantWithSlack(['CTEAM']);
    await makeWorkflow(t.db, tenant.id, {
      name: 'tokenless',
      steps: [{ type: 'slack_message', channel: 'CTEAM', text: 'no token' }],
      schedule_config: { enabled: true, interval_minutes: 60 },
    });
    const base = testSchedulerDeps(t.db);
    await runTick({ ...base, services: { ...base.services, slack: undefined } });
    const { rows } = await t.db.query<{ status: string; error: string }>(
      'SELECT r.status, r.error FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id WHERE w.tenant_id = $1',
      [tenant.id],
    );
    expect(rows).toEqual([{ status: 'failed', error: expect.stringContaining('SLACK_BOT_TOKEN is not set') as string }]);
  });
});

describe('slack_message step schema', () => {
  it('a channel must be an id, not a name', () => {
    const parsed = workflowSchema.safeParse({ name: 'x', steps: [{ type: 'slack_message', channel: '#general', text: 'hi' }] });
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toContain('a Slack channel id like C0123ABCD');
  });
});
