import { loadConfig, type Config } from '../config.js';
import type { Db } from '../db/types.js';
import { createLogger, type Logger } from '../lib/log.js';
import { openConfiguredDb } from '../runtime.js';

interface CliContext {
  config: Config;
  db: Db;
  log: Logger;
}

let parsed: Config | undefined;

/** This process's configuration: parsed once, on first use (a command that needs none never fails on it). */
export function cliConfig(): Config {
  return (parsed ??= loadConfig());
}

/** Global flags every command accepts. */
export interface GlobalOptions {
  json?: boolean;
  tenant?: string;
}

/**
 * Runs a command against the migrated database and closes it afterwards. Logs go to
 * stdout for long-running commands (the scheduler) and to stderr otherwise, so that
 * `--json` output stays machine-readable.
 */
export async function withDb<T>(
  fn: (ctx: CliContext) => Promise<T>,
  opts: { logsToStdout?: boolean; migrate?: boolean; share?: boolean } = {},
): Promise<T> {
  const config = cliConfig();
  const log = opts.logsToStdout
    ? createLogger(config.LEVQOR_LOG_LEVEL, config.LEVQOR_LOG_PRETTY)
    : createLogger(
        config.LEVQOR_LOG_LEVEL === 'info' ? 'warn' : config.LEVQOR_LOG_LEVEL,
        config.LEVQOR_LOG_PRETTY ?? Boolean(process.stderr.isTTY),
        process.stderr,
      );
  const db = await openConfiguredDb(config, log, opts.migrate, opts.share);
  try {
    return await fn({ config, db, log });
  } finally {
    await db.close();
  }
}

/** Prints one object (a command's single result) as JSON: an object, never a one-element list. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints rows as an aligned table (or, with --json, as a JSON list). */
export function printTable(rows: Record<string, unknown>[], json: boolean | undefined, empty = '(none)'): void {
  if (json) return printJson(rows);
  if (rows.length === 0) {
    process.stdout.write(`${empty}\n`);
    return;
  }
  const cols = Object.keys(rows[0] ?? {});
  const cell = (v: unknown) =>
    v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : `${v as string | number | boolean}`;
  const widths = cols.map((c) => Math.min(60, Math.max(c.length, ...rows.map((r) => cell(r[c]).length))));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => (v.length > (widths[i] ?? 0) ? `${v.slice(0, (widths[i] ?? 1) - 1)}…` : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(cols.map((c) => c.toUpperCase()))}\n${rows.map((r) => line(cols.map((c) => cell(r[c])))).join('\n')}\n`);
}

/** An epoch-seconds time as ISO 8601 (UTC), or "-". */
export function iso(t: number | null | undefined): string {
  return t === null || t === undefined ? '-' : new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Reads all of standard input. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
