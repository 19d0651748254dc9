// bench/api's database: migrated by the CLI, a tenant, tokens made by `levqor token create`, and
// PENDING pending Class C requests seeded in one statement.
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { createDatabase, dbUrl, withPg } from '../lib/db.js';
import { levqorEnv, migrateLevqor, parseCliResult, seedTenant } from '../lib/levqor.js';
import { runProcess } from '../lib/proc.js';
import { round } from '../lib/stats.js';
import { DECIDERS, PENDING, log } from './config.js';

export const SEED_SQL = `INSERT INTO approval_queue (tenant_id, action_type, impact_class, summary, payload, payload_hash,
    requested_by, requested_at, expires_at, source)
  SELECT $1, 'deploy.production', 'C', 'Deploy api build ' || i || ' to production',
    jsonb_build_object('service', 'api', 'build', i, 'region', 'eu-west-1'), md5(i::text),
    'token:seed', extract(epoch FROM now()) - ${PENDING} + i, extract(epoch FROM now()) + 10 * 365 * 86400, 'api'
  FROM generate_series(1, ${PENDING}) AS i`;

export interface Token {
  name: string;
  token: string;
}

async function tokenCreate(cli: string, url: string, name: string, scopes?: string): Promise<Token> {
  const args = [cli, 'token', 'create', '--tenant', 'bench', '--name', name, '--json', ...(scopes ? ['--scopes', scopes] : [])];
  const r = await runProcess(process.execPath, args, { env: levqorEnv(url) });
  if (r.code !== 0) throw new Error(`token create ${name} failed (${r.code}): ${r.stderr || r.stdout}`);
  const row = parseCliResult<{ token: string }>(r.stdout);
  if (!row) throw new Error(`token create ${name} printed no token`);
  return { name, token: row.token };
}

export interface Setup {
  db: string;
  url: string;
  tenantId: string;
  /** A token with every scope. */
  reader: Token;
  deciders: Token[];
  migrateMs: number;
  seedMs: number;
}

/** Creates, migrates and seeds the database `db`. */
export async function setup(cli: string, db: string): Promise<Setup> {
  await createDatabase(db);
  const url = dbUrl(db);
  const migrateMs = await migrateLevqor(cli, url);
  const tenantId = await withPg(url, seedTenant);
  const [reader, ...deciders] = await Promise.all([
    tokenCreate(cli, url, 'bench'),
    ...Array.from({ length: DECIDERS }, (_, i) => tokenCreate(cli, url, `decider-${i + 1}`, 'approvals:read,approvals:decide')),
  ]);
  if (!reader) throw new Error('no reader token');
  const seedMs = await withPg(url, async (c) => {
    const t0 = performance.now();
    await c.query(SEED_SQL, [tenantId]);
    const ms = performance.now() - t0;
    await c.query('VACUUM ANALYZE');
    return ms;
  });
  log(`database ${db}: migrated in ${round(migrateMs / 1000)} s, ${PENDING} pending approvals seeded in ${round(seedMs / 1000)} s`);
  return { db, url, tenantId, reader, deciders, migrateMs, seedMs };
}
