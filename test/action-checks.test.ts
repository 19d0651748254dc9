import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateManifest } from '../src/checks/manifest.js';
import {
  createGitRepo,
  issueComment,
  pullRequestEvent,
  runAction,
  startAction,
  startFakeGitHub,
  type FakeGitHub,
  type GitFixture,
} from './helpers/github.js';
import { pollUntil } from './helpers/proc.js';

// The four checks through `node dist/index.js`, exactly as a runner starts it.

const PASS = { 'lint-command': 'echo lint ok', 'build-command': 'echo build ok', 'syntax-command': 'echo syntax ok' };
const ESLINT_UNIX = (root: string) =>
  `printf '%s\\n' '${root}/src/app.ts:12:5: Unexpected any. Specify a different type. [Error/@typescript-eslint/no-explicit-any]' '1 problem'; exit 1`;
const ESLINT_STYLISH = (root: string) =>
  `printf '%s\\n' '' '${root}/src/page.ts' '  3:7   error    x is assigned a value but never used  no-unused-vars' '  9:1   warning  Unexpected console statement          no-console' '' '✖ 2 problems (1 error, 1 warning)'; exit 1`;
const TSC = "printf '%s\\n' \"src/server.ts(4,10): error TS2322: Type 'string' is not assignable to type 'number'.\"; exit 2";

/** A process's state letter from /proc (R, S, Z …), or "gone". */
function processState(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /s, '')
      .charAt(0);
  } catch {
    return 'gone';
  }
}

let repo: GitFixture;
let gh: FakeGitHub;
const TOKEN = 'ghs_checksTestToken0123456789';

beforeAll(async () => {
  repo = createGitRepo();
  repo.write({ 'migrations/0001_init.sql': 'CREATE TABLE t (id int);\n', 'src/app.ts': 'export const a = 1;\n', 'README.md': '# shop\n' });
  updateManifest(repo.dir, ['migrations/**']);
  repo.commit('base');
  gh = await startFakeGitHub(TOKEN);
});

afterAll(async () => {
  await gh.close();
  repo.remove();
});

