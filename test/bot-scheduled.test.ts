import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setSlackSettings } from '../src/slack/settings.js';
import { openPgTestDb, useTestDb } from './helpers/db.js';
import { makeTenant } from './helpers/fixtures.js';
import { killLeftovers, pollUntil, spawnCli, type CliProcess } from './helpers/proc.js';
import { BOT_TOKEN, SIGNING_SECRET, startFakeSlack, type FakeSlack } from './helpers/slack.js';

// Two `levqor bot` processes against one Postgres: the weekly report and the daily health
// summary that fall due are each posted once, however often both bots sweep.

describe('scheduled Slack posts across two bot processes (Postgres)', () => {
  const t = useTestDb(openPgTestDb, { beforeClose: killLeftovers });
  let slack: FakeSlack;
  beforeAll(async () => {
    slack = await startFakeSlack();
  });
  afterAll(() => slack.close());

  const sweeps = (p: CliProcess) => p.logs.filter((l) => l.msg === 'slack: scheduled posts swept').length;

  it('posts the weekly report and the health summary exactly once', async () => {
    const tenant = await makeTenant(t.db);
    // Due now: this weekday (UTC, the tenant's zone) at this minute.
    const now = new Date();
    const hhmm = `${String(now.getUTCHours()).padStart(2, '0')}:${String(now.getUTCMinutes()).padStart(2, '0')}`;
    await setSlackSettings(t.db, tenant.id, {
      team_id: 'TSCHEDULED',
      approvals_channel: 'CAPPROVALS',
      reports_channel: 'CREPORTS',
      report_weekday: ((now.getUTCDay() + 6) % 7) + 1,
      report_time: hhmm,
      health_time: hhmm,
    });
    const env = {
      DATABASE_URL: t.url ?? '',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_API_URL: slack.apiUrl,
      LEVQOR_BOT_POSTS_SECONDS: '0.2',
      LEVQOR_LOG_LEVEL: 'debug',
    };
    const bots = [
      spawnCli(['bot', '--host', '127.0.0.1', '--port', '0', '--no-run'], env),
      spawnCli(['bot', '--host', '127.0.0.1', '--port', '0', '--no-run'], env),
    ];
    try {
      await slack.waitFor('chat.postMessage', (c) => String(c.args.text).startsWith('Levqor weekly report'), 60_000);
      await slack.waitFor('chat.postMessage', (c) => String(c.args.text).startsWith('Levqor health'), 60_000);
      // Let both bots sweep several more times after the posts went out.
      const after = bots.map(sweeps);
      await pollUntil(() => Promise.resolve(bots.every((b, i) => sweeps(b) >= (after[i] ?? 0) + 3)), {
        what: 'three more sweeps by each bot',
        attempts: 600,
      });
      const posted = slack.of('chat.postMessage').map((c) => String(c.args.text));
      expect(posted.filter((x) => x.startsWith('Levqor weekly report'))).toHaveLength(1);
      expect(posted.filter((x) => x.startsWith('Levqor health'))).toHaveLength(1);
      expect(slack.of('chat.postMessage').every((c) => c.args.channel === 'CREPORTS')).toBe(true);
      const { rows } = await t.db.query<{ kind: string; status: string }>(
        'SELECT kind, status FROM slack_posts WHERE tenant_id = $1 ORDER BY kind',
        [tenant.id],
      );
      expect(rows).toEqual([
        { kind: 'health_summary', status: 'posted' },
        { kind: 'weekly_report', status: 'posted' },
      ]);
    } finally {
      for (const b of bots) b.signal('SIGTERM');
      const exits = await Promise.all(bots.map((b) => b.waitForExit(30_000)));
      expect(exits.map((e) => e.code)).toEqual([0, 0]);
    }
  });
});
