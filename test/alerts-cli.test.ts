import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/open.js';
import type { Db } from '../src/db/types.js';
import type { AlertRow } from '../src/health/queries.js';
import { killRunningClis, runCli, type CliEnv } from './helpers/cli.js';
import { openPgTestDb } from './helpers/db.js';
import { makeTenant } from './helpers/fixtures.js';

// The guide's cron deployment as a user runs it: `levqor scheduler --once` evaluates the
// tenant's alert rules, which live in the database (`levqor alerts list|set|history`), so a
// process started with other thresholds in its environment judges by the same rules.

interface Setup {
  env: CliEnv;
  /** Runs fn on the database while no CLI holds it. */
  withDb: <T>(fn: (db: Db) => Promise<T>) => Promise<T>;
  close: () => Promise<void>;
}

const SETUPS = [
  {
    name: 'postgres',
    make: async (): Promise<Setup> => {
      const t = await openPgTestDb();
      return { env: { DATABASE_URL: t.url ?? '' }, withDb: (fn) => fn(t.db), close: () => t.close() };
    },
  },
  {
    name: 'pglite',
    make: async (): Promise<Setup> => {
      const dir = await mkdtemp(join(tmpdir(), 'levqor-alerts-'));
      return {
        env: { DATABASE_URL: undefined, LEVQOR_DATA_DIR: dir },
        withDb: async (fn) => {
          const db = await openDatabase({ LEVQOR_DATA_DIR: dir, LEVQOR_DB_POOL_MAX: 1, LEVQOR_DB_CONNECT_TIMEOUT_MS: 10_000 });
          try {
            return await fn(db);
          } finally {
            await db.close();
          }
        },
        close: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
] as const;

describe.each(SETUPS)('levqor alerts and scheduler --once on $name', ({ make }) => {
  let s: Setup;
  beforeAll(async () => {
    s = await make();
    await s.withDb(async (db) => {
      await makeTenant(db, 'cron');
    });
  });
  afterAll(async () => {
    await killRunningClis();
    await s.close();
  });
  const cli = (args: string[], env: CliEnv = {}) => runCli(args, { env: { ...s.env, ...env } });
  const pending = (n: number) =>
    s.withDb(async (db) => {
      await db.query("UPDATE approval_queue SET status = 'approved', processed_at = extract(epoch FROM now()) WHERE status = 'pending'");
      await db.query(
        `INSERT INTO approval_queue (tenant_id, action_type, impact_class, summary, payload, payload_hash, status, requested_by, expires_at)
         SELECT (SELECT id FROM tenants), 'email', 'C', 'send', '{}', 'h', 'pending', 'test', extract(epoch FROM now()) + 3600
         FROM generate_series(1, $1::int)`,
        [n],
      );
    });
  const history = async () => {
    const h = await cli(['alerts', 'history', '--json']);
    expect(h.code, h.stderr).toBe(0);
    return (JSON.parse(h.stdout) as { alerts: AlertRow[] }).alerts;
  };

  it('list: the rules start from the configuration; set changes one for every process; bad input exits 2 naming it', async () => {
    const list = await cli(['alerts', 'list', '--json'], { LEVQOR_ALERT_PENDING_APPROVALS: '7', LEVQOR_SCHEDULER_INTERVAL_SECONDS: '20' });
    expect(list.code, list.stderr).toBe(0);
    const rules = (JSON.parse(list.stdout) as { rules: { rule: string; threshold: number; enabled: boolean; state: string }[] }).rules;
    expect(rules.map((r) => [r.rule, r.threshold, r.enabled, r.state])).toEqual([
      ['scheduler_stale', 60, true, 'ok'],
      ['approval_queue_depth', 7, true, 'ok'],
      ['failure_rate', 5, true, 'ok'],
    ]);
    const set = await cli(['alerts', 'set', 'approval_queue_depth', '--threshold', '1', '--as', 'ops']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/approval_queue_depth enabled, threshold 1 pending/);
    const bad = await cli(['alerts', 'set', 'queue_depth', '--threshold', '1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown alert rule "queue_depth"');
    const negative = await cli(['alerts', 'set', 'failure_rate', '--threshold', '-3']);
    expect(negative.code).toBe(2);
    expect(negative.stderr).toContain('--threshold');
    const both = await cli(['alerts', 'set', 'failure_rate', '--enable', '--disable']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--disable.*cannot be used with.*--enable/);
  });

  it('scheduler --once evaluates the stored rules (not its own environment): fires, then resolves with the value it reads then', async () => {
    await pending(2);
    // This process would not alert below 1000 pending: the tenant's rule (1) decides.
    const once = await cli(['scheduler', '--once'], { LEVQOR_ALERT_PENDING_APPROVALS: '1000' });
    expect(once.code, once.stderr).toBe(0);
    expect(once.stdout).toContain('alert firing: 2 approvals pending (threshold 1)');
    expect((await history()).map((a) => [a.kind, a.status, a.message])).toEqual([
      ['approval_queue_depth', 'firing', '2 approvals pending (threshold 1)'],
    ]);
    const listed = await cli(['alerts', 'list']);
    expect(listed.stdout).toMatch(/approval_queue_depth\s+1\s+pending\s+true\s+firing/);

    // A second run while it still holds: nothing new.
    expect((await cli(['scheduler', '--once'])).stdout).not.toContain('alert ');

    await pending(0);
    const again = await cli(['scheduler', '--once'], { LEVQOR_ALERT_PENDING_APPROVALS: '1000' });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('alert resolved: 0 approvals pending (threshold 1)');
    expect((await history()).map((a) => [a.status, a.message, a.resolved_message])).toEqual([
      ['resolved', '2 approvals pending (threshold 1)', '0 approvals pending (threshold 1)'],
    ]);
    const table = await cli(['alerts', 'history']);
    expect(table.stdout).toContain('0 approvals pending (threshold 1)');
  });
});
