import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Folders never walked when listing files for the manifest. */
const SKIP_DIRS = new Set(['.git', 'node_modules']);

/**
 * A glob as a regular expression over `/`-separated relative paths: `**` spans folders,
 * `*` and `?` stay within one, `{a,b}` is an alternative; a glob ending in `/` or naming a
 * folder with `/**` matches everything below it.
 */
export function globToRegExp(glob: string): RegExp {
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
      if (end < 0) throw new Error(`glob "${glob}": unclosed "{"`);
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
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) walk(join(dir, entry.name), rel);
      } else if (entry.isFile() || entry.isSymbolicLink()) out.push(rel);
    }
  };
  walk('.', '');
  return out.sort();
}

/** The paths among `paths` that any of the globs matches. */
export function matchGlobs(paths: readonly string[], globs: readonly string[]): string[] {
  const res = globs.map(globToRegExp);
  return paths.filter((p) => res.some((r) => r.test(p)));
}
