import { beforeEach, describe, expect, it } from 'vitest';
import type { SlackMessage } from '../src/slack/blocks.js';
import { duePosts, lastSlot, sweepScheduledPosts, type ScheduledPostDeps } from '../src/slack/scheduled.js';
import { setSlackSettings } from '../src/slack/settings.js';
import { BACKENDS, useTestDb } from './helpers/db.js';
import { silentLog } from './helpers/deps.js';
import { makeTenant } from './helpers/fixtures.js';

// Scheduled Slack posts: the weekly report (Monday 09:00 in the tenant's time zone by default),
// a daily health summary, and alert news; each made once however many bots sweep.

const at = (iso: string) => Date.parse(iso) / 1000;

describe('lastSlot and duePosts (pure)', () => {
  const london = {
    tenant_id: 't',
    timezone: 'Europe/London',
    reports_channel: 'CREPORTS',
    alerts_channel: null,
    report_weekday: 1,
    report_time: '09:00',
    health_time: '09:00',
  };

  it('Monday 09:00 London is 09:00 UTC in winter and 08:00 UTC in summer', () => {
    expect(lastSlot('09:00', 'Europe/London', at('2026-11-25T12:00:00Z'), 1)).toBe(at('2026-11-23T09:00:00Z'));
    expect(lastSlot('09:00', 'Europe/London', at('2026-07-08T12:00:00Z'), 1)).toBe(at('2026-07-06T08:00:00Z'));
    // The slot itself counts as reached.
    expect(lastSlot('09:00', 'Europe/London', at('2026-11-23T09:00:00Z'), 1)).toBe(at('2026-11-23T09:00:00Z'));
  });

  it('the weekly report is due from the slot for a day and covers the previous ISO week', () => {
    // A second before: yesterday's summary is past its six hours, last week's report past its day.
    expect(duePosts(london, at('2026-11-23T08:59:59Z'))).toEqual([]);
    const monday = duePosts(london, at('2026-11-23T09:00:00Z'));
    expect(monday).toEqual([
      { tenant_id: 't', kind: 'weekly_report', period: '2026-W47', channel: 'CREPORTS' },
      { tenant_id: 't', kind: 'health_summary', period: '2026-11-23', channel: 'CREPORTS' },
    ]);
    // Tuesday 08:59: still in the day's grace for a bot that was down; 09:01 it is too late.
    expect(duePosts(london, at('2026-11-24T08:59:00Z')).map((p) => p.period)).toEqual(['2026-W47']);
    expect(duePosts(london, at('2026-11-24T09:01:00Z')).map((p) => p.period)).toEqual(['2026-11-24']);
  });

  it('the daily summary goes out up to six hours late, then waits for the next day', () => {
    expect(duePosts({ ...london, report_time: null }, at('2026-11-28T14:59:00Z'))).toEqual([
      { tenant_id: 't', kind: 'health_summary', period: '2026-11-28', channel: 'CREPORTS' },
    ]);
    expect(duePosts({ ...london, report_time: null }, at('2026-11-28T15:01:00Z'))).toEqual([]);
  });

  it('local dates and weeks follow the time zone: Sunday 23:30 UTC is Monday in Tokyo', () => {
    const tokyo = { ...london, timezone: 'Asia/Tokyo' };
    const due = duePosts(tokyo, at('2026-11-23T00:30:00Z')); // Monday 09:30 in Tokyo
    expect(due.map((p) => [p.kind, p.period])).toEqual([
      ['weekly_report', '2026-W47'],
      ['health_summary', '2026-11-23'],
    ]);
  });

  it('no reports channel, or both times off: nothing is due', () => {
    expect(duePosts({ ...london, reports_channel: null }, at('2026-11-23T09:00:00Z'))).toEqual([]);
    expect(duePosts({ ...london, report_time: null, health_time: null }, at('2026-11-23T09:00:00Z'))).toEqual([]);
  });
});

