// The Postgres server log: a segment of it, and what it says about one database's statements.
import { Buffer } from 'node:buffer';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { statementLabel } from './trace.js';

/** The bytes of a file from offset `from` to `to` (default: its current end), as text. */
export function readFrom(path: string, from: number, to = statSync(path).size): string {
  const buf = Buffer.alloc(Math.max(0, to - from));
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, buf.length, from);
  } finally {
    closeSync(fd);
  }
  return buf.toString('utf8');
}

export interface Timed {
  count: number;
  ms: number;
}

export interface ServerLog {
  statements: Map<string, Timed>;
  plans: Map<string, Timed>;
  triggers: Map<string, Timed>;
}

/**
 * Reads what Postgres logged for one database with log_min_duration_statement = 0 and
 * auto_explain (log_analyze, log_triggers): server time per statement (from the duration
 * lines, and from the plans' executor time), and FK/trigger time.
 */
export function parseServerLog(text: string, db: string): ServerLog {
  const entries: string[][] = [];
  for (const line of text.split('\n')) {
    if (/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/.test(line)) entries.push([line]);
    else entries.at(-1)?.push(line);
  }
  const out: ServerLog = { statements: new Map(), plans: new Map(), triggers: new Map() };
  const add = (map: Map<string, Timed>, key: string, ms: number, n = 1) => {
    const s = map.get(key) ?? { count: 0, ms: 0 };
    s.count += n;
    s.ms += ms;
    map.set(key, s);
  };
  for (const [head = '', ...rest] of entries) {
    if (!head.includes(`@${db} LOG:  duration: `)) continue;
    const m = /duration: ([\d.]+) ms {2}(plan:|statement: |(?:parse|bind|execute) [^:]*: )(.*)$/.exec(head);
    if (!m) continue;
    const [, ms = '', kind = '', sql = ''] = m;
    if (kind === 'plan:') {
      const text = rest.find((l) => l.includes('Query Text: '));
      if (text) add(out.plans, statementLabel(text.slice(text.indexOf('Query Text: ') + 12)), Number(ms));
      for (const l of rest) {
        const t = /Trigger (?:for constraint )?(\S+?)(?: on \S+)?: time=([\d.]+) calls=(\d+)/.exec(l);
        if (t) add(out.triggers, t[1] ?? '', Number(t[2]), Number(t[3]));
      }
    } else {
      add(out.statements, statementLabel(sql), Number(ms), kind.startsWith('parse') || kind.startsWith('bind') ? 0 : 1);
    }
  }
  return out;
}
