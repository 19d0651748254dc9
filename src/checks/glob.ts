import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../lib/errors.js';

/** Folders never walked when listing files for the manifest. */
const SKIP_DIRS = new Set(['.git', 'node_modules']);

/**
 * A glob as a regular expression over `/`-separated relative paths: `**` spans folders,
 * `*` and `?` stay within one, `{a,b}` is an alternative; a glob ending in `/` or naming a
 * folder with `/**` matches everything below it.
 */
function globToRegExp(glob: string): RegExp {
  let g = glob.trim().replace(/^\.\//, '');
  if (g.endsWith('/')) g += '**';
  let re = '';
  for (let i = 0; i < g.length; i++) {
    const c = g[i] as string;
    if (c === '*' && g[i + 1] === '*') {
      const slash = g[i + 2] === '/';
      re += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const end = g.indexOf('}', i);
      if (end < 0) throw new AppError('bad_input', `glob "${glob}": unclosed "{"`, [glob]);
      re += `(?:${g
        .slice(i + 1, end)
        .split(',')
        .map((alt) => alt.replace(/[.+^$()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*'))
        .join('|')})`;
      i = end;
    } else re += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Every file under root (relative, `/`-separated, sorted), skipping .git and node_modules. */
export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, prefix: string) => {
    let entries;
    try {
      entries = readdirSync(join(root, dir), { withFileTypes: true });
    } catch (err) {
      throw new AppError(
        'bad_input',
        `cannot list the files in ${prefix || root} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        [],
        {
          cause: err,
        },
      );
    }
    for (const entry of entries) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) walk(join(dir, entry.name), rel);
      } else if (entry.isFile() || entry.isSymbolicLink()) out.push(rel);
    }
  };
  walk('.', '');
  return out.sort();
}

/** The paths among `paths` that any of the globs matches, and the globs that match none of them. */
export function scanGlobs(paths: readonly string[], globs: readonly string[]): { matched: string[]; empty: string[] } {
  const res = globs.map((g) => ({ glob: g, re: globToRegExp(g), hits: 0 }));
  const matched = paths.filter((p) => {
    const hits = res.filter((r) => r.re.test(p));
    for (const h of hits) h.hits++;
    return hits.length > 0;
  });
  return { matched, empty: res.filter((r) => r.hits === 0).map((r) => r.glob) };
}
