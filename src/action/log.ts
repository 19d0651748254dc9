import * as core from '@actions/core';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { Logger } from '../lib/log.js';

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** One pino JSON line as a readable runner log line (`info tick found=3 claimed=3`) and its level. */
function formatLogLine(line: string): { level: string; text: string } {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { level: 'info', text: line };
  }
  const { level, msg, time: _time, pid: _pid, hostname: _host, ...rest } = rec;
  const fields = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const lvl = LEVELS[level as number] ?? String(level);
  const text = `${lvl} ${typeof msg === 'string' ? msg : JSON.stringify(msg ?? '')}${fields.length ? ` ${fields.join(' ')}` : ''}`;
  return { level: lvl, text };
}

/** A pino logger writing readable lines to the runner's log. */
export function createActionLogger(level = 'info'): Logger {
  const out = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        // Warnings and errors become annotations on the run.
        const { level, text } = formatLogLine(line);
        if (level === 'warn') core.warning(text);
        else if (level === 'error' || level === 'fatal') core.error(text);
        else core.info(text);
      }
      done();
    },
  });
  return pino({ level, base: undefined, timestamp: false }, out);
}