describe.each(BACKENDS)('sweepScheduledPosts on $name', ({ open }) => {
  const t = useTestDb(open);
  beforeEach(async () => {
    await t.db.exec('DELETE FROM slack_posts; DELETE FROM slack_settings; DELETE FROM alerts');
  });

  function deps(posts: { channel: string; message: SlackMessage }[], now: number, owner = 'bot-a', fail = false): ScheduledPostDeps {
    return {
      db: t.db,
      owner,
      log: silentLog,
      processStartedAt: now - 600,
      now: () => now,
      thresholds: { schedulerIntervalSeconds: 60, pendingApprovalsHigh: 10, minRunsForRate: 20 },
      post: (channel, message) => {
        if (fail) return Promise.reject(new Error('slack is down'));
        posts.push({ channel, message });
        return Promise.resolve(`${posts.length}.0001`);
      },
    };
  }

  it('posts the weekly report and the health summary once, and a failed post is retried by a sweep after its back-off', async () => {
    const tenant = await makeTenant(t.db);
    await setSlackSettings(t.db, tenant.id, {
      team_id: `T${tenant.id.slice(0, 8).toUpperCase()}`,
      approvals_channel: 'CAPPROVALS',
      reports_channel: 'CREPORTS',
    });
    const now = at('2026-11-23T09:05:00Z'); // tenant time zone UTC
    const failed: { channel: string; message: SlackMessage }[] = [];
    expect(await sweepScheduledPosts(deps(failed, now, 'bot-a', true))).toBe(0);
    expect((await t.db.query(`SELECT 1 FROM slack_posts WHERE status = 'retry' AND retry_at = $1`, [now + 30])).rowCount).toBe(2);

    const posts: { channel: string; message: SlackMessage }[] = [];
    expect(await sweepScheduledPosts(deps(posts, now + 10))).toBe(0);
    expect(await sweepScheduledPosts(deps(posts, now + 30))).toBe(2);
    expect(await sweepScheduledPosts(deps(posts, now + 30, 'bot-b'))).toBe(0);
    expect(posts.map((p) => [p.channel, p.message.text])).toEqual([
      ['CREPORTS', 'Levqor weekly report, 2026-W47'],
      ['CREPORTS', expect.stringMatching(/^Levqor health: /) as string],
    ]);
    expect(JSON.stringify(posts[0]?.message.blocks)).toContain('2026-W47');
    const { rows } = await t.db.query<{ kind: string; period: string; status: string; ts: string }>(
      'SELECT kind, period, status, ts FROM slack_posts ORDER BY kind',
    );
    expect(rows).toEqual([
      { kind: 'health_summary', period: '2026-11-23', status: 'posted', ts: '2.0001' },
      { kind: 'weekly_report', period: '2026-W47', status: 'posted', ts: '1.0001' },
    ]);
  });

  it('alert news goes to the alerts channel once per firing and once per resolution (stating the value at resolution)', async () => {
    const tenant = await makeTenant(t.db);
    await setSlackSettings(t.db, tenant.id, {
      team_id: `T${tenant.id.slice(0, 8).toUpperCase()}`,
      approvals_channel: 'CAPPROVALS',
      alerts_channel: 'CALERTS',
    });
    const now = Date.now() / 1000;
    // More pending approvals than the threshold of 10: the approval_queue_depth alert fires.
    await t.db.query(
      `INSERT INTO approval_queue (tenant_id, action_type, impact_class, summary, payload, payload_hash, requested_by, expires_at)
       SELECT $1, 'deploy', 'C', 'deploy ' || i, '{}', 'h' || i, 'token:ci', extract(epoch FROM now()) + 3600 FROM generate_series(1, 11) i`,
      [tenant.id],
    );
    const posts: { channel: string; message: SlackMessage }[] = [];
    await sweepScheduledPosts(deps(posts, now));
    await sweepScheduledPosts(deps(posts, now, 'bot-b'));
    const alertPosts = () => posts.filter((p) => p.channel === 'CALERTS').map((p) => p.message.text);
    expect(alertPosts().filter((x) => x.includes('approvals pending'))).toEqual(['🚨 Levqor alert: 11 approvals pending (threshold 10)']);

    await t.db.query(`UPDATE approval_queue SET status = 'approved', processed_at = extract(epoch FROM now()) WHERE tenant_id = $1`, [
      tenant.id,
    ]);
    await sweepScheduledPosts(deps(posts, now + 1, 'bot-b'));
    await sweepScheduledPosts(deps(posts, now + 2));
    expect(alertPosts().filter((x) => x.includes('approvals pending'))).toEqual([
      '🚨 Levqor alert: 11 approvals pending (threshold 10)',
      '✅ Resolved: 0 approvals pending (threshold 10)',
    ]);
  });

  it("the daily health summary counts the tenant's own queue, not another tenant's", async () => {
    const [busy, quiet] = [await makeTenant(t.db), await makeTenant(t.db)];
    await t.db.query(
      `INSERT INTO approval_queue (tenant_id, action_type, impact_class, summary, payload, payload_hash, requested_by, expires_at)
       SELECT $1, 'deploy', 'C', 'deploy ' || i, '{}', 'h' || i, 'token:ci', extract(epoch FROM now()) + 3600 FROM generate_series(1, 4) i`,
      [busy.id],
    );
    await setSlackSettings(t.db, quiet.id, {
      team_id: `T${quiet.id.slice(0, 8).toUpperCase()}`,
      approvals_channel: 'CAPPROVALS',
      reports_channel: 'CREPORTSQ',
      report_time: null,
    });
    const posts: { channel: string; message: SlackMessage }[] = [];
    await sweepScheduledPosts(deps(posts, at('2026-11-23T09:05:00Z')));
    const health = posts.filter((p) => p.channel === 'CREPORTSQ');
    expect(health.map((p) => p.message.text)).toEqual([expect.stringMatching(/^Levqor health: /) as string]);
    expect(JSON.stringify(health[0]?.message.blocks)).toContain('0 pending approvals');
  });

  it("a tenant's alerts go to its own alerts channel only", async () => {
    const [a, b] = [await makeTenant(t.db), await makeTenant(t.db)];
    for (const [x, ch] of [
      [a, 'CALERTSA'],
      [b, 'CALERTSB'],
    ] as const)
      await setSlackSettings(t.db, x.id, {
        team_id: `T${x.id.slice(0, 8).toUpperCase()}`,
        approvals_channel: 'CAPPROVALS',
        alerts_channel: ch,
      });
    await t.db.query(
      `INSERT INTO approval_queue (tenant_id, action_type, impact_class, summary, payload, payload_hash, requested_by, expires_at)
       SELECT $1, 'deploy', 'C', 'deploy ' || i, '{}', 'h' || i, 'token:ci', extract(epoch FROM now()) + 3600 FROM generate_series(1, 11) i`,
      [a.id],
    );
    const posts: { channel: string; message: SlackMessage }[] = [];
    await sweepScheduledPosts(deps(posts, Date.now() / 1000));
    const pending = posts.filter((p) => p.message.text.includes('approvals pending'));
    expect(pending.map((p) => [p.channel, p.message.text])).toEqual([['CALERTSA', '🚨 Levqor alert: 11 approvals pending (threshold 10)']]);
  });
});

