import { rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decideApproval } from '../src/approvals/service.js';
import { CRITICAL_FILES_ACTION } from '../src/checks/levqor-approval.js';
import { updateManifest } from '../src/checks/manifest.js';
import { openDatabase } from '../src/db/open.js';
import { MEMORY_DIR } from '../src/db/pglite.js';
import type { Db } from '../src/db/types.js';
import { createPgDatabase } from './helpers/db.js';
import {
  createGitRepo,
  pullRequestEvent,
  review,
  runAction,
  startFakeGitHub,
  type FakeGitHub,
  type FakeReview,
  type GitFixture,
} from './helpers/github.js';
import { insertTenant } from './helpers/proc.js';

// The safety gate on pull requests: the manifest comes from the base commit of a real git repository.

const TOKEN = 'ghs_gateTestToken';
const OTHERS_PASS = { 'lint-command': 'true', 'build-command': 'true', 'syntax-command': 'true' };
let gh: FakeGitHub;
let repo: GitFixture;
let base: string;
let prNumber = 100;

interface GateReport {
  passed: boolean;
  detail: string;
  changes: {
    added: string[];
    removed: string[];
    changed: string[];
    modes: { path: string; from: string; to: string }[];
    renamed: { from: string; to: string }[];
    manifestChanged: boolean;
  };
  approval: { state: string; by?: string; detail: string } | null;
}

beforeAll(async () => {
  gh = await startFakeGitHub(TOKEN);
});
afterAll(async () => {
  await gh.close();
});

beforeEach(() => {
  repo?.remove();
  repo = createGitRepo();
  repo.write({
    'migrations/0001_init.sql': 'CREATE TABLE orders (id int);\n',
    'migrations/0002_index.sql': 'CREATE INDEX ON orders (id);\n',
    'src/pay.ts': 'export const fee = 1;\n',
    'src/ui.ts': 'export const color = "blue";\n',
  });
  updateManifest(repo.dir, ['migrations/**', 'src/pay.ts']);
  base = repo.commit('base');
  repo.git('checkout', '-q', '-b', 'feature');
});

/** Commits `files` on the feature branch (optionally re-running `levqor gate update`) and runs the checks as on a PR. */
async function runPr(
  files: Record<string, string | null>,
  opts: { updateManifest?: boolean; inputs?: Record<string, string>; reviews?: (head: string) => FakeReview[] } = {},
) {
  repo.write(files);
  if (opts.updateManifest) updateManifest(repo.dir);
  const head = repo.commit('change');
  const number = ++prNumber;
  if (opts.reviews) gh.reviews.set(number, opts.reviews(head));
  const run = await runAction({
    inputs: { command: 'checks', ...OTHERS_PASS, ...opts.inputs },
    env: {
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: pullRequestEvent(repo.dir, { number, baseSha: base, headSha: head }),
      GITHUB_API_URL: gh.url,
    },
    workspace: repo.dir,
  });
  const gate = (JSON.parse(run.outputs.report ?? '{}') as { gate: GateReport }).gate;
  return { run, gate, head, number };
}

