import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runChecks } from '../src/checks/checks.js';
import { verifyLocal } from '../src/checks/gate.js';
import { MANIFEST_PATH, sha256, updateManifest } from '../src/checks/manifest.js';
import { AppError } from '../src/lib/errors.js';

// The safety gate's view of the files, in process on real directories: modes (a file swapped for a
// symlink to the same bytes is a change), globs that match nothing, and errors that say what is wrong.

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'levqor-gate-files-'));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

/** Replaces `path` by a symlink to `target` (relative to the link's folder). */
function link(dir: string, path: string, target: string): void {
  rmSync(join(dir, path), { force: true });
  symlinkSync(target, join(dir, path));
}

const INIT = 'CREATE TABLE t (id int);\n';
const thrown = (fn: () => unknown): AppError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError');
};

describe('safety gate: file modes', () => {
  it('a critical file replaced by a symlink to a file with the same bytes is a change (mode 100644 → 120000)', () => {
    const dir = tree({ 'migrations/0001_init.sql': INIT, 'elsewhere/0001_init.sql': INIT });
    updateManifest(dir, ['migrations/**']);
    link(dir, 'migrations/0001_init.sql', '../elsewhere/0001_init.sql');
    const r = verifyLocal(dir);
    expect(r.passed).toBe(false);
    expect(r.changes.changed).toEqual(['migrations/0001_init.sql']);
    expect(r.changes.modes).toEqual([{ path: 'migrations/0001_init.sql', from: '100644', to: '120000' }]);
    expect(r.lines).toEqual(['changed: migrations/0001_init.sql (mode 100644 → 120000: now a symlink)']);
    // Recorded, the symlink is the expected state; replaced by the plain file again, that is a change too.
    updateManifest(dir);
    expect(verifyLocal(dir).passed).toBe(true);
    rmSync(join(dir, 'migrations/0001_init.sql'));
    writeFileSync(join(dir, 'migrations/0001_init.sql'), INIT);
    expect(verifyLocal(dir).lines).toEqual(['changed: migrations/0001_init.sql (mode 120000 → 100644: now a file)']);
  });

  it('an executable bit set on a critical file is a change', () => {
    const dir = tree({ 'deploy.sh': 'echo deploy\n' });
    updateManifest(dir, ['deploy.sh']);
    chmodSync(join(dir, 'deploy.sh'), 0o755);
    expect(verifyLocal(dir).lines).toEqual(['changed: deploy.sh (mode 100644 → 100755: now an executable)']);
  });

  it('a manifest written before modes were recorded (version 1): a symlink is a change, an executable bit it never saw is not', () => {
    const dir = tree({ 'deploy.sh': 'echo deploy\n', 'migrations/0001_init.sql': INIT, 'elsewhere/0001_init.sql': INIT });
    chmodSync(join(dir, 'deploy.sh'), 0o755);
    const v1 = {
      version: 1,
      globs: ['deploy.sh', 'migrations/**'],
      files: { 'deploy.sh': sha256('echo deploy\n'), 'migrations/0001_init.sql': sha256(INIT) },
    };
    mkdirSync(join(dir, '.levqor'));
    writeFileSync(join(dir, MANIFEST_PATH), JSON.stringify(v1));
    expect(verifyLocal(dir).passed).toBe(true);
    link(dir, 'migrations/0001_init.sql', '../elsewhere/0001_init.sql');
    expect(verifyLocal(dir).lines).toEqual(['changed: migrations/0001_init.sql (mode 100644 → 120000: now a symlink)']);
  });

  it('a symlink whose target changes is a change of the critical file', () => {
    const dir = tree({ 'config/app.yml': 'a: 1\n', 'shared/app.yml': 'a: 1\n' });
    link(dir, 'config/app.yml', '../shared/app.yml');
    updateManifest(dir, ['config/**']);
    writeFileSync(join(dir, 'shared/app.yml'), 'a: 2\n');
    expect(verifyLocal(dir).lines).toEqual(['changed: config/app.yml']);
  });
});

describe('safety gate: globs that match no file', () => {
  it('warns naming the glob; strict fails naming it', () => {
    const dir = tree({ 'migrations/0001_init.sql': INIT });
    const scan = updateManifest(dir, ['migrations/**', 'migratons/**']);
    expect(scan.emptyGlobs).toEqual(['migratons/**']);
    const lax = verifyLocal(dir);
    expect(lax.passed).toBe(true);
    expect(lax.warnings).toEqual([
      'critical glob "migratons/**" matches no file: it protects nothing (a typo?); fix or drop it with `levqor gate update --glob …`',
    ]);
    const strict = verifyLocal(dir, { strict: true });
    expect(strict.passed).toBe(false);
    expect(strict.detail).toBe('strict: critical glob(s) "migratons/**" match no file. 1 critical files match .levqor/critical-files.json');
  });

  it('a glob that matches only the manifest itself matches no file', () => {
    const dir = tree({ 'migrations/0001_init.sql': INIT });
    expect(updateManifest(dir, ['migrations/**', '.levqor/**']).emptyGlobs).toEqual(['.levqor/**']);
  });
});

describe('safety gate: errors say what is wrong', () => {
  it.each([
    [
      'a dangling symlink',
      (dir: string) => link(dir, 'migrations/0002_gone.sql', '../nowhere.sql'),
      'critical file migrations/0002_gone.sql is a symlink to "../nowhere.sql", which does not exist: point it at a file, or remove it and run `levqor gate update`',
    ],
    [
      'a symlink to a folder',
      (dir: string) => link(dir, 'migrations/old', '../elsewhere'),
      'critical file migrations/old is a symlink to "../elsewhere", which is a directory (critical globs must match files): point it at a file, or remove it and run `levqor gate update`',
    ],
    [
      'a symlink loop',
      (dir: string) => link(dir, 'migrations/loop.sql', 'loop.sql'),
      'critical file migrations/loop.sql is a symlink to "loop.sql", which is a loop of symlinks: point it at a file, or remove it and run `levqor gate update`',
    ],
  ])('%s', async (_name, breakIt, message) => {
    const dir = tree({ 'migrations/0001_init.sql': INIT, 'elsewhere/x.sql': INIT });
    updateManifest(dir, ['migrations/**']);
    breakIt(dir);
    const err = thrown(() => verifyLocal(dir));
    expect(err.code).toBe('bad_input');
    expect(err.message).toBe(message);
    // Through the checks, the gate is an error whose detail is that message (no ENOENT, no stack).
    const report = await runChecks({
      root: dir,
      frontendDir: dir,
      lint: { command: 'true', timeoutSeconds: 10 },
      build: { command: 'true', timeoutSeconds: 10 },
      syntax: { command: 'true', timeoutSeconds: 10 },
      gateTimeoutSeconds: 10,
      env: process.env,
    });
    expect(report.checks[3]).toMatchObject({ name: 'Safety Gate', status: 'error', detail: message, output: message });
  });

  it('a glob with an unclosed brace names the glob', () => {
    const dir = tree({ 'a.sql': INIT });
    const err = thrown(() => updateManifest(dir, ['migrations/{a,b']));
    expect(err.code).toBe('bad_input');
    expect(err.message).toBe('glob "migrations/{a,b": unclosed "{"');
  });
});
