import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeEach, expect } from 'vitest';
import type { Db, Queryable } from '../../src/db/types.js';
import type { RunRow } from '../../src/runs/types.js';
import { openPgTestDb, useTestDb } from './db.js';

/** The built CLI (test/global-setup.ts builds it before any test runs). */
export const CLI_PATH = fileURLToPath(new URL('../../lib/cli.js', import.meta.url));

/** One pino JSON line from a child's stdout. */
export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** pino's numeric levels. */
export const LEVEL = { info: 30, warn: 40, error: 50 } as const;

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running `node lib/cli.js …` child: its output as it arrives, and its exit. */
export interface CliProcess {
  readonly child: ChildProcess;
  readonly args: readonly string[];
  /** Every stdout line so far, raw. */
  readonly lines: string[];
  /** The stdout lines that parsed as pino JSON. */
  readonly logs: LogLine[];
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Set once the process has exited and its output is drained. */
  exit: ExitInfo | undefined;
  /** Resolves when the process has exited and its stdio is closed. */
  readonly exited: Promise<ExitInfo>;
  /** Resolves with the first log line (already seen or still to come) matching pred. */
  waitForLog(pred: (line: LogLine) => boolean, opts?: { timeoutMs?: number; what?: string }): Promise<LogLine>;
  /** Sends a signal; a no-op once the process has exited. */
  signal(sig: NodeJS.Signals): void;
  /** Waits for exit, failing after timeoutMs (the process is then killed). */
  waitForExit(timeoutMs?: number): Promise<ExitInfo>;
  /** The last lines of output, for failure messages. */
  tail(n?: number): string;
}

const live = new Set<CliProcess>();

function parseLogLine(line: string): LogLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(line) as unknown;
    if (value && typeof value === 'object' && typeof (value as LogLine).level === 'number' && typeof (value as LogLine).msg === 'string') {
      return value as LogLine;
    }
  } catch {
    // not a log line: kept in `lines` only
  }
  return undefined;
}

/**
 * Spawns `node lib/cli.js <args>` with only the given variables (plus PATH/HOME), JSON logs
 * on stdout. The parent's LEVQOR_* variables are not inherited, so tests see defaults.
 * `cliPath` runs another copy of the CLI (the image's file layout).
 */