describe('safety gate on pull requests (reviews from allowed-approvers)', () => {
  const approvers = { 'allowed-approvers': 'carol, @Dave', 'github-token': TOKEN };

  it('passes when no critical file changed', async () => {
    const { run, gate } = await runPr({ 'src/ui.ts': 'export const color = "red";\n' }, { inputs: approvers });
    expect(run.code, run.stdout).toBe(0);
    expect(gate.passed).toBe(true);
    expect(gate.detail).toContain('no critical file changed');
  });

  it('fails a critical change without an approving review, and shows the diff stat', async () => {
    const { run, gate } = await runPr(
      { 'migrations/0001_init.sql': 'CREATE TABLE orders (id bigint);\n' },
      { updateManifest: true, inputs: approvers, reviews: () => [] },
    );
    expect(run.code).toBe(1);
    expect(run.outputs.passed).toBe('3/4');
    expect(gate.changes.changed).toEqual(['migrations/0001_init.sql']);
    expect(gate.approval?.state).toBe('missing');
    expect(gate.detail).toContain('from one of: carol, dave');
    expect(run.summary).toContain('<h4>Critical files</h4>');
    expect(run.summary).toMatch(/migrations\/0001_init\.sql +\| 2 \+-/);
  });

  it('editing the manifest in the same PR does not let a change through by itself', async () => {
    const { run, gate } = await runPr({ 'src/pay.ts': 'export const fee = 0;\n' }, { updateManifest: true, inputs: approvers });
    expect(run.code).toBe(1);
    expect(gate.changes.changed).toEqual(['src/pay.ts']);
    expect(gate.changes.manifestChanged).toBe(true);
    expect(gate.passed).toBe(false);
  });

  it('passes once an allowed login approved the head commit', async () => {
    const { run, gate } = await runPr(
      { 'src/pay.ts': 'export const fee = 2;\n' },
      {
        updateManifest: true,
        inputs: approvers,
        reviews: (head) => [
          review({ login: 'mallory', state: 'APPROVED', commitId: head }),
          review({ login: 'dave', state: 'COMMENTED', commitId: head }),
          review({ login: 'Dave', state: 'APPROVED', commitId: head }),
        ],
      },
    );
    expect(run.code, run.stdout).toBe(0);
    expect(gate.approval).toMatchObject({ state: 'approved', by: 'github:Dave' });
    expect(gh.calls.some((c) => c.method === 'GET' && c.path.startsWith(`/repos/acme/shop/pulls/${prNumber}/reviews`))).toBe(true);
  });

  it('an approval of an older commit, or one followed by a change request, does not count', async () => {
    const stale = await runPr(
      { 'src/pay.ts': 'export const fee = 3;\n' },
      { updateManifest: true, inputs: approvers, reviews: () => [review({ login: 'carol', state: 'APPROVED', commitId: base })] },
    );
    expect(stale.run.code).toBe(1);
    expect(stale.gate.approval?.detail).toContain(`older approvals do not count: carol approved ${base.slice(0, 7)}`);
    const withdrawn = await runPr(
      { 'src/pay.ts': 'export const fee = 4;\n' },
      {
        updateManifest: true,
        inputs: approvers,
        reviews: (head) => [
          review({ login: 'carol', state: 'APPROVED', commitId: head }),
          review({ login: 'carol', state: 'CHANGES_REQUESTED', commitId: head }),
        ],
      },
    );
    expect(withdrawn.run.code).toBe(1);
    expect(withdrawn.gate.approval).toMatchObject({ state: 'rejected', detail: 'changes requested by carol' });
  });

  it('a team in allowed-approvers lets its active members approve; invited members, outsiders and the author do not count', async () => {
    gh.teams.set(
      'acme/platform',
      new Map([
        ['erin', 'active'],
        ['frank', 'pending'],
        ['alice', 'active'],
      ]),
    );
    const inputs = { 'allowed-approvers': 'carol, @acme/platform', 'github-token': TOKEN };
    const outsiders = await runPr(
      { 'src/pay.ts': 'export const fee = 5;\n' },
      {
        updateManifest: true,
        inputs,
        reviews: (head) => [
          review({ login: 'frank', state: 'APPROVED', commitId: head }),
          review({ login: 'mallory', state: 'APPROVED', commitId: head }),
          review({ login: 'alice', state: 'APPROVED', commitId: head }),
        ],
      },
    );
    expect(outsiders.run.code).toBe(1);
    expect(outsiders.gate.approval).toMatchObject({ state: 'missing' });
    expect(outsiders.gate.approval?.detail).toContain('from one of: carol, acme/platform');
    const member = await runPr(
      { 'src/pay.ts': 'export const fee = 6;\n' },
      { updateManifest: true, inputs, reviews: (head) => [review({ login: 'Erin', state: 'APPROVED', commitId: head })] },
    );
    expect(member.run.code, member.run.stdout).toBe(0);
    expect(member.gate.approval).toMatchObject({
      state: 'approved',
      by: 'github:Erin',
      detail: expect.stringContaining('(member of acme/platform)') as string,
    });
    expect(gh.calls.some((c) => c.path === '/orgs/acme/teams/platform/memberships/erin')).toBe(true);
    const blocked = await runPr(
      { 'src/pay.ts': 'export const fee = 7;\n' },
      { updateManifest: true, inputs, reviews: (head) => [review({ login: 'erin', state: 'CHANGES_REQUESTED', commitId: head })] },
    );
    expect(blocked.gate.approval).toMatchObject({ state: 'rejected', detail: 'changes requested by erin (member of acme/platform)' });
  });

  it('a team the token cannot see fails the gate saying which token it needs', async () => {
    const { run } = await runPr(
      { 'src/pay.ts': 'export const fee = 8;\n' },
      {
        updateManifest: true,
        inputs: { 'allowed-approvers': 'acme/secret-team', 'github-token': TOKEN },
        reviews: (head) => [review({ login: 'erin', state: 'APPROVED', commitId: head })],
      },
    );
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toContain('team acme/secret-team is not visible with github-token');
  });

  it('lists a renamed critical file as a rename and a deleted one as deleted', async () => {
    const renamed = await runPr(
      { 'migrations/0002_index.sql': null, 'migrations/0003_index.sql': 'CREATE INDEX ON orders (id);\n' },
      { updateManifest: true, inputs: approvers },
    );
    expect(renamed.run.code).toBe(1);
    expect(renamed.gate.changes.renamed).toEqual([{ from: 'migrations/0002_index.sql', to: 'migrations/0003_index.sql' }]);
    expect(renamed.run.summary).toContain('renamed: migrations/0002_index.sql → migrations/0003_index.sql');
    const deleted = await runPr({ 'migrations/0001_init.sql': null }, { updateManifest: true, inputs: approvers });
    expect(deleted.run.code).toBe(1);
    expect(deleted.gate.changes.removed).toEqual(['migrations/0001_init.sql']);
    expect(deleted.run.summary).toContain('deleted: migrations/0001_init.sql');
  });

  it('a critical file replaced by a symlink to the same bytes (git mode 100644 → 120000) needs approval', async () => {
    rmSync(join(repo.dir, 'src/pay.ts'));
    symlinkSync('../lib/pay.ts', join(repo.dir, 'src/pay.ts'));
    const { run, gate, head } = await runPr({ 'lib/pay.ts': 'export const fee = 1;\n' }, { inputs: approvers, reviews: () => [] });
    expect(repo.git('ls-tree', head, 'src/pay.ts')).toMatch(/^120000 blob /);
    expect(run.code).toBe(1);
    expect(gate.passed).toBe(false);
    expect(gate.changes.changed).toEqual(['src/pay.ts']);
    expect(gate.changes.modes).toEqual([{ path: 'src/pay.ts', from: '100644', to: '120000' }]);
    expect(run.summary).toContain('<li>changed: src/pay.ts (mode 100644 → 120000: now a symlink)</li>');
  });

  it('a critical glob that matches no file is a warning on the run; with strict: true it fails the gate naming the glob', async () => {
    updateManifest(repo.dir, ['migrations/**', 'src/pay.ts', 'migration/**']);
    base = repo.commit('a typo in the globs');
    const warning =
      '::warning title=Safety Gate::critical glob "migration/**" matches no file: it protects nothing (a typo?); fix or drop it with `levqor gate update --glob …`';
    const lax = await runPr({ 'src/ui.ts': 'export const color = "green";\n' }, { inputs: approvers });
    expect(lax.run.code, lax.run.stdout).toBe(0);
    expect(lax.run.stdout.split('\n')).toContain(warning);
    const strict = await runPr({ 'src/ui.ts': 'export const color = "teal";\n' }, { inputs: { ...approvers, strict: 'true' } });
    expect(strict.run.code).toBe(1);
    expect(strict.gate.passed).toBe(false);
    expect(strict.gate.detail).toMatch(/^strict: critical glob\(s\) "migration\/\*\*" match no file\. no critical file changed/);
    expect(strict.run.errors.at(-1)).toContain('Failed: Safety Gate (fail)');
  });

  it('an approved PR whose own manifest is stale still fails, saying how to fix it', async () => {
    const { run, gate } = await runPr(
      { 'src/pay.ts': 'export const fee = 5;\n' },
      { inputs: approvers, reviews: (head) => [review({ login: 'carol', state: 'APPROVED', commitId: head })] },
    );
    expect(run.code).toBe(1);
    expect(gate.approval?.state).toBe('approved');
    expect(gate.detail).toContain('run `levqor gate update` and commit it');
  });
});

