import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { createGitRepo, type GitFixture } from './helpers/github.js';

// `levqor gate update|verify` and `levqor checks`: the same checks as the action, from a shell.

let repo: GitFixture;
beforeAll(() => {
  repo = createGitRepo();
  repo.write({ 'migrations/0001_init.sql': 'CREATE TABLE t (id int);\n', 'src/a.ts': 'export {};\n' });
});
afterAll(() => repo.remove());

describe('levqor gate', () => {
  it('verify without a manifest says how to create one', async () => {
    const r = await runCli(['gate', 'verify', '--root', repo.dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("create it with `levqor gate update --glob 'migrations/**' …`");
  });

  it('update writes the manifest; verify passes, then fails on a changed, added or deleted file', async () => {
    const up = await runCli(['gate', 'update', '--root', repo.dir, '--glob', 'migrations/**']);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toBe('.levqor/critical-files.json: 1 critical files (migrations/**)\n');
    expect((await runCli(['gate', 'verify', '--root', repo.dir])).code).toBe(0);

    repo.write({ 'migrations/0001_init.sql': 'CREATE TABLE t (id bigint);\n', 'migrations/0002_more.sql': 'SELECT 1;\n' });
    const bad = await runCli(['gate', 'verify', '--root', repo.dir, '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      passed: false,
      changes: { changed: ['migrations/0001_init.sql'], added: ['migrations/0002_more.sql'] },
    });

    expect((await runCli(['gate', 'update', '--root', repo.dir])).code).toBe(0);
    expect((await runCli(['gate', 'verify', '--root', repo.dir])).code).toBe(0);
    repo.write({ 'migrations/0002_more.sql': null });
    const gone = await runCli(['gate', 'verify', '--root', repo.dir]);
    expect(gone.code).toBe(1);
    expect(gone.stdout).toContain('deleted: migrations/0002_more.sql');
  });

  it("verify --base lists what a branch changes against the base commit's manifest", async () => {
    repo.write({ 'migrations/0002_more.sql': 'SELECT 1;\n' });
    const base = repo.commit('base');
    repo.write({ 'migrations/0002_more.sql': 'SELECT 2;\n' });
    repo.commit('change');
    const r = await runCli(['gate', 'verify', '--root', repo.dir, '--base', base]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('changed: migrations/0002_more.sql');
    expect(r.stdout).toContain('migrations/0002_more.sql | 2 +-');
  });
});

describe('levqor gate: blind spots', () => {
  it('a glob that matches no file: update and verify warn naming it; verify --strict fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'levqor-gate-cli-'));
    try {
      writeFileSync(join(dir, 'schema.sql'), 'CREATE TABLE t (id int);\n');
      const up = await runCli(['gate', 'update', '--root', dir, '--glob', 'schema.sql', '--glob', 'migrations/**']);
      expect(up.code, up.stderr).toBe(0);
      const warning =
        'warning: critical glob "migrations/**" matches no file: it protects nothing (a typo?); fix or drop it with `levqor gate update --glob …`\n';
      expect(up.stderr).toBe(warning);
      const lax = await runCli(['gate', 'verify', '--root', dir]);
      expect(lax.code).toBe(0);
      expect(lax.stderr).toBe(warning);
      const strict = await runCli(['gate', 'verify', '--root', dir, '--strict']);
      expect(strict.code).toBe(1);
      expect(strict.stdout).toContain('strict: critical glob(s) "migrations/**" match no file.');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a dangling symlink is a clear error (exit 2), not an ENOENT stack', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'levqor-gate-cli-'));
    try {
      writeFileSync(join(dir, 'a.sql'), 'SELECT 1;\n');
      expect((await runCli(['gate', 'update', '--root', dir, '--glob', '*.sql'])).code).toBe(0);
      symlinkSync('gone.sql', join(dir, 'b.sql'));
      const r = await runCli(['gate', 'verify', '--root', dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        'levqor: critical file b.sql is a symlink to "gone.sql", which does not exist: point it at a file, or remove it and run `levqor gate update`\n',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('levqor checks', () => {
  it("--help names every default of the syntax check, the guide's py_compile of run.py among them", async () => {
    const r = await runCli(['checks', '--help']);
    expect(r.code).toBe(0);
    const help = r.stdout.replace(/\s+/g, ' ');
    expect(help).toContain("or the guide's `python3 -m py_compile run.py`");
    expect(help).toContain('`tsc --noEmit` when tsconfig.json exists');
    expect(help).toContain('--strict');
  });

  it('runs the four checks and exits 0 only on 4/4', async () => {
    repo.write({ 'migrations/0002_more.sql': 'SELECT 1;\n' });
    const ok = await runCli(['checks', '--root', repo.dir, '--lint', 'true', '--build', 'true', '--syntax', 'true']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toContain('4/4 checks passed');
    writeFileSync(join(repo.dir, 'broken.js'), 'function (');
    const bad = await runCli(['checks', '--root', repo.dir, '--lint', 'true', '--build', 'true', '--backend-entry', 'broken.js', '--json']);
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.stdout) as { passed: string; checks: { name: string; status: string; command: string }[] };
    expect(report.passed).toBe('3/4');
    expect(report.checks[2]).toMatchObject({ name: 'Backend Syntax', status: 'fail', command: 'node --check "broken.js"' });
  });
});
