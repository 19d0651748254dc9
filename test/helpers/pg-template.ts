// The migrated template database of a test run: test/global-setup.ts makes it once, and each
// Postgres test database is a copy of it (CREATE DATABASE … TEMPLATE) instead of a fresh migration.
// No vitest imports here: the global setup loads this file outside the test runner.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase } from '../../src/db/open.js';
import { MEMORY_DIR } from '../../src/db/pglite.js';

/** SQLSTATE object_in_use: "source database … is being accessed by other users". */
const OBJECT_IN_USE = '55006';
/** Copies of the template attempted before giving up on a template still in use. */
const CLONE_ATTEMPTS = 8;

/** The URL of database `name` on the server of `adminUrl`. */
export function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs one statement as the admin on its own short connection. */
export async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Creates `levqor_tpl_<pid>_<random>`, migrates it with the migrations every process applies,
 * closes that pool, and marks it a template nobody may connect to (so no session can be
 * attached to it while tests copy it). Returns its name.
 */
export async function createTemplateDatabase(adminUrl: string): Promise<string> {
  const name = `levqor_tpl_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  try {
    const db = await openDatabase({
      DATABASE_URL: databaseUrl(adminUrl, name),
      LEVQOR_DATA_DIR: MEMORY_DIR,
      LEVQOR_DB_POOL_MAX: 1,
      LEVQOR_DB_CONNECT_TIMEOUT_MS: 10_000,
    });
    await db.close();
    await adminQuery(adminUrl, `ALTER DATABASE ${name} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`);
  } catch (err) {
    await dropTemplateDatabase(adminUrl, name).catch(() => undefined);
    throw err;
  }
  return name;
}

/** Drops a template made by createTemplateDatabase. */
export async function dropTemplateDatabase(adminUrl: string, name: string): Promise<void> {
  await adminQuery(adminUrl, `ALTER DATABASE ${name} WITH IS_TEMPLATE false`);
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

/**
 * CREATE DATABASE `name` as a copy of `template`. Postgres refuses while another session is
 * connected to the template (55006); that error alone is retried a few times, briefly apart.
 */
export async function cloneTemplateDatabase(adminUrl: string, template: string, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await adminQuery(adminUrl, `CREATE DATABASE ${name} TEMPLATE ${template}`);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== OBJECT_IN_USE || attempt >= CLONE_ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, 25 * attempt));
    }
  }
}
