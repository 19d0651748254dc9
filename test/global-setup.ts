import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { spawn } from 'node:child_process';
import { embedMigrations } from '../scripts/embed-migrations.mjs';

/** The Postgres server data tests use: TEST_DATABASE_URL, else the local server. Never skipped. */
export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    /** The run's migrated template database (test/helpers/pg-template.ts). */
    pgTemplate: string;
  }
}

/** Checks the server answers, builds the CLI, makes the run's template database; the teardown drops it. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
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
  // The template applies the embedded migrations module: regenerate it before loading it.
  await embedMigrations();
  const { createTemplateDatabase, dropTemplateDatabase } = await import('./helpers/pg-template.js');
  // CLI tests run the built lib/cli.js, as users do: build it from the current source, while
  // the server migrates the template.
  const [template, built] = await Promise.allSettled([createTemplateDatabase(url), build()]);
  if (template.status === 'rejected') throw template.reason;
  if (built.status === 'rejected') {
    await dropTemplateDatabase(url, template.value);
    throw built.reason;
  }
  project.provide('pgTemplate', template.value);
  return () => dropTemplateDatabase(url, template.value);
}

function build(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`scripts/build.mjs failed (${signal ?? `exit ${code}`})`)),
    );
  });
}