describe('command: checks', () => {
  it('all four pass: 4/4, result pass, a summary table, exit 0', async () => {
    const r = await runAction({ inputs: { command: 'checks', ...PASS }, workspace: repo.dir });
    expect(r.code, r.stdout).toBe(0);
    expect(r.outputs.passed).toBe('4/4');
    expect(r.outputs.result).toBe('pass');
    const report = JSON.parse(r.outputs.report ?? '{}') as { checks: { name: string; status: string }[] };
    expect(report.checks.map((c) => [c.name, c.status])).toEqual([
      ['Frontend Lint', 'pass'],
      ['Frontend Build', 'pass'],
      ['Backend Syntax', 'pass'],
      ['Safety Gate', 'pass'],
    ]);
    expect(r.summary).toContain('<tr><th>Check</th><th>Status</th><th>Duration</th><th>Last lines</th></tr>');
    expect(r.summary).toMatch(/<tr><td>Frontend Build<\/td><td>✅ pass<\/td><td>\d+\.\d s<\/td><td><code>build ok<\/code><\/td><\/tr>/);
    expect(r.errors).toEqual([]);
  });

  it.each([
    ['Frontend Lint', { 'lint-command': 'echo broken >&2; exit 1' }],
    ['Frontend Build', { 'build-command': 'echo "Module not found" >&2; exit 1' }],
    ['Backend Syntax', { 'syntax-command': 'exit 3' }],
  ])('one failure (%s): 3/4, result fail, the step fails naming it', async (name, override) => {
    const r = await runAction({ inputs: { command: 'checks', ...PASS, ...override }, workspace: repo.dir });
    expect(r.code).toBe(1);
    expect(r.outputs.passed).toBe('3/4');
    expect(r.outputs.result).toBe('fail');
    const report = JSON.parse(r.outputs.report ?? '{}') as { checks: { name: string; status: string }[] };
    expect(report.checks.filter((c) => c.status !== 'pass').map((c) => c.name)).toEqual([name]);
    expect(r.errors.at(-1)).toContain(`3/4 checks passed; all 4/4 must pass before deployment. Failed: ${name} (fail)`);
    expect(r.summary).toContain(`<td>${name}</td><td>❌ fail</td>`);
  });

  it('one failure (Safety Gate): a critical file changed without a manifest update', async () => {
    repo.write({ 'migrations/0001_init.sql': 'DROP TABLE t;\n' });
    try {
      const r = await runAction({ inputs: { command: 'checks', ...PASS }, workspace: repo.dir });
      expect(r.code).toBe(1);
      expect(r.outputs.passed).toBe('3/4');
      expect(r.summary).toContain('<td>Safety Gate</td><td>❌ fail</td>');
      expect(r.summary).toContain('<li>changed: migrations/0001_init.sql</li>');
    } finally {
      repo.git('checkout', '--', 'migrations/0001_init.sql');
    }
  });

  it('a check that passes its time limit is killed with its whole process tree', async () => {
    const pidFile = join(repo.dir, 'sleeper.pid');
    const r = await runAction({
      inputs: { command: 'checks', ...PASS, 'build-command': `sleep 120 & echo $! > ${pidFile}; wait`, 'build-timeout-seconds': '1' },
      workspace: repo.dir,
    });
    expect(r.code).toBe(1);
    expect(r.outputs.passed).toBe('3/4');
    expect(r.summary).toContain('<td>Frontend Build</td><td>⏱️ timeout</td>');
    expect(r.summary).toContain('timed out after 1 s (process tree killed)');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    // The background sleep was in the check's process group: it is gone (or a zombie waiting to be reaped), not running on.
    expect(processState(pid)).toMatch(/^(gone|Z)$/);
  });

  it("a cancelled job (SIGTERM) ends the running checks' process trees too", async () => {
    const pidFile = join(repo.dir, 'cancelled.pid');
    const action = startAction({
      inputs: { command: 'checks', ...PASS, 'lint-command': `sleep 120 & echo $! > ${pidFile}; wait` },
      workspace: repo.dir,
    });
    const sleeper = await pollUntil(
      () => Promise.resolve(existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '' && Number(readFileSync(pidFile, 'utf8'))),
      { what: 'the check to start', attempts: 400 },
    );
    process.kill(action.pid as number, 'SIGTERM');
    const r = await action.done;
    expect(r.code).toBe(1);
    expect(r.outputs.passed).toBe('3/4');
    expect(processState(sleeper)).toMatch(/^(gone|Z)$/);
  });

  it('annotates ESLint (unix and stylish) and tsc problems on their files', async () => {
    const r = await runAction({
      inputs: {
        command: 'checks',
        ...PASS,
        'lint-command': ESLINT_UNIX(repo.dir),
        'build-command': ESLINT_STYLISH(repo.dir),
        'syntax-command': TSC,
      },
      workspace: repo.dir,
    });
    expect(r.code).toBe(1);
    expect(r.outputs.passed).toBe('1/4');
    const lines = r.stdout.split('\n');
    expect(lines).toContain(
      '::error title=Frontend Lint,file=src/app.ts,line=12,col=5::Unexpected any. Specify a different type. (@typescript-eslint/no-explicit-any)',
    );
    expect(lines).toContain(
      '::error title=Frontend Build,file=src/page.ts,line=3,col=7::x is assigned a value but never used (no-unused-vars)',
    );
    expect(lines).toContain('::warning title=Frontend Build,file=src/page.ts,line=9,col=1::Unexpected console statement (no-console)');
    expect(lines).toContain(
      "::error title=Backend Syntax,file=src/server.ts,line=4,col=10::TS2322: Type 'string' is not assignable to type 'number'.",
    );
    const report = JSON.parse(r.outputs.report ?? '{}') as { annotations: unknown[] };
    expect(report.annotations).toHaveLength(4);
  });

  it('keeps one sticky pull-request comment: created on the first run, updated in place after', async () => {
    const sha = repo.git('rev-parse', 'HEAD').trim();
    gh.comments.set(7, [issueComment({ id: 1, body: 'LGTM from a human' })]);
    const env = {
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: pullRequestEvent(repo.dir, { number: 7, baseSha: sha, headSha: sha }),
      GITHUB_API_URL: gh.url,
    };
    const first = await runAction({
      inputs: { command: 'checks', ...PASS, 'build-command': 'exit 1', 'github-token': TOKEN },
      env,
      workspace: repo.dir,
    });
    expect(first.code).toBe(1);
    expect(gh.comments.get(7)).toHaveLength(2);
    const sticky = gh.comments.get(7)?.[1];
    expect(sticky?.body).toMatch(/^<!-- levqor-checks -->\n### ❌ Levqor safety checks: 3\/4 passed/);
    expect(sticky?.body).toContain('https://github.com/acme/shop/actions/runs/42');

    const second = await runAction({ inputs: { command: 'checks', ...PASS, 'github-token': TOKEN }, env, workspace: repo.dir });
    expect(second.code, second.stdout).toBe(0);
    expect(gh.comments.get(7)).toHaveLength(2);
    expect(gh.comments.get(7)?.[0]?.body).toBe('LGTM from a human');
    expect(gh.comments.get(7)?.[1]?.id).toBe(sticky?.id);
    expect(gh.comments.get(7)?.[1]?.body).toContain('### ✅ Levqor safety checks: 4/4 passed');
    const writes = gh.calls.filter((c) => c.method !== 'GET').map((c) => `${c.method} ${c.path}`);
    expect(writes).toEqual(['POST /repos/acme/shop/issues/7/comments', `PATCH /repos/acme/shop/issues/comments/${sticky?.id}`]);
  });

  it('a token that cannot comment (a fork) warns; the checks still decide the step', async () => {
    const sha = repo.git('rev-parse', 'HEAD').trim();
    gh.failWith(/\/issues\/8\/comments$/, 403);
    const env = {
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: pullRequestEvent(repo.dir, { number: 8, baseSha: sha, headSha: sha }),
      GITHUB_API_URL: gh.url,
    };
    const r = await runAction({ inputs: { command: 'checks', ...PASS, 'github-token': TOKEN }, env, workspace: repo.dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/::warning::could not write the pull-request comment: GitHub GET .*403/);
  });

  it('a secondary rate limit on the comment is waited out (Retry-After) with a warning on the run', async () => {
    const sha = repo.git('rev-parse', 'HEAD').trim();
    gh.rateLimit(/\/issues\/9\/comments$/, 'secondary', 1, 1);
    const env = {
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: pullRequestEvent(repo.dir, { number: 9, baseSha: sha, headSha: sha }),
      GITHUB_API_URL: gh.url,
    };
    const r = await runAction({ inputs: { command: 'checks', ...PASS, 'github-token': TOKEN }, env, workspace: repo.dir });
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout.split('\n')).toContain(
      '::warning::GitHub secondary rate limit on GET /repos/acme/shop/issues/9/comments: trying again in 1 s (1/2)',
    );
    expect(gh.comments.get(9)).toHaveLength(1);
    expect(gh.comments.get(9)?.[0]?.body).toContain('### ✅ Levqor safety checks: 4/4 passed');
  });

  it('masks secret inputs and never hands them to check commands', async () => {
    const dbPassword = 'pw-Very5ecret';
    const r = await runAction({
      inputs: {
        command: 'checks',
        ...PASS,
        'lint-command': 'env',
        'github-token': TOKEN,
        'api-token': 'lvq_apiTokenSecret42',
        'database-url': `postgres://ci:${dbPassword}@127.0.0.1:1/levqor`,
      },
      workspace: repo.dir,
    });
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toContain(`::add-mask::${TOKEN}`);
    expect(lines).toContain('::add-mask::lvq_apiTokenSecret42');
    expect(lines).toContain(`::add-mask::${dbPassword}`);
    for (const secret of [TOKEN, 'lvq_apiTokenSecret42', dbPassword]) {
      expect(lines.filter((l) => l.includes(secret) && !l.startsWith('::add-mask::'))).toEqual([]);
      expect(r.outputs.report).not.toContain(secret);
      expect(r.summary).not.toContain(secret);
    }
  });

  it('without GITHUB_OUTPUT (an old runner) the outputs use the legacy command, and the summary goes to the log', async () => {
    const r = await runAction({
      inputs: { command: 'checks', ...PASS },
      env: { GITHUB_OUTPUT: '', GITHUB_STEP_SUMMARY: '' },
      workspace: repo.dir,
    });
    expect(r.code, r.stdout).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toContain('::set-output name=passed::4/4');
    expect(lines).toContain('::set-output name=result::pass');
    expect(r.stdout).toContain('<h3>✅ Levqor safety checks: 4/4 passed</h3>');
  });

  it('bad input fails the step naming the input', async () => {
    const r = await runAction({ inputs: { command: 'checks', ...PASS, 'check-timeout-seconds': 'soon' }, workspace: repo.dir });
    expect(r.code).toBe(1);
    expect(r.errors).toEqual(['::error::input check-timeout-seconds: must be a positive number up to 86400 (got "soon")']);
    expect(existsSync(join(repo.dir, 'sleeper.pid'))).toBe(true);
  });
});
