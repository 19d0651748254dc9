import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { INPUT_DEFAULTS, INPUTS, OUTPUTS } from '../src/action/inputs.js';
import { DEFAULT_SYNTAX_CHECK } from '../src/checks/checks.js';
import { REPO_ROOT } from './helpers/cli.js';

// Lints this repository's workflows and action.yml for the rules the project keeps.

const WORKFLOWS = join(REPO_ROOT, '.github/workflows');
const files = readdirSync(WORKFLOWS)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();

interface Step {
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
interface Job {
  permissions?: unknown;
  steps?: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: unknown;
  concurrency?: { group?: string };
  jobs: Record<string, Job>;
}

const load = (file: string) => ({
  text: readFileSync(join(WORKFLOWS, file), 'utf8'),
  doc: parse(readFileSync(join(WORKFLOWS, file), 'utf8')) as Workflow,
});
const steps = (wf: Workflow) => Object.values(wf.jobs).flatMap((j) => j.steps ?? []);

/** Event fields an outsider controls: never expanded into a shell script. */
const UNTRUSTED = /\$\{\{[^}]*\b(github\.event\.|github\.head_ref|inputs\.)/;

describe('.github/workflows', () => {
  it('has ci.yml, checks.yml, levqor-scheduler.yml and release.yml', () => {
    expect(files).toEqual(expect.arrayContaining(['checks.yml', 'ci.yml', 'levqor-scheduler.yml', 'release.yml']));
  });

  it.each(files)('%s: least-privilege permissions at the top, never write-all', (file) => {
    const { doc } = load(file);
    expect(doc.permissions, `${file} must declare top-level permissions`).toBeDefined();
    expect(doc.permissions).not.toBe('write-all');
    const grants = [
      { where: 'top', p: doc.permissions },
      ...Object.entries(doc.jobs).map(([name, j]) => ({ where: name, p: j.permissions })),
    ].filter((g): g is { where: string; p: Record<string, string> } => typeof g.p === 'object' && g.p !== null);
    for (const { where, p } of grants) {
      for (const [scope, level] of Object.entries(p)) {
        expect(['read', 'none', 'write'], `${file}: ${scope}`).toContain(level);
        // Write access only where a step needs it: comments on pull requests; and release.yml's
        // one job that moves the major tag (contents), never at the top where every job gets it.
        const tagMover = file === 'release.yml' && where === 'move-major-tag' && scope === 'contents';
        if (level === 'write' && !tagMover) expect(['pull-requests', 'issues'], `${file}: ${where}: ${scope}: write`).toContain(scope);
      }
    }
  });

  it.each(files)('%s: third-party actions pinned by full commit SHA, with the version tag in a comment', (file) => {
    const { doc, text } = load(file);
    for (const s of steps(doc)) {
      if (!s.uses || s.uses.startsWith('./') || s.uses.startsWith('docker://')) continue;
      expect(s.uses, `${file}: ${s.uses}`).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
      const line = text.split('\n').find((l) => l.includes(s.uses as string));
      expect(line, `${file}: ${s.uses} needs "# vX.Y.Z"`).toMatch(/# v\d+(\.\d+)*\b/);
    }
  });

  it.each(files)('%s: untrusted pull-request fields reach scripts only through env:', (file) => {
    const { doc } = load(file);
    expect(Object.keys(doc.on)).not.toContain('pull_request_target');
    for (const s of steps(doc)) if (s.run) expect(s.run, `${file}: run: must not expand event fields`).not.toMatch(UNTRUSTED);
  });

  it('the linter itself catches what it should', () => {
    expect('echo "${{ github.event.pull_request.title }}"').toMatch(UNTRUSTED);
    expect('echo "${{ github.head_ref }}"').toMatch(UNTRUSTED);
    expect('echo "$PR_TITLE"').not.toMatch(UNTRUSTED);
    expect('actions/checkout@v4').not.toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
  });

  it("checks.yml runs this repository's action (uses: ./) on pull requests, with the base branch's code", () => {
    const { doc } = load('checks.yml');
    expect(Object.keys(doc.on)).toEqual(['pull_request']);
    const action = steps(doc).find((s) => s.uses === './');
    expect(action?.with).toMatchObject({ command: 'checks', 'working-directory': 'pr' });
    const [base, pr] = steps(doc).filter((s) => s.uses?.startsWith('actions/checkout@'));
    expect(base?.with).toMatchObject({ ref: '${{ github.event.pull_request.base.sha }}' });
    expect(pr?.with).toMatchObject({ path: 'pr', 'fetch-depth': 0 });
  });

  it('levqor-scheduler.yml: every five minutes, one tick at a time', () => {
    const { doc } = load('levqor-scheduler.yml');
    expect(doc.on.schedule).toEqual([{ cron: '*/5 * * * *' }]);
    expect(doc.concurrency).toMatchObject({ group: 'levqor-scheduler', 'cancel-in-progress': false });
    expect(steps(doc).find((s) => s.uses === './')?.with).toMatchObject({
      command: 'scheduler',
      'database-url': '${{ secrets.LEVQOR_DATABASE_URL }}',
    });
  });

  it('release.yml: a published release moves its major tag (v1), tag name through env:, pre-releases skipped', () => {
    const { doc } = load('release.yml');
    expect(doc.on).toEqual({ release: { types: ['published'] } });
    expect(doc.permissions).toEqual({ contents: 'read' });
    const job = doc.jobs['move-major-tag'] as Job & { if?: string };
    expect(job.if).toContain('!github.event.release.prerelease');
    const move = steps(doc).find((s) => s.run?.includes('git push --force origin "refs/tags/$MAJOR"'));
    expect(move?.env).toEqual({ TAG: '${{ github.event.release.tag_name }}' });
    expect(move?.run).toContain('MAJOR="${TAG%%.*}"');
  });

  it('ci.yml installs chromium and runs .ci/run', () => {
    const runs = steps(load('ci.yml').doc).map((s) => s.run ?? '');
    expect(runs.some((r) => r.includes('apt-get install -y chromium'))).toBe(true);
    expect(runs).toContain('bash .ci/run');
  });
});

describe('action.yml', () => {
  const action = parse(readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8')) as {
    runs: { using: string; main: string };
    inputs: Record<string, { description: string; default?: string }>;
    outputs: Record<string, unknown>;
  };

  it('runs dist/index.js on node24', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
  });

  it('declares exactly the inputs and outputs the code reads and writes', () => {
    expect(Object.keys(action.inputs).sort()).toEqual(Object.values(INPUTS).sort());
    expect(Object.keys(action.outputs).sort()).toEqual([...OUTPUTS].sort());
    for (const [name, input] of Object.entries(action.inputs)) expect(input.description, name).toBeTruthy();
  });

  it('describes the default syntax check as the code and `levqor checks --help` do', () => {
    expect(action.inputs['syntax-command']?.description).toBe(`Check 3, backend syntax. Default: ${DEFAULT_SYNTAX_CHECK}.`);
  });

  it('declares exactly the defaults the code falls back to (INPUT_DEFAULTS)', () => {
    const declared = Object.fromEntries(
      Object.entries(action.inputs)
        .filter(([, i]) => i.default !== undefined)
        .map(([name, i]) => [name, String(i.default)]),
    );
    expect(declared).toEqual(INPUT_DEFAULTS);
  });
});
