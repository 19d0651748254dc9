import pino from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import type { Db } from '../../src/db/types.js';
import { createSchedulerDeps } from '../../src/runtime.js';
import type { SchedulerDeps } from '../../src/scheduler/tick.js';

/** Configuration as a process would parse it, from the given variables only. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ LEVQOR_LOG_LEVEL: 'silent', ...env });
}

export const silentLog = pino({ level: 'silent' });

/** A debug-level logger whose lines are kept, parsed, in `lines`. */
export function capturingLog() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
  return { log, lines };
}

/** Scheduler deps for in-process tests; abort controllers are returned for shutdown tests. */
export function testSchedulerDeps(
  db: Db,
  env: Record<string, string> = {},
  overrides: Partial<SchedulerDeps> = {},
): SchedulerDeps & { stop: AbortController; abort: AbortController } {
  const stop = new AbortController();
  const abort = new AbortController();
  const deps = createSchedulerDeps(testConfig(env), db, silentLog, { stopClaiming: stop.signal, abortRuns: abort.signal });
  return { ...deps, ...overrides, stop, abort };
}
