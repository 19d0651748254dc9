// An opt-in query tracer for Levqor processes: `node --import .levqor/bench/lib/trace-hook.mjs`
// with LEVQOR_BENCH_TRACE=<file> counts and times every query the process sends through pg.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { benchEntry } from './env.js';

/** A short, stable name for a statement: its first line, whitespace collapsed. */
export function statementLabel(text: string): string {
  const first = text.trim().split('\n')[0] ?? '';
  return first.replace(/\s+/g, ' ').slice(0, 60);
}

export interface StatementStats {
  count: number;
  /** Client milliseconds, send to result, summed. */
  ms: number;
  /** Characters of SQL and parameters sent, summed. */
  bytes: number;
}

/** What a traced process wrote at exit. */
export interface QueryTrace {
  queries: Record<string, StatementStats>;
  processMs: number;
  firstToLastQueryMs: number;
  cpuMs: number;
}

/** Characters pg sends for a parameter (objects go as JSON). */
function sentLength(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'string') return v.length;
  return typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v).length : (JSON.stringify(v) ?? '').length;
}

type QueryFn = (this: pg.Client, config: unknown, values?: unknown, callback?: unknown) => unknown;

/**
 * Counts and times (client side, from send to result) every query this process sends
 * through pg, with the characters of SQL and parameters sent, and writes the totals per
 * statement to `file` when the process exits.
 */
export function installQueryTrace(file: string): void {
  const stats = new Map<string, StatementStats>();
  const proto = pg.Client.prototype as unknown as { query: QueryFn };
  const original = proto.query;
  const t0 = performance.now();
  let first: number | null = null;
  let last = 0;
  proto.query = function traced(this: pg.Client, config: unknown, values?: unknown, callback?: unknown): unknown {
    const cfg = config as { text?: unknown; values?: unknown } | string | undefined;
    const text = typeof cfg === 'string' ? cfg : cfg?.text;
    if (typeof text !== 'string') return original.call(this, config, values, callback);
    const label = statementLabel(text);
    const params: unknown[] = Array.isArray(values) ? values : typeof cfg === 'object' && Array.isArray(cfg.values) ? cfg.values : [];
    const bytes = text.length + params.reduce<number>((a, v) => a + sentLength(v), 0);
    const start = performance.now();
    first ??= start;
    const record = () => {
      last = performance.now();
      const s = stats.get(label) ?? { count: 0, ms: 0, bytes: 0 };
      s.count++;
      s.ms += last - start;
      s.bytes += bytes;
      stats.set(label, s);
    };
    const cb = typeof values === 'function' ? values : callback;
    if (typeof cb === 'function') {
      const wrapped = (err: unknown, res: unknown) => {
        record();
        (cb as (e: unknown, r: unknown) => void)(err, res);
      };
      return typeof values === 'function' ? original.call(this, config, wrapped) : original.call(this, config, values, wrapped);
    }
    const result = original.call(this, config, values);
    return result instanceof Promise ? result.finally(record) : result;
  };
  process.on('exit', () => {
    const cpu = process.cpuUsage();
    const summary: QueryTrace = {
      queries: Object.fromEntries(stats),
      processMs: performance.now() - t0,
      firstToLastQueryMs: first === null ? 0 : last - first,
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
    writeFileSync(file, JSON.stringify(summary));
  });
}

/** Node arguments and environment that make a Levqor process trace its queries into `file`. */
export function traceOptions(file: string): { nodeArgs: string[]; env: Record<string, string> } {
  return { nodeArgs: ['--import', pathToFileURL(benchEntry('lib/trace-hook')).href], env: { LEVQOR_BENCH_TRACE: file } };
}

/** Reads (and removes) what a traced process wrote. */
export function readTrace(file: string): QueryTrace {
  const trace = JSON.parse(readFileSync(file, 'utf8')) as QueryTrace;
  rmSync(file, { force: true });
  return trace;
}
