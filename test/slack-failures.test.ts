// Slack posts that fail: approval messages and scheduled posts back off instead of being tried
// on every sweep, a refusal no retry can change is recorded with Slack's code and logged as an
// error, `levqor slack configure` makes them try again at once, `levqor slack show` lists them.
import { capturingLog } from './helpers/deps.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestDeploy } from './helpers/api.js';
import { createSlackClient } from '../src/slack/client.js';
import { slackRetryDelay } from '../src/slack/errors.js';
import { approvalsNeedingSync, slackFailures } from '../src/slack/queries.js';
import { sweepScheduledPosts, type ScheduledPostDeps } from '../src/slack/scheduled.js';
import { setSlackSettings } from '../src/slack/settings.js';
import { syncApproval } from '../src/slack/sync.js';
import { runCli } from './helpers/cli.js';
import { BACKENDS, useTestDb } from './helpers/db.js';
import { makeTenant } from './helpers/fixtures.js';
import { BOT_TOKEN, startFakeSlack, type FakeSlack } from './helpers/slack.js';

/** A logger that keeps what it writes: level and message of each line. */
/** An error shaped as @slack/web-api throws it for `{ ok: false, error: code }`. */
function slackRefusal(code: string): Error {
  return Object.assign(new Error(`An API error occurred: ${code}`), {
    code: 'slack_webapi_platform_error',
    data: { ok: false, error: code },
  });
}

let teams = 0;

describe('slackRetryDelay (pure)', () => {
  it('doubles from 30 s to at most 30 min; a permanent refusal waits 30 min at once', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => slackRetryDelay(n, false))).toEqual([30, 60, 120, 240, 480, 960, 1800, 1800, 1800]);
    expect(slackRetryDelay(1, true)).toBe(1800);
  });
});

