import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateManifest } from '../src/checks/manifest.js';
import { createGitRepo, runLocalAction, type GitFixture } from './helpers/github.js';

// The action under GitHub's own local runner, @github/local-action: it imports src/action/main.ts,
// calls its run() with no arguments and watches @actions/core for outputs.

const PASS = { 'lint-command': 'echo lint ok', 'build-command': 'echo build ok', 'syntax-command': 'echo syntax ok' };
const TOKEN = 'ghs_localActionToken0123';

let repo: GitFixture;
beforeAll(() => {
  repo = createGitRepo();
  repo.write({ 'migrations/0001_init.sql': 'CREATE TABLE t (id int);\n' });
  updateManifest(repo.dir, ['migrations/**']);
  repo.commit('base');
});
afterAll(() => repo.remove());

describe('@github/local-action', () => {
  it('runs the checks and sees their outputs, the summary table, and no secret in the log', async () => {
    const r = await runLocalAction({
      inputs: { command: 'checks', 'working-directory': repo.dir, 'github-token': TOKEN, ...PASS },
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).not.toContain('No outputs were set!');
    expect(r.outputs.passed).toBe('4/4');
    expect(r.outputs.result).toBe('pass');
    expect(JSON.parse(r.outputs.report ?? '{}')).toMatchObject({ passed: '4/4', result: 'pass' });
    expect(r.summary).toContain('<tr><th>Check</th><th>Status</th><th>Duration</th><th>Last lines</th></tr>');
    expect(r.stdout).not.toContain(TOKEN);
  }, 180_000);

  it('a failing check fails the run through core.setFailed, with the outputs still set', async () => {
    const r = await runLocalAction({
      inputs: { command: 'checks', 'working-directory': repo.dir, ...PASS, 'build-command': 'echo "Module not found" >&2; exit 1' },
    });
    expect(r.outputs.passed).toBe('3/4');
    expect(r.outputs.result).toBe('fail');
    expect(r.stdout).toContain('::error::3/4 checks passed; all 4/4 must pass before deployment. Failed: Frontend Build (fail)');
  }, 180_000);
});
