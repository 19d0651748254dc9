import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { execFileSync } from 'node:child_process';

/** The Postgres server data tests use: TEST_DATABASE_URL, else the local server. Never skipped. */
export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const url = process.env.TEST_DATABASE_URL || DEFAULT_PG_URL;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (err) {
    throw new Error(
      `The tests need a Postgres server and none answered at ${url.replace(/:[^:@/]*@/, ':***@')} (${(err as Error).message}). ` +
        'Start one (pg_ctlcluster 15 main start) or set TEST_DATABASE_URL.',
      { cause: err },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
  project.provide('pgAdminUrl', url);
  // CLI tests run the built lib/cli.js, as users do: build it from the current source.
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
}
