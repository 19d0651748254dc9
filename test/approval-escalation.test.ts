import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningBot } from '../bot/app.js';
import { getApproval, listRoutes, setPolicy } from '../src/approvals/queries.js';
import { parseDuration, parseRoute, setRoute } from '../src/approvals/routes.js';
import { decideApproval, escalateApprovals, remindApprovals } from '../src/approvals/service.js';
import { DEFAULT_POLICY, type ApprovalRow } from '../src/approvals/types.js';
import { setSlackSettings } from '../src/slack/settings.js';
import { requestDeploy } from './helpers/api.js';
import { runCli } from './helpers/cli.js';
import { BACKENDS, openPgTestDb, useTestDb, type TestDb } from './helpers/db.js';
import { makeTenant } from './helpers/fixtures.js';
import { pollUntil } from './helpers/proc.js';
import { blockText, startFakeSlack, startTestBot, type FakeSlack } from './helpers/slack.js';

// Escalation routes and scheduled reminders, driven by the database and an injected clock:
// stages open once their waits pass, reminders go out on their schedule (a late sweep sends
// one, stating the real time left), each once across replicas, and Slack hears of both.

const ROUTE = {
  actionType: 'deploy',
  stages: ['oncall=slack:UONCALL,group:sre', 'manager=slack:UMGR@15m', 'director=slack:UDIR@45m'],
  remindEvery: '30m',
  remindAt: '80',
};

async function eventsOf(db: TestDb['db'], id: string, type: string): Promise<Record<string, unknown>[]> {
  const { rows } = await db.query<{ payload: Record<string, unknown> }>(
    'SELECT payload FROM approval_events WHERE approval_id = $1 AND type = $2 ORDER BY id',
    [id, type],
  );
  return rows.map((r) => r.payload);
}

describe('route parsing', () => {
  it('reads durations and stages, naming every problem', () => {
    expect([parseDuration('90s'), parseDuration('15m'), parseDuration('2h'), parseDuration('1d'), parseDuration('20')]).toEqual([
      90, 900, 7200, 86_400, 1200,
    ]);
    expect(parseDuration('soon')).toBeUndefined();
    const route = parseRoute(ROUTE, 'cli:ops');
    expect(route.stages.map((s) => [s.name, s.after_seconds])).toEqual([
      ['oncall', 0],
      ['manager', 900],
      ['director', 2700],
    ]);
    expect(route).toMatchObject({ remind_every_seconds: 1800, remind_at_fraction: 0.8 });
    expect(() =>
      parseRoute(
        { actionType: 'Deploy!', stages: ['oncall=slack:U1@5m', 'late=nobody@1m', 'x'], remindEvery: '10s', remindAt: '120' },
        'cli:x',
      ),
    ).toThrow(
      /--action-type "Deploy!".*--stage 2 "late=nobody@1m": "nobody" is not an identity.*--stage 3 "x": expected NAME=.*--stage 1 "oncall": the first stage is eligible at once.*--remind-every "10s".*--remind-at "120"/,
    );
  });
});