describe('safety gate with a Levqor Class C approval (database-url)', () => {
  let db: Db;
  let url: string;
  let drop: () => Promise<void>;
  let tenantId: string;

  beforeAll(async () => {
    ({ url, drop } = await createPgDatabase('levqor_gate', { template: true }));
    db = await openDatabase({
      DATABASE_URL: url,
      LEVQOR_DATA_DIR: MEMORY_DIR,
      LEVQOR_DB_POOL_MAX: 4,
      LEVQOR_DB_CONNECT_TIMEOUT_MS: 10_000,
    });
    tenantId = await insertTenant(db, 'acme');
  });
  afterAll(async () => {
    await db.close();
    await drop();
  });

  it('asks once, stays red while pending, passes after approval, and a new push asks again', async () => {
    repo.write({ 'src/pay.ts': 'export const fee = 9;\n' });
    updateManifest(repo.dir);
    const head = repo.commit('raise the fee');
    const env = {
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: pullRequestEvent(repo.dir, { number: 300, baseSha: base, headSha: head, author: 'alice' }),
      GITHUB_API_URL: gh.url,
    };
    const inputs = { command: 'checks', ...OTHERS_PASS, 'database-url': url };
    const gateOf = (r: { outputs: Record<string, string> }) => (JSON.parse(r.outputs.report ?? '{}') as { gate: GateReport }).gate;

    const first = await runAction({ inputs, env, workspace: repo.dir });
    expect(first.code, first.stdout).toBe(1);
    expect(gateOf(first).approval?.state).toBe('pending');
    const { rows } = await db.query<{
      id: string;
      status: string;
      impact_class: string;
      payload: Record<string, unknown>;
      requested_by: string;
    }>('SELECT id, status, impact_class, payload, requested_by FROM approval_queue WHERE tenant_id = $1 AND action_type = $2', [
      tenantId,
      CRITICAL_FILES_ACTION,
    ]);
    expect(rows).toHaveLength(1);
    const request = rows[0]!;
    expect(request).toMatchObject({ status: 'pending', impact_class: 'C', requested_by: 'github:alice' });
    expect(request.payload).toMatchObject({
      repository: 'acme/shop',
      pull_request: 300,
      head_sha: head,
      files: ['changed: src/pay.ts', 'changed: .levqor/critical-files.json (the manifest itself)'],
    });
    expect(gateOf(first).detail).toContain(`requested Levqor approval ${request.id}`);

    const again = await runAction({ inputs, env, workspace: repo.dir });
    expect(again.code).toBe(1);
    expect(gateOf(again).approval?.detail).toContain(`waiting for Levqor approval ${request.id}`);

    await decideApproval(db, { id: request.id, tenantId, decision: 'approve', actor: 'slack:U0CAROL', channel: 'slack' });
    const approved = await runAction({ inputs, env, workspace: repo.dir });
    expect(approved.code, approved.stdout).toBe(0);
    expect(approved.outputs.passed).toBe('4/4');
    expect(gateOf(approved).approval).toMatchObject({ state: 'approved', by: 'slack:U0CAROL' });
    const count = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM approval_queue WHERE tenant_id = $1', [tenantId]);
    expect(count.rows[0]?.n).toBe(1);

    // A new commit is a new thing to approve.
    repo.write({ 'src/pay.ts': 'export const fee = 10;\n' });
    updateManifest(repo.dir);
    const next = repo.commit('raise it more');
    const pushed = await runAction({
      inputs,
      env: { ...env, GITHUB_EVENT_PATH: pullRequestEvent(repo.dir, { number: 300, baseSha: base, headSha: next }) },
      workspace: repo.dir,
    });
    expect(pushed.code).toBe(1);
    expect(gateOf(pushed).approval?.state).toBe('pending');
  });

  it('a rejection fails the gate with who rejected and why', async () => {
    repo.write({ 'migrations/0001_init.sql': 'DROP TABLE orders;\n' });
    updateManifest(repo.dir);
    const head = repo.commit('drop it');
    const env = {
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: pullRequestEvent(repo.dir, { number: 301, baseSha: base, headSha: head }),
    };
    const inputs = { command: 'checks', ...OTHERS_PASS, 'database-url': url };
    await runAction({ inputs, env, workspace: repo.dir });
    const { rows } = await db.query<{ id: string }>(`SELECT id FROM approval_queue WHERE payload->>'pull_request' = '301'`);
    await decideApproval(db, {
      id: rows[0]!.id,
      tenantId,
      decision: 'reject',
      actor: 'cli:carol',
      channel: 'cli',
      reason: 'not during the sale',
    });
    const r = await runAction({ inputs, env, workspace: repo.dir });
    expect(r.code).toBe(1);
    expect(r.summary).toContain(`was rejected by cli:carol: not during the sale`);
  });
});