describe.each(BACKENDS)('failing Slack posts on $name', ({ open }) => {
  const t = useTestDb(open);
  let fake: FakeSlack;
  beforeAll(async () => {
    fake = await startFakeSlack();
  });
  afterAll(() => fake.close());

  /** A connected tenant; only the scheduled-posts test gives it a reports channel (every sweep posts for every tenant). */
  async function connected(channel: string, reports = false) {
    const tenant = await makeTenant(t.db, 'slackfail');
    const team = `TFAIL${++teams}X${process.pid}`;
    await setSlackSettings(t.db, tenant.id, {
      team_id: team,
      approvals_channel: channel,
      reports_channel: reports ? `CREP${teams}` : null,
    });
    return { tenant, team };
  }

  const row = async (id: string) =>
    (
      await t.db.query<{ slack_ts: string | null; slack_error: string | null; slack_attempts: number; wait: number | null }>(
        'SELECT slack_ts, slack_error, slack_attempts, slack_retry_at - extract(epoch FROM now()) AS wait FROM approval_queue WHERE id = $1',
        [id],
      )
    ).rows[0];

  it('a refused approval message is recorded, logged as an error and left alone until slack configure changes the channel', async () => {
    const channel = `CGONE${++teams}`;
    fake.refusals.set(channel, 'channel_not_found');
    const { tenant, team } = await connected(channel);
    const a = await requestDeploy(t.db, tenant.id, { summary: 'ship it', payload: { v: 1 } });
    const { log, lines } = capturingLog();
    const deps = { db: t.db, slack: createSlackClient({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_API_URL: fake.apiUrl }), log };

    const first = await syncApproval(deps, a.id);
    expect(first).toMatchObject({ posted: false, failed: { error: 'channel_not_found', permanent: true, retry_in: 1800 } });
    const after = await row(a.id);
    expect(after).toMatchObject({ slack_ts: null, slack_error: 'channel_not_found', slack_attempts: 1 });
    expect(after?.wait).toBeGreaterThan(1700);
    expect(lines.filter((l) => l.level === 50).map((l) => l.msg)).toEqual([
      expect.stringContaining('Slack refused the approval message') as string,
    ]);
    // The sweep does not pick it up while it backs off.
    expect(await approvalsNeedingSync(t.db, 1000)).not.toContain(a.id);
    expect(await slackFailures(t.db, [tenant.id])).toEqual([
      expect.objectContaining({ post: `approval ${a.id}`, channel, error: 'channel_not_found', attempts: 1 }),
    ]);

    // The operator points the approvals at a channel the bot is in: tried again at once, and posted.
    const fixed = `COK${teams}`;
    await setSlackSettings(t.db, tenant.id, { team_id: team, approvals_channel: fixed });
    expect(await approvalsNeedingSync(t.db, 1000)).toContain(a.id);
    expect(await syncApproval(deps, a.id)).toMatchObject({ posted: true });
    expect(await row(a.id)).toMatchObject({ slack_error: null, slack_attempts: 0, wait: null });
    expect(fake.of('chat.postMessage').filter((c) => c.args.channel === fixed)).toHaveLength(1);
    expect(fake.of('chat.postMessage').filter((c) => c.args.channel === channel)).toHaveLength(1);
    expect(await slackFailures(t.db, [tenant.id])).toEqual([]);
  });

  it('a transient failure backs off 30 s, then 60 s, and a later success clears it', async () => {
    const channel = `CFLAKY${++teams}`;
    fake.refusals.set(channel, 'internal_error');
    const { tenant } = await connected(channel);
    const a = await requestDeploy(t.db, tenant.id, { summary: 'flaky', payload: { v: 2 } });
    const deps = {
      db: t.db,
      slack: createSlackClient({ SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_API_URL: fake.apiUrl }),
      log: capturingLog().log,
    };

    expect(await syncApproval(deps, a.id)).toMatchObject({ failed: { error: 'internal_error', permanent: false, retry_in: 30 } });
    expect(await approvalsNeedingSync(t.db, 1000)).not.toContain(a.id);
    // The back-off is over (moved into the past rather than waited for).
    await t.db.query('UPDATE approval_queue SET slack_retry_at = extract(epoch FROM now()) - 1 WHERE id = $1', [a.id]);
    expect(await approvalsNeedingSync(t.db, 1000)).toContain(a.id);
    expect(await syncApproval(deps, a.id)).toMatchObject({ failed: { retry_in: 60 } });
    expect(await row(a.id)).toMatchObject({ slack_attempts: 2, slack_error: 'internal_error' });

    fake.refusals.delete(channel);
    await t.db.query('UPDATE approval_queue SET slack_retry_at = extract(epoch FROM now()) - 1 WHERE id = $1', [a.id]);
    expect(await syncApproval(deps, a.id)).toMatchObject({ posted: true });
    expect(await row(a.id)).toMatchObject({ slack_error: null, slack_attempts: 0 });
  });

  it('scheduled posts: a transient failure is retried after its back-off, a refusal not until slack configure', async () => {
    const { tenant, team } = await connected(`CAPP${++teams}`, true);
    const now = Date.parse('2026-11-23T09:05:00Z') / 1000; // Monday: the weekly report and the health summary are due
    const posts: string[] = [];
    let failWith: Error | null = new Error('socket hang up');
    const { log, lines } = capturingLog();
    const deps = (at: number): ScheduledPostDeps => ({
      db: t.db,
      owner: 'bot-a',
      log,
      processStartedAt: at - 600,
      now: () => at,
      thresholds: { schedulerIntervalSeconds: 60, pendingApprovalsHigh: 1000, minRunsForRate: 20 },
      post: (channel, message) => {
        if (failWith) return Promise.reject(failWith);
        posts.push(`${channel} ${message.text}`);
        return Promise.resolve(`${posts.length}.0001`);
      },
    });
    const state = async () =>
      (
        await t.db.query<{ kind: string; status: string; attempts: number; error: string | null; wait: number | null }>(
          'SELECT kind, status, attempts, error, retry_at - $2::float8 AS wait FROM slack_posts WHERE tenant_id = $1 ORDER BY kind',
          [tenant.id, now],
        )
      ).rows;

    expect(await sweepScheduledPosts(deps(now))).toBe(0);
    expect(await state()).toEqual([
      { kind: 'health_summary', status: 'retry', attempts: 1, error: 'socket hang up', wait: 30 },
      { kind: 'weekly_report', status: 'retry', attempts: 1, error: 'socket hang up', wait: 30 },
    ]);
    // Within the back-off: nothing is tried. After it: tried again, failing again doubles it.
    failWith = slackRefusal('ratelimited_elsewhere');
    expect(await sweepScheduledPosts(deps(now + 29))).toBe(0);
    expect((await state()).map((s) => s.attempts)).toEqual([1, 1]);
    expect(await sweepScheduledPosts(deps(now + 30))).toBe(0);
    expect((await state()).map((s) => [s.attempts, s.wait])).toEqual([
      [2, 90],
      [2, 90],
    ]);

    // Slack refuses for good: recorded as failed, logged as an error, not tried again.
    failWith = slackRefusal('not_in_channel');
    expect(await sweepScheduledPosts(deps(now + 90))).toBe(0);
    expect(await state()).toEqual([
      { kind: 'health_summary', status: 'failed', attempts: 3, error: 'not_in_channel', wait: null },
      { kind: 'weekly_report', status: 'failed', attempts: 3, error: 'not_in_channel', wait: null },
    ]);
    expect(lines.filter((l) => l.level === 50).map((l) => l.msg)).toEqual([
      expect.stringContaining('Slack refused the scheduled post'),
      expect.stringContaining('Slack refused the scheduled post'),
    ]);
    failWith = null;
    expect(await sweepScheduledPosts(deps(now + 3600))).toBe(0);
    expect(posts).toEqual([]);

    // `levqor slack show` (Postgres: a child process reads the same database) lists them with the reason.
    if (t.url) {
      const show = await runCli(['slack', 'show'], { env: { DATABASE_URL: t.url } });
      expect(show.code).toBe(0);
      expect(show.stdout).toContain('failing Slack posts');
      expect(show.stdout).toMatch(/weekly_report 2026-W47\s+CREP\d+\s+not_in_channel\s+3\s+after levqor slack configure/);
      const json = JSON.parse((await runCli(['slack', 'show', '--json'], { env: { DATABASE_URL: t.url } })).stdout) as {
        tenant: string;
        failing: unknown[];
      }[];
      expect(json.find((r) => r.tenant === tenant.name)?.failing).toHaveLength(2);
    }

    // The operator invites the bot and runs slack configure: both go out at the next sweep, once.
    await setSlackSettings(t.db, tenant.id, { team_id: team, approvals_channel: `CAPP${teams}` });
    expect(await sweepScheduledPosts(deps(now + 3700))).toBe(2);
    expect(await sweepScheduledPosts(deps(now + 3800))).toBe(0);
    expect(posts).toEqual([expect.stringContaining('weekly report, 2026-W47'), expect.stringContaining('Levqor health')]);
    expect((await state()).map((s) => [s.status, s.error])).toEqual([
      ['posted', null],
      ['posted', null],
    ]);
  });
});

