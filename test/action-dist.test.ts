import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildAction } from '../scripts/build-action.mjs';
import { REPO_ROOT } from './helpers/cli.js';

// dist/ is committed (a runner runs it as it is): it must be what the sources build to today.

const DIST = join(REPO_ROOT, 'dist');
const fresh = mkdtempSync(join(tmpdir(), 'levqor-dist-'));
afterAll(() => rmSync(fresh, { recursive: true, force: true }));

const filesUnder = (dir: string) =>
  readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => statSync(join(dir, f)).isFile())
    .sort();

describe('dist/ (the bundled action)', () => {
  it('is fresh: a rebuild from the sources gives the same files, byte for byte', async () => {
    const built = await buildAction(fresh);
    const stale = 'dist/ is stale: run `node scripts/build.mjs` and commit dist/';
    expect(filesUnder(DIST), stale).toEqual(built);
    for (const f of built) expect(readFileSync(join(DIST, f)).equals(readFileSync(join(fresh, f))), `${stale} (${f} differs)`).toBe(true);
  });

  it('stays under 1 MB in all', () => {
    const total = filesUnder(DIST).reduce((n, f) => n + statSync(join(DIST, f)).size, 0);
    expect(total).toBeLessThan(1024 * 1024);
  });

  it('starts without node_modules on the Node running the tests (20 in CI): --version', () => {
    const out = execFileSync(process.execPath, [join(DIST, 'index.js'), '--version'], {
      cwd: tmpdir(),
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    });
    expect(out).toBe('levqor-action 0.1.0\n');
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(20);
  });
});