describe.each(BACKENDS)('escalation and reminders on $name', ({ open }) => {
  const t = useTestDb(open);

  async function routedRequest(label: string) {
    const tenant = await makeTenant(t.db, label);
    await setPolicy(t.db, tenant.id, { ...DEFAULT_POLICY, groups: { sre: ['slack:USRE1', 'cli:sam'] }, ttl_seconds: 7200 }, 'test');
    await t.db.transaction((tx) => setRoute(tx, tenant.id, parseRoute(ROUTE, 'cli:ops')));
    const a = await requestDeploy(t.db, tenant.id, { summary: `deploy ${label}` });
    return { tenant, a };
  }

  it('opens stages when their waits pass, once, and lets only open stages decide', async () => {
    const { tenant, a } = await routedRequest('esc');
    expect(a.route?.stages.map((s) => s.name)).toEqual(['oncall', 'manager', 'director']);
    expect(a.stage).toBe(1);
    // The route changes later; the waiting request keeps the snapshot it was made under.
    await t.db.transaction((tx) => setRoute(tx, tenant.id, parseRoute({ ...ROUTE, stages: ['only=slack:UOTHER'] }, 'cli:ops')));
    expect((await listRoutes(t.db, tenant.id))[0]?.stages).toHaveLength(1);

    const early = decideApproval(t.db, { id: a.id, tenantId: tenant.id, decision: 'approve', actor: 'slack:UMGR', channel: 'slack' });
    await expect(early).rejects.toThrow(
      "slack:UMGR is in stage manager of this request's route, which opens 15 min after the request (open now: oncall)",
    );
    await expect(
      decideApproval(t.db, { id: a.id, tenantId: tenant.id, decision: 'approve', actor: 'slack:UOTHER', channel: 'slack' }),
    ).rejects.toThrow(/is not an approver on this request's route/);

    const mine = (rows: ApprovalRow[]) => rows.filter((r) => r.id === a.id);
    expect(mine(await escalateApprovals(t.db, a.requested_at + 14 * 60))).toEqual([]);
    expect(mine(await escalateApprovals(t.db, a.requested_at + 16 * 60)).map((r) => r.stage)).toEqual([2]);
    expect(mine(await escalateApprovals(t.db, a.requested_at + 17 * 60))).toEqual([]);
    expect(await eventsOf(t.db, a.id, 'escalated')).toEqual([
      { stage: 2, stages: ['manager'], approvers: ['slack:UMGR'], summary: `deploy esc` },
    ]);
    // A sweep after a long pause opens everything due at once, in one event.
    expect(mine(await escalateApprovals(t.db, a.requested_at + 50 * 60)).map((r) => r.stage)).toEqual([3]);
    expect((await eventsOf(t.db, a.id, 'escalated')).map((e) => e.stages)).toEqual([['manager'], ['director']]);

    // Earlier stages stay eligible; a group member of stage 1 decides.
    const decided = await decideApproval(t.db, { id: a.id, tenantId: tenant.id, decision: 'approve', actor: 'cli:sam', channel: 'cli' });
    expect(decided.approval.status).toBe('approved');
    expect(mine(await escalateApprovals(t.db, a.requested_at + 60 * 60))).toEqual([]);
  });

  it('reminds on the route schedule; a late sweep sends one reminder with the real time left', async () => {
    const { a } = await routedRequest('remind');
    const at = (minutes: number) => a.requested_at + minutes * 60;
    const sent = async (minutes: number) =>
      (await remindApprovals(t.db, at(minutes))).filter((r) => r.id === a.id).map((r) => r.reminders_sent);
    expect(await sent(29)).toEqual([]);
    expect(await sent(31)).toEqual([1]);
    expect(await sent(35)).toEqual([]);
    // Missed 60 min: one reminder at 95, not two.
    expect(await sent(95)).toEqual([2]);
    // 80 % of two hours is minute 96.
    expect(await sent(97)).toEqual([3]);
    expect(await sent(100)).toEqual([]);
    const events = await eventsOf(t.db, a.id, 'reminder');
    expect(events.map((e) => [e.n, e.remaining_seconds])).toEqual([
      [1, 7200 - 31 * 60],
      [2, 7200 - 95 * 60],
      [3, 7200 - 97 * 60],
    ]);
    expect((await getApproval(t.db, a.id))?.reminded_at).toBeCloseTo(at(97), 3);
  });

  it('a request without a route keeps the one reminder at 80 %', async () => {
    const tenant = await makeTenant(t.db, 'plain');
    const a = await requestDeploy(t.db, tenant.id);
    const life = a.expires_at - a.requested_at;
    const sent = async (f: number) => (await remindApprovals(t.db, a.requested_at + f * life)).filter((r) => r.id === a.id).length;
    expect([await sent(0.7), await sent(0.81), await sent(0.9)]).toEqual([0, 1, 0]);
    expect(a.route).toBeNull();
  });
});

describe('two replicas sweeping at once (Postgres)', () => {
  const t = useTestDb(() => openPgTestDb({ poolMax: 6 }));

  it('escalate and remind each request once', async () => {
    const tenant = await makeTenant(t.db, 'race');
    await t.db.transaction((tx) => setRoute(tx, tenant.id, parseRoute({ ...ROUTE, actionType: '*' }, 'cli:ops')));
    const requests = await Promise.all(Array.from({ length: 20 }, (_, i) => requestDeploy(t.db, tenant.id, { summary: `race ${i}` })));
    const now = Math.max(...requests.map((r) => r.requested_at)) + 31 * 60;
    const ids = new Set(requests.map((r) => r.id));
    const escalated = (await Promise.all(Array.from({ length: 4 }, () => escalateApprovals(t.db, now))))
      .flat()
      .filter((r) => ids.has(r.id));
    const reminded = (await Promise.all(Array.from({ length: 4 }, () => remindApprovals(t.db, now)))).flat().filter((r) => ids.has(r.id));
    expect(escalated.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(reminded.map((r) => r.id).sort()).toEqual([...ids].sort());
    const { rows } = await t.db.query<{ type: string; n: string }>(
      "SELECT type, count(*) AS n FROM approval_events WHERE approval_id = ANY($1) AND type IN ('escalated', 'reminder') GROUP BY type ORDER BY type",
      [[...ids]],
    );
    expect(rows.map((r) => [r.type, Number(r.n)])).toEqual([
      ['escalated', 20],
      ['reminder', 20],
    ]);
  });

  it('levqor approvals route set, show and rm', async () => {
    const tenant = await makeTenant(t.db, 'route-cli');
    const env = { env: { DATABASE_URL: t.url as string } };
    const set = await runCli(
      [
        'approvals',
        'route',
        'set',
        '--tenant',
        tenant.name,
        '--stage',
        'oncall=slack:U1',
        '--stage',
        'lead=slack:U2@20m',
        '--remind-every',
        '15m',
      ],
      env,
    );
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({
      action_type: '*',
      remind_every_seconds: 900,
      stages: [{ name: 'oncall' }, { name: 'lead', after_seconds: 1200 }],
    });
    const bad = await runCli(['approvals', 'route', 'set', '--tenant', tenant.name, '--stage', 'lead=slack:U2@20m'], env);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('the first stage is eligible at once');
    const shown = await runCli(['approvals', 'route', 'show', '--tenant', tenant.name], env);
    expect((JSON.parse(shown.stdout) as { routes: unknown[] }).routes).toHaveLength(1);
    expect((await runCli(['approvals', 'route', 'rm', '--tenant', tenant.name], env)).code).toBe(0);
    const again = await runCli(['approvals', 'route', 'rm', '--tenant', tenant.name], env);
    expect(again.stderr).toContain('has no route for action type *');
  });
});

describe('Slack hears escalations and reminders', () => {
  let t: TestDb;
  let fake: FakeSlack;
  let bot: RunningBot;
  beforeAll(async () => {
    t = await openPgTestDb();
    fake = await startFakeSlack();
    bot = await startTestBot(t.db, fake);
  });
  afterAll(async () => {
    await bot.stop();
    await fake.close();
    await t.close();
  });

  it('replies in the thread and DMs the newly eligible stage, then every eligible approver for a reminder, once each', async () => {
    const tenant = await makeTenant(t.db, 'slack-esc');
    const channel = `CESC${process.pid}`;
    await setSlackSettings(t.db, tenant.id, { team_id: `TESC${process.pid}`, approvals_channel: channel });
    await setPolicy(t.db, tenant.id, { ...DEFAULT_POLICY, groups: { sre: ['slack:USRE1'] } }, 'test');
    await t.db.transaction((tx) => setRoute(tx, tenant.id, parseRoute(ROUTE, 'cli:ops')));
    const a = await requestDeploy(t.db, tenant.id, { summary: 'deploy slack-esc' });
    await fake.waitFor('chat.postMessage', (m) => m.args.channel === channel && blockText(m.args).includes(a.id));
    // Posted once the posting transaction commits (until then a sweep skips the locked row).
    const ts = await pollUntil(
      async () =>
        (await t.db.query<{ slack_ts: string | null }>('SELECT slack_ts FROM approval_queue WHERE id = $1', [a.id])).rows[0]?.slack_ts ??
        undefined,
      { what: 'the approval message recorded' },
    );
    const seen = () =>
      JSON.stringify(fake.of('chat.postMessage').map((m) => [m.args.channel, m.args.thread_ts, String(m.args.text).slice(0, 50)]));
    expect((await escalateApprovals(t.db, a.requested_at + 16 * 60)).map((r) => r.id)).toContain(a.id);
    const escalation = await fake
      .waitFor('chat.postMessage', (m) => m.args.thread_ts === ts && String(m.args.text).includes('escalated'))
      .catch((e: Error) => {
        throw new Error(`${e.message} ${seen()} ts=${ts}`);
      });
    expect(String(escalation.args.text)).toBe('⬆️ No decision yet on deploy slack-esc: escalated to manager. <@UMGR> can now decide.');
    const dm = await fake.waitFor('chat.postMessage', (m) => m.args.channel === 'UMGR');
    expect(String(dm.args.text)).toContain('escalated to manager');

    // The sync holds the request's row until it commits (a sweep then skips it, SKIP LOCKED): wait for the commit.
    await pollUntil(
      async () =>
        (await t.db.query<{ slack_stage: number }>('SELECT slack_stage FROM approval_queue WHERE id = $1', [a.id])).rows[0]?.slack_stage ===
          2 || undefined,
      { what: 'the escalation recorded as announced' },
    );
    expect((await remindApprovals(t.db, a.requested_at + 31 * 60)).map((r) => r.id)).toContain(a.id);
    const reminder = await fake.waitFor('chat.postMessage', (m) => m.args.thread_ts === ts && String(m.args.text).startsWith('⏰'));
    expect(String(reminder.args.text)).toMatch(/^⏰ Reminder: still waiting for a decision on deploy slack-esc: /);
    expect(String(reminder.args.text)).toContain('<@UONCALL> <@USRE1> <@UMGR>');
    for (const user of ['UONCALL', 'USRE1', 'UMGR'])
      await fake.waitFor('chat.postMessage', (m) => m.args.channel === user && String(m.args.text).startsWith('⏰'));

    // Announced once: the request's counters say so, whatever else the bot syncs.
    // (The DMs go out before the sync's transaction commits the counters: wait for the commit.)
    const counters = await pollUntil(
      async () => {
        const { rows } = await t.db.query<{ slack_stage: number; slack_reminders: number }>(
          'SELECT slack_stage, slack_reminders FROM approval_queue WHERE id = $1',
          [a.id],
        );
        return rows[0]?.slack_reminders === 1 ? rows[0] : undefined;
      },
      { what: 'the reminder recorded as announced' },
    );
    expect(counters).toEqual({ slack_stage: 2, slack_reminders: 1 });
    await decideApproval(t.db, {
      id: a.id,
      tenantId: tenant.id,
      decision: 'reject',
      actor: 'slack:UONCALL',
      channel: 'slack',
      reason: 'no',
    });
    await fake.waitFor('chat.update', (m) => m.args.ts === ts);
    const inThread = fake.of('chat.postMessage').filter((m) => m.args.thread_ts === ts);
    expect(
      inThread.map((m) =>
        String(m.args.text).startsWith('⏰') ? 'reminder' : String(m.args.text).startsWith('⬆️') ? 'escalation' : 'other',
      ),
    ).toEqual(['escalation', 'reminder']);
    expect(fake.of('chat.postMessage').filter((m) => m.args.channel === 'UMGR')).toHaveLength(2);
  });
});