describe('levqor doctor approvals: requests missing in Slack (Postgres, CLI process)', () => {
  const t = useTestDb();

  const doctorLine = async (tenant: string) => {
    const r = await runCli(['doctor', 'approvals', '--tenant', tenant, '--url', 'http://127.0.0.1:1'], { env: { DATABASE_URL: t.url } });
    return r.stdout.split('\n').find((l) => l.includes('posted to Slack')) ?? r.stdout + r.stderr;
  };

  it("names failing posts with Slack's reason, and requests a bot never posted; passes once they are posted", async () => {
    const tenant = await makeTenant(t.db, 'doctor');
    expect(await doctorLine(tenant.name)).toMatch(/✓ posted to Slack: no tenant is connected to Slack/);
    await setSlackSettings(t.db, tenant.id, { team_id: `TDOC${process.pid}`, approvals_channel: 'CDOCAPPR' });
    const failing = await requestDeploy(t.db, tenant.id, { summary: 'a', payload: { v: 1 } });
    const unposted = await requestDeploy(t.db, tenant.id, { summary: 'b', payload: { v: 2 } });
    await t.db.query(
      `UPDATE approval_queue SET slack_error = 'not_in_channel', slack_attempts = 1, slack_retry_at = extract(epoch FROM now()) + 1800 WHERE id = $1`,
      [failing.id],
    );
    // A fresh request is not late yet: the bot has a minute to post it.
    expect(await doctorLine(tenant.name)).toMatch(
      /✗ posted to Slack: of 2 pending Class C requests of Slack-connected tenants, 1 could not be posted: not_in_channel \(levqor slack show/,
    );
    await t.db.query('UPDATE approval_queue SET requested_at = requested_at - 120 WHERE id = $1', [unposted.id]);
    expect(await doctorLine(tenant.name)).toMatch(
      /1 could not be posted: not_in_channel .*; 1 not posted a minute after the request: is `levqor bot` running/,
    );
    await t.db.query(
      `UPDATE approval_queue SET slack_ts = '1.0001', slack_channel = 'CDOCAPPR', slack_error = NULL, slack_retry_at = NULL WHERE tenant_id = $1`,
      [tenant.id],
    );
    expect(await doctorLine(tenant.name)).toMatch(
      /✓ posted to Slack: 2 pending Class C requests of Slack-connected tenants, none missing in Slack/,
    );
  });
});
