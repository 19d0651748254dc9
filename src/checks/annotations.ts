/** A problem a tool reported at a place in a file: becomes an `::error file=…,line=…::` annotation. */
export interface Annotation {
  file: string;
  line: number;
  col?: number;
  severity: 'error' | 'warning';
  message: string;
  source: string;
}

// tsc: `src/a.ts(12,5): error TS2322: Type …` (also with --pretty false); tsc --pretty: `src/a.ts:12:5 - error TS2322: …`.
const TSC_PAREN = /^(.+?)\((\d+),(\d+)\): (error|warning) (TS\d+): (.*)$/;
const TSC_PRETTY = /^(.+?):(\d+):(\d+) - (error|warning) (TS\d+): (.*)$/;
// ESLint unix formatter: `/abs/file.ts:12:5: Message [Error/rule-name]`.
const ESLINT_UNIX = /^(.+?):(\d+):(\d+): (.*?) \[(Error|Warning)(?:\/([^\]]+))?\]$/;
// ESLint stylish: a file path line, then `  12:5  error  Message  rule-name` lines.
const STYLISH_ROW = /^\s+(\d+):(\d+)\s+(error|warning)\s+(.+?)(?:\s{2,}(\S+))?\s*$/;

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

function isPathLine(line: string): boolean {
  return /^(\/|[A-Za-z]:\\|\.{0,2}[\w@.-]+\/)?[^\s:()]+\.\w+$/.test(line.trim()) && !/^\s/.test(line);
}

/**
 * Parses ESLint (stylish and unix formats) and tsc output into annotations. Paths are kept
 * as printed, made relative to `root` when absolute under it (what the runner expects).
 */
export function parseAnnotations(output: string, root: string, source: string): Annotation[] {
  const out: Annotation[] = [];
  const rel = (file: string) => {
    const f = file.trim();
    const base = root.endsWith('/') ? root : `${root}/`;
    return f.startsWith(base) ? f.slice(base.length) : f;
  };
  let stylishFile: string | undefined;
  for (const raw of output.replace(ANSI, '').split(/\r?\n/)) {
    const tsc = TSC_PAREN.exec(raw) ?? TSC_PRETTY.exec(raw);
    if (tsc) {
      const [, file, line, col, sev, code, msg] = tsc as unknown as [string, string, string, string, string, string, string];
      out.push({
        file: rel(file),
        line: Number(line),
        col: Number(col),
        severity: sev === 'warning' ? 'warning' : 'error',
        message: `${code}: ${msg}`,
        source,
      });
      stylishFile = undefined;
      continue;
    }
    const unix = ESLINT_UNIX.exec(raw);
    if (unix) {
      const [, file, line, col, msg, sev, rule] = unix as unknown as [string, string, string, string, string, string, string | undefined];
      out.push({
        file: rel(file),
        line: Number(line),
        col: Number(col),
        severity: sev === 'Warning' ? 'warning' : 'error',
        message: rule ? `${msg} (${rule})` : msg,
        source,
      });
      continue;
    }
    if (stylishFile) {
      const row = STYLISH_ROW.exec(raw);
      if (row) {
        const [, line, col, sev, msg, rule] = row as unknown as [string, string, string, string, string, string | undefined];
        out.push({
          file: stylishFile,
          line: Number(line),
          col: Number(col),
          severity: sev === 'warning' ? 'warning' : 'error',
          message: rule ? `${msg.trim()} (${rule})` : msg.trim(),
          source,
        });
        continue;
      }
    }
    if (isPathLine(raw)) stylishFile = rel(raw);
    else if (raw.trim() === '') stylishFile = undefined;
  }
  return out;
}
