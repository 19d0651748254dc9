import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { updateManifest } from '../src/checks/manifest.js';
import { REPO_ROOT } from './helpers/cli.js';
import { createGitRepo, runAction, type GitFixture } from './helpers/github.js';

// `uses: OWNER/levqor@v1` from another repository: the runner downloads action.yml and dist/ into
// its own folder (no node_modules anywhere), applies action.yml's defaults as inputs, and runs
// the bundle in the caller's workspace — here a Python project with no package.json.

const action = parse(readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
  runs: { main: string };
};
/** The inputs a runner sets from action.yml's defaults, then the step's `with:`. */
const withDefaults = (given: Record<string, string>) => ({
  ...Object.fromEntries(
    Object.entries(action.inputs)
      .filter(([, i]) => i.default !== undefined)
      .map(([k, i]) => [k, String(i.default)]),
  ),
  ...given,
});

let actionDir: string;
let actionPath: string;
let repo: GitFixture;

beforeAll(() => {
  actionDir = mkdtempSync(join(tmpdir(), 'levqor-uses-'));
  const home = join(actionDir, '_actions/OWNER/levqor/v1');
  mkdirSync(home, { recursive: true });
  cpSync(join(REPO_ROOT, 'action.yml'), join(home, 'action.yml'));
  cpSync(join(REPO_ROOT, dirname(action.runs.main)), join(home, dirname(action.runs.main)), { recursive: true });
  actionPath = join(home, action.runs.main);
  repo = createGitRepo();
  repo.write({
    'run.py': 'from app import greet\nprint(greet())\n',
    'app/__init__.py': 'def greet():\n    return "hi"\n',
    'migrations/001_init.sql': 'CREATE TABLE t (id int);\n',
  });
  updateManifest(repo.dir, ['migrations/**']);
  repo.commit('a Python service');
});

afterAll(() => {
  rmSync(actionDir, { recursive: true, force: true });
  repo.remove();
});

describe('the action in a repository that is not an npm project', () => {
  it('the copied bundle has no node_modules to lean on, and the repository no package.json', () => {
    for (let d = dirname(actionPath); d !== dirname(d); d = dirname(d)) expect(existsSync(join(d, 'node_modules')), d).toBe(false);
    expect(existsSync(join(repo.dir, 'package.json'))).toBe(false);
  });

  it("with its own lint and build commands: 4/4 (syntax by the guide's py_compile of run.py, the gate unchanged)", async () => {
    const r = await runAction({
      actionPath,
      workspace: repo.dir,
      inputs: withDefaults({ 'lint-command': 'python3 -m compileall -q app', 'build-command': 'python3 -c "import app"' }),
    });
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs.passed).toBe('4/4');
    const report = JSON.parse(r.outputs.report ?? '{}') as { checks: { name: string }[] };
    expect(r.stdout).toContain('✓ Backend Syntax: pass');
    expect(report.checks.map((c) => c.name)).toEqual(['Frontend Lint', 'Frontend Build', 'Backend Syntax', 'Safety Gate']);
  });

  it('the backend syntax check fails on a broken run.py', async () => {
    repo.write({ 'run.py': 'def broken(:\n' });
    try {
      const r = await runAction({
        actionPath,
        workspace: repo.dir,
        inputs: withDefaults({ 'lint-command': 'true', 'build-command': 'true' }),
      });
      expect(r.code).toBe(1);
      expect(r.outputs.passed).toBe('3/4');
      expect(r.errors.at(-1)).toContain('Failed: Backend Syntax (fail)');
      expect(r.stdout).toContain('SyntaxError');
    } finally {
      repo.git('checkout', '--', 'run.py');
    }
  });

  it("with the defaults only, lint and build fail naming the input to set, not with npm's ENOENT", async () => {
    const r = await runAction({ actionPath, workspace: repo.dir, inputs: withDefaults({}) });
    expect(r.code).toBe(1);
    expect(r.outputs.passed).toBe('2/4');
    expect(r.stdout).toContain('not an npm project, so "npm run lint" cannot run; set the lint-command input');
    expect(r.stdout).toContain('not an npm project, so "npm run build" cannot run; set the build-command input');
    expect(r.stdout).not.toContain('npm error');
  });
});

describe('release.yml moves the major tag', () => {
  const workflow = parse(readFileSync(join(REPO_ROOT, '.github/workflows/release.yml'), 'utf8')) as {
    jobs: Record<string, { steps: { run?: string }[] }>;
  };
  const script =
    Object.values(workflow.jobs)
      .flatMap((j) => j.steps)
      .find((s) => s.run?.includes('refs/tags/$MAJOR'))?.run ?? '';
  let dir: string;
  let clone: GitFixture;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'levqor-release-'));
    execFileSync('git', ['init', '-q', '--bare', join(dir, 'origin.git')]);
    clone = createGitRepo();
    clone.git('remote', 'add', 'origin', join(dir, 'origin.git'));
    clone.write({ 'action.yml': 'name: Levqor\n', 'dist/index.js': '// 1.0.0\n' });
    clone.commit('1.0.0');
    clone.git('tag', 'v1.0.0');
    clone.git('tag', 'v1');
    clone.git('push', '-q', 'origin', 'HEAD:main', '--tags');
  });
  afterAll(() => {
    clone.remove();
    rmSync(dir, { recursive: true, force: true });
  });
  const runScript = (tag: string) => {
    const summary = join(dir, 'summary');
    writeFileSync(summary, '');
    const r = spawnSync('bash', ['-c', script], {
      cwd: clone.dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TAG: tag, GITHUB_STEP_SUMMARY: summary },
    });
    return { ...r, summary: readFileSync(summary, 'utf8') };
  };
  const originTag = (name: string) =>
    execFileSync('git', ['--git-dir', join(dir, 'origin.git'), 'rev-parse', `${name}^{commit}`], { encoding: 'utf8' }).trim();

  it('a release v1.1.0 moves v1 to it on the remote', () => {
    clone.write({ 'dist/index.js': '// 1.1.0\n' });
    const sha = clone.commit('1.1.0');
    clone.git('tag', 'v1.1.0');
    clone.git('push', '-q', 'origin', 'HEAD:main', 'v1.1.0');
    expect(originTag('v1')).not.toBe(sha);
    const r = runScript('v1.1.0');
    expect(r.status, r.stderr).toBe(0);
    expect(originTag('v1')).toBe(sha);
    expect(originTag('v1.0.0')).not.toBe(sha);
    expect(r.summary).toContain('moved v1 to v1.1.0');
  });

  it('a tag that is not vMAJOR.MINOR.PATCH moves nothing', () => {
    const before = originTag('v1');
    const r = runScript('v1.2');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('::error::release tag v1.2 is not vMAJOR.MINOR.PATCH');
    expect(originTag('v1')).toBe(before);
  });
});
