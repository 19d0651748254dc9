import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { AppError } from '../src/lib/errors.js';

describe('configuration', () => {
  it('fills safe defaults from an empty environment', () => {
    const c = loadConfig({});
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c).toMatchObject({
      LEVQOR_DATA_DIR: '.levqor/data',
      LEVQOR_SCHEDULER_INTERVAL_SECONDS: 60,
      LEVQOR_APPROVAL_TTL_HOURS: 24,
      LEVQOR_HTTP_ALLOW: [],
    });
  });

  it('reads the GitHub dispatch settings: repositories lower-cased, the API URL without a trailing slash', () => {
    const none = loadConfig({});
    expect(none.LEVQOR_GITHUB_DISPATCH_TOKEN).toBeUndefined();
    expect(none).toMatchObject({ LEVQOR_GITHUB_DISPATCH_REPOS: [], LEVQOR_GITHUB_API_URL: 'https://api.github.com' });
    const c = loadConfig({
      LEVQOR_GITHUB_DISPATCH_TOKEN: ' ghp_x ',
      LEVQOR_GITHUB_DISPATCH_REPOS: 'Acme/Deployer, acme/web',
      LEVQOR_GITHUB_API_URL: 'http://127.0.0.1:9/api/',
    });
    expect(c).toMatchObject({
      LEVQOR_GITHUB_DISPATCH_TOKEN: 'ghp_x',
      LEVQOR_GITHUB_DISPATCH_REPOS: ['acme/deployer', 'acme/web'],
      LEVQOR_GITHUB_API_URL: 'http://127.0.0.1:9/api',
    });
  });

  it('parses lists and numbers', () => {
    const c = loadConfig({
      LEVQOR_HTTP_ALLOW: '127.0.0.1, 10.0.0.0/8 ,api.internal',
      LEVQOR_SCHEDULER_INTERVAL_SECONDS: '0.5',
      DATABASE_URL: 'postgresql://u:p@db:5432/levqor',
    });
    expect(c.LEVQOR_HTTP_ALLOW).toEqual(['127.0.0.1', '10.0.0.0/8', 'api.internal']);
    expect(c.LEVQOR_SCHEDULER_INTERVAL_SECONDS).toBe(0.5);
    expect(c.DATABASE_URL).toBe('postgresql://u:p@db:5432/levqor');
  });

  it.each([
    ['DATABASE_URL', 'mysql://root@localhost/x', /DATABASE_URL: must be a postgres:\/\//],
    ['DATABASE_URL', 'not a url', /DATABASE_URL/],
    ['LEVQOR_SCHEDULER_BATCH_SIZE', 'lots', /LEVQOR_SCHEDULER_BATCH_SIZE/],
    ['LEVQOR_SCHEDULER_BATCH_SIZE', '0', /LEVQOR_SCHEDULER_BATCH_SIZE/],
    ['LEVQOR_LOG_LEVEL', 'loud', /LEVQOR_LOG_LEVEL/],
    ['LEVQOR_SMTP_URL', 'http://mail', /LEVQOR_SMTP_URL: must be an smtp/],
    ['LEVQOR_GITHUB_DISPATCH_REPOS', 'acme/deployer, acme', /LEVQOR_GITHUB_DISPATCH_REPOS: each entry must be owner\/repo, not "acme"/],
    ['LEVQOR_GITHUB_API_URL', 'api.github.com', /LEVQOR_GITHUB_API_URL: must be an http/],
    ['LEVQOR_LOG_PRETTY', 'maybe', /LEVQOR_LOG_PRETTY/],
    ['LEVQOR_DEMO_HISTORY', '53', /LEVQOR_DEMO_HISTORY/],
    ['SLACK_BOT_TOKEN', 'xapp-1', /SLACK_BOT_TOKEN: must be a bot token/],
    ['LEVQOR_BOT_PORT', '70000', /LEVQOR_BOT_PORT/],
  ])('refuses %s=%s with a message naming it', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('lists every bad variable in one error', () => {
    const err = (() => {
      try {
        loadConfig({ DATABASE_URL: 'mysql://x', LEVQOR_RUN_LEASE_SECONDS: '-5', LEVQOR_APPROVAL_TTL_HOURS: 'soon' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('config');
    expect((err as AppError).issues.map((i) => i.split(':')[0])).toEqual([
      'DATABASE_URL',
      'LEVQOR_RUN_LEASE_SECONDS',
      'LEVQOR_APPROVAL_TTL_HOURS',
    ]);
  });

  it('one schema holds the Slack part too: parsed with the rest, defaults filled', () => {
    expect(loadConfig({})).toMatchObject({ SLACK_API_URL: 'https://slack.com/api/', LEVQOR_BOT_PORT: 3000, LEVQOR_DEMO_HISTORY: 8 });
    const c = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_API_URL: 'http://127.0.0.1:9/api', LEVQOR_DEMO_HISTORY: '0' });
    expect(c).toMatchObject({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_API_URL: 'http://127.0.0.1:9/api/', LEVQOR_DEMO_HISTORY: 0 });
  });

  it('reads the pooler settings: none by default; a mode and a direct URL only beside DATABASE_URL', () => {
    expect(loadConfig({}).LEVQOR_DB_POOLER).toBe('none');
    const c = loadConfig({
      DATABASE_URL: 'postgres://u:p@pgbouncer:6432/levqor',
      LEVQOR_DB_POOLER: 'transaction',
      DATABASE_DIRECT_URL: 'postgres://u:p@db:5432/levqor',
    });
    expect(c).toMatchObject({ LEVQOR_DB_POOLER: 'transaction', DATABASE_DIRECT_URL: 'postgres://u:p@db:5432/levqor' });
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db/x', LEVQOR_DB_POOLER: 'statement' })).toThrow(/LEVQOR_DB_POOLER/);
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db/x', DATABASE_DIRECT_URL: 'mysql://db/x' })).toThrow(
      /DATABASE_DIRECT_URL: must be a postgres:\/\//,
    );
    const err = (() => {
      try {
        loadConfig({ LEVQOR_DB_POOLER: 'session', DATABASE_DIRECT_URL: 'postgres://db/x' });
      } catch (e) {
        return e as AppError;
      }
    })();
    expect(err?.issues).toEqual([
      'LEVQOR_DB_POOLER: needs DATABASE_URL (the embedded database has no pooler)',
      'DATABASE_DIRECT_URL: needs DATABASE_URL (the pooled URL it sits beside)',
    ]);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', LEVQOR_DATA_DIR: '' }).LEVQOR_DATA_DIR).toBe('.levqor/data');
  });
});