export function spawnCli(args: readonly string[], env: Record<string, string>, opts: { cliPath?: string; cwd?: string } = {}): CliProcess {
  const child = spawn(process.execPath, [opts.cliPath ?? CLI_PATH, ...args], {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LEVQOR_LOG_PRETTY: 'false', LEVQOR_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const logs: LogLine[] = [];
  const waiters = new Set<{ pred: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();
  let partial = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  const onLine = (line: string) => {
    lines.push(line);
    const log = parseLogLine(line);
    if (!log) return;
    logs.push(log);
    for (const w of waiters) {
      if (w.pred(log)) {
        waiters.delete(w);
        w.resolve(log);
      }
    }
  };
  child.stdout?.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const part of parts) onLine(part);
  });
  child.stderr?.on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<ExitInfo>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (partial) onLine(partial);
      partial = '';
      proc.exit = { code, signal };
      live.delete(proc);
      resolve(proc.exit);
    });
  });

  const tail = (n = 15) => {
    const out = lines.slice(-n).join('\n');
    return `${args.join(' ')} (pid ${child.pid ?? '?'}, exit ${JSON.stringify(proc.exit ?? null)})\n--- stdout (last ${n} lines) ---\n${out}\n--- stderr ---\n${stderr.slice(-2000)}`;
  };

  const proc: CliProcess = {
    child,
    args,
    lines,
    logs,
    stderr: () => stderr,
    exit: undefined,
    exited,
    tail,
    signal(sig) {
      if (proc.exit === undefined && child.exitCode === null && child.signalCode === null) child.kill(sig);
    },
    waitForLog(pred, opts = {}) {
      const seen = logs.find(pred);
      if (seen) return Promise.resolve(seen);
      const timeoutMs = opts.timeoutMs ?? 20_000;
      const what = opts.what ?? 'a matching log line';
      return new Promise<LogLine>((resolve, reject) => {
        const waiter = {
          pred,
          resolve: (line: LogLine) => {
            clearTimeout(timer);
            resolve(line);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no ${what} within ${timeoutMs} ms\n${tail()}`));
        }, timeoutMs);
        waiters.add(waiter);
        void exited.then(() => {
          if (!waiters.has(waiter)) return;
          waiters.delete(waiter);
          clearTimeout(timer);
          reject(new Error(`the process exited before ${what}\n${tail()}`));
        });
      });
    },
    async waitForExit(timeoutMs = 20_000) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          proc.signal('SIGKILL');
          reject(new Error(`did not exit within ${timeoutMs} ms\n${tail()}`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
  live.add(proc);
  return proc;
}

/** SIGKILLs every child spawned by this file's tests that is still running, and waits for them (afterEach). */
export async function killLeftovers(): Promise<void> {
  const procs = [...live];
  for (const p of procs) p.signal('SIGKILL');
  await Promise.all(procs.map((p) => p.exited.catch(() => undefined)));
}

/** Waits for the process to exit (failing after timeoutMs) and expects exit code 0, showing its output otherwise. */
export async function expectCleanExit(proc: CliProcess, timeoutMs?: number): Promise<void> {
  expect((await proc.waitForExit(timeoutMs)).code, proc.tail()).toBe(0);
}

/** The `owner` (lease owner and scheduler_instances id) a scheduler logs when it starts. */
export async function schedulerOwner(proc: CliProcess): Promise<string> {
  const line = await proc.waitForLog((l) => typeof l.owner === 'string', { what: 'the scheduler start line (owner)' });
  return line.owner as string;
}

/**
 * Polls probe until it returns something other than undefined/false/null, pausing
 * intervalMs between at most `attempts` tries; fails with `what` when it never does.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined | false | null>,
  opts: { what: string; attempts?: number; intervalMs?: number },
): Promise<T> {
  const attempts = opts.attempts ?? 200;
  const intervalMs = opts.intervalMs ?? 50;
  for (let i = 0; i < attempts; i++) {
    const value = await probe();
    if (value !== undefined && value !== false && value !== null) return value;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`gave up after ${attempts} checks ${intervalMs} ms apart waiting for ${opts.what}`);
}

// The scheduler process tests (crash, shutdown): a database per test, schedulers as children.

export interface SchedulerTestDb {
  readonly db: Db;
  readonly tenantId: string;
  /** The children's environment: DATABASE_URL and the extra variables given. */
  readonly env: Record<string, string>;
}

/**
 * A Postgres database per test, with one tenant: a run left behind by one test is never claimed
 * by the next. Opened in beforeEach; afterEach kills any child still running, then closes it.
 */
export function useSchedulerTestDb(tenantName: string, extraEnv: Record<string, string> = {}): SchedulerTestDb {
  const t = useTestDb(openPgTestDb, { perTest: true, beforeClose: killLeftovers });
  let tenantId = '';
  beforeEach(async () => {
    tenantId = await insertTenant(t.db, tenantName);
  });
  return {
    get db() {
      return t.db;
    },
    get tenantId() {
      return tenantId;
    },
    get env() {
      return { DATABASE_URL: t.url ?? '', ...extraEnv };
    },
  };
}

/** The workflow's only run (expects exactly one). */
export async function onlyRun(db: Queryable, workflowId: string): Promise<RunRow> {
  const { rows } = await db.query<RunRow>('SELECT * FROM workflow_runs WHERE workflow_id = $1', [workflowId]);
  expect(rows).toHaveLength(1);
  return rows[0] as RunRow;
}

/** Polls until the workflow's run is running (under `owner`'s lease, when given) and returns it. */
export function waitForRunningRun(db: Queryable, workflowId: string, opts: { owner?: string; what?: string } = {}): Promise<RunRow> {
  return pollUntil(
    async () => {
      const { rows } = await db.query<RunRow>(
        `SELECT * FROM workflow_runs WHERE workflow_id = $1 AND status = 'running' AND ($2::text IS NULL OR lease_owner = $2)`,
        [workflowId, opts.owner ?? null],
      );
      return rows[0];
    },
    { what: opts.what ?? 'the run to be claimed (status running)' },
  );
}

/** Expects no run anywhere in the database to be running. */
export async function expectNothingRunning(db: Queryable): Promise<void> {
  const { rows } = await db.query(`SELECT id FROM workflow_runs WHERE status = 'running'`);
  expect(rows).toEqual([]);
  // No batch claim is left either: every claimed run was settled (or recovered).
  expect((await db.query('SELECT id, owner FROM scheduler_claims')).rows).toEqual([]);
}

/** Runs `levqor scheduler --once` to the end, expecting exit 0, and returns it for its logs. */
export async function runSchedulerOnce(env: Record<string, string>): Promise<CliProcess> {
  const proc = spawnCli(['scheduler', '--once'], env);
  await expectCleanExit(proc);
  return proc;
}

// Seed data for the scheduler process tests, written with SQL as a deployed database would hold it.

/** Inserts a tenant and returns its id. */
export async function insertTenant(db: Queryable, name: string): Promise<string> {
  const { rows } = await db.query<{ id: string }>('INSERT INTO tenants (name) VALUES ($1) RETURNING id', [name]);
  const id = rows[0]?.id;
  if (!id) throw new Error('tenant insert returned no id');
  return id;
}

/**
 * Inserts `count` workflows named `<prefix>-<i>`, all due one second ago on a 5-minute
 * interval schedule (or `schedule`, first due at `dueAt`, the i-th `spreadSeconds * i / count`
 * later), in one INSERT … SELECT generate_series. Returns their ids.
 */
export async function insertDueWorkflows(
  db: Queryable,
  tenantId: string,
  opts: {
    prefix: string;
    count?: number;
    steps: readonly Record<string, unknown>[];
    maxRunAttempts?: number;
    schedule?: Record<string, unknown>;
    dueAt?: number;
    spreadSeconds?: number;
  },
): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO workflows (tenant_id, name, steps, max_run_attempts, schedule_config, next_run_at)
     SELECT $1, $2 || '-' || i, $3::jsonb, $4, $6::jsonb,
            coalesce($7::float8, extract(epoch FROM now()) - 1) + $8::float8 * (i - 1) / $5::int
     FROM generate_series(1, $5::int) AS i
     RETURNING id`,
    [
      tenantId,
      opts.prefix,
      JSON.stringify(opts.steps),
      opts.maxRunAttempts ?? 1,
      opts.count ?? 1,
      JSON.stringify(opts.schedule ?? { enabled: true, interval_minutes: 5 }),
      opts.dueAt ?? null,
      opts.spreadSeconds ?? 0,
    ],
  );
  return rows.map((r) => r.id);
}
