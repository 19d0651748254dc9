import { describe, expect, it } from 'vitest';
import { describeListen, listenRoute, type PoolerConfig } from '../src/db/pooler.js';
import { poolerCheck } from '../src/health/doctor.js';

const POOLED = 'postgres://app:s3cret@pgbouncer:6432/levqor';
const DIRECT = 'postgres://app:s3cret@db.internal:5432/levqor';

describe('LISTEN behind a pooler', () => {
  it.each<[string, PoolerConfig, ReturnType<typeof listenRoute>]>([
    ['no pooler', { DATABASE_URL: POOLED }, { via: 'direct', connectionString: POOLED }],
    ['session mode', { DATABASE_URL: POOLED, LEVQOR_DB_POOLER: 'session' }, { via: 'pooler', connectionString: POOLED }],
    ['transaction mode', { DATABASE_URL: POOLED, LEVQOR_DB_POOLER: 'transaction' }, { via: 'poll' }],
    [
      'transaction mode with a direct URL',
      { DATABASE_URL: POOLED, LEVQOR_DB_POOLER: 'transaction', DATABASE_DIRECT_URL: DIRECT },
      { via: 'direct', connectionString: DIRECT },
    ],
    [
      'session mode with a direct URL',
      { DATABASE_URL: POOLED, LEVQOR_DB_POOLER: 'session', DATABASE_DIRECT_URL: DIRECT },
      { via: 'direct', connectionString: DIRECT },
    ],
  ])('%s', (_, config, route) => {
    expect(listenRoute(config)).toEqual(route);
  });

  it('doctor names the mode and the route, gives the fix when polling, and never prints a password', () => {
    const polling = describeListen({ DATABASE_URL: POOLED, LEVQOR_DB_POOLER: 'transaction' });
    expect(polling.ok).toBe(false);
    expect(polling.detail).toMatch(/transaction-mode pooler .*LISTEN: polling.*Fix: set DATABASE_DIRECT_URL/);
    const direct = describeListen({ DATABASE_URL: POOLED, LEVQOR_DB_POOLER: 'transaction', DATABASE_DIRECT_URL: DIRECT });
    expect(direct).toEqual({
      ok: true,
      detail:
        'transaction-mode pooler (LEVQOR_DB_POOLER=transaction); LISTEN: direct on DATABASE_DIRECT_URL (Postgres at db.internal:5432/levqor)',
    });
    expect(describeListen({ DATABASE_URL: POOLED, LEVQOR_DB_POOLER: 'session' }).detail).toMatch(/LISTEN: through the pooler/);
    expect(poolerCheck({})).toEqual({ ok: true, check: 'pooler and LISTEN', detail: 'embedded database: no pooler; LISTEN in process' });
    for (const d of [polling, direct]) expect(d.detail).not.toContain('s3cret');
  });
});