describe('two bots sweeping at once (Postgres)', () => {
  const t = useTestDb();

  it('20 concurrent sweeps by different owners make each due post exactly once', async () => {
    const tenants = await Promise.all([1, 2, 3].map(() => makeTenant(t.db)));
    for (const [i, tenant] of tenants.entries()) {
      await setSlackSettings(t.db, tenant.id, { team_id: `TTEAM${i}`, approvals_channel: 'CAPPROVALS', reports_channel: `CREPORTS${i}` });
    }
    const now = at('2026-11-23T09:30:00Z');
    const posts: { channel: string; message: SlackMessage }[] = [];
    const base = {
      db: t.db,
      log: silentLog,
      processStartedAt: now,
      now: () => now,
      thresholds: { schedulerIntervalSeconds: 60, pendingApprovalsHigh: 1000, minRunsForRate: 20 },
    };
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        sweepScheduledPosts({
          ...base,
          owner: `bot-${i}`,
          post: (channel, message) => {
            posts.push({ channel, message });
            return Promise.resolve(`${posts.length}.0`);
          },
        }),
      ),
    );
    const sent = posts.map((p) => `${p.channel} ${p.message.text.split(' (')[0] ?? ''}`).sort();
    expect(sent).toHaveLength(6);
    expect(new Set(sent).size).toBe(6);
    expect(sent.filter((s) => s.includes('weekly report'))).toEqual([
      'CREPORTS0 Levqor weekly report, 2026-W47',
      'CREPORTS1 Levqor weekly report, 2026-W47',
      'CREPORTS2 Levqor weekly report, 2026-W47',
    ]);
  });
});
