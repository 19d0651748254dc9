import { Writable } from 'node:stream';
import pino from 'pino';
import type { Logger } from '../lib/log.js';

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** One pino JSON line as a readable runner log line: `info tick found=3 claimed=3`. */
export function formatLogLine(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { level, msg, time: _time, pid: _pid, hostname: _host, ...rest } = rec;
  const fields = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const lvl = LEVELS[level as number] ?? String(level);
  const text = `${lvl} ${typeof msg === 'string' ? msg : JSON.stringify(msg ?? '')}${fields.length ? ` ${fields.join(' ')}` : ''}`;
  // Warnings and errors become annotations on the run.
  return lvl === 'warn' ? `::warning::${text}` : lvl === 'error' || lvl === 'fatal' ? `::error::${text}` : text;
}

/** A pino logger writing readable lines to stdout (the runner's log). */
export function createActionLogger(level = 'info'): Logger {
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) process.stdout.write(`${formatLogLine(line)}\n`);
      done();
    },
  });
  return pino({ level, base: undefined, timestamp: false }, out);
}
