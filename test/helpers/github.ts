import { verify, type KeyObject } from 'node:crypto';
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFixture, setPaths } from './fixtures.js';

/** The committed action bundle, run as a runner runs it. */
export const ACTION_PATH = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

export interface RecordedCall {
  method: string;
  path: string;
  body: unknown;
  authorization?: string;
}

/** An issue comment as the REST API returns it (test/fixtures/github/issue-comment.json). */
export interface FakeComment {
  id: number;
  body: string;
  user: { login: string };
  [field: string]: unknown;
}

/** A pull request review as the REST API returns it (test/fixtures/github/review.json). */
export interface FakeReview {
  id: number;
  user: { login: string };
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED';
  commit_id: string;
  submitted_at: string;
  [field: string]: unknown;
}

/** The error bodies GitHub answers with (test/fixtures/github/errors.json). */
type GitHubError = 'bad_credentials' | 'not_found' | 'forbidden' | 'server_error' | 'secondary_rate_limit' | 'primary_rate_limit';

function githubError(kind: GitHubError): Record<string, unknown> {
  const all = readFixture<Record<GitHubError, Record<string, unknown>>>('github/errors.json');
  return all[kind];
}

/** The error body for a failure status the fake is told to answer with. */
function errorFor(status: number): Record<string, unknown> {
  if (status >= 500) return githubError('server_error');
  if (status === 401) return githubError('bad_credentials');
  if (status === 404) return githubError('not_found');
  return githubError('forbidden');
}

let ids = 1000;

/** An issue comment as the REST API returns it, by `login` (default bob). */
export function issueComment(o: { body: string; id?: number; login?: string }): FakeComment {
  const id = o.id ?? ++ids;
  return setPaths(readFixture<FakeComment>('github/issue-comment.json'), {
    id,
    body: o.body,
    'user.login': o.login ?? 'bob',
    url: `https://api.github.com/repos/acme/shop/issues/comments/${id}`,
    html_url: `https://github.com/acme/shop/pull/7#issuecomment-${id}`,
  });
}

/** A pull request review as the REST API returns it: `login`'s verdict on `commitId`, submitted in id order. */
export function review(o: { login: string; state: FakeReview['state']; commitId: string; id?: number }): FakeReview {
  const id = o.id ?? ++ids;
  return setPaths(readFixture<FakeReview>('github/review.json'), {
    id,
    'user.login': o.login,
    state: o.state,
    commit_id: o.commitId,
    submitted_at: new Date(Date.UTC(2026, 0, 1) + id * 1000).toISOString(),
  });
}

/** A local stand-in for the GitHub REST API: issue comments, PR reviews, repository_dispatch. Records every call. */
export interface FakeGitHub {
  url: string;
  calls: RecordedCall[];
  comments: Map<number, FakeComment[]>;
  reviews: Map<number, FakeReview[]>;
  /** Teams by "org/slug" (lower case), each with its members' states; a team missing here answers 404, as one the token cannot see. */
  teams: Map<string, Map<string, 'active' | 'pending'>>;
  dispatches: { repo: string; event_type: string; client_payload: unknown }[];
  /** Installation tokens minted for the GitHub App (with startFakeGitHub's `app`), with the JWT's claims. */
  mints: { installationId: number; claims: Record<string, unknown>; token: string }[];
  /** Answers the next calls matching `pathPattern` (`times` of them, default all) with `status` (e.g. 403 for a fork's token). */
  failWith(pathPattern: RegExp, status: number, times?: number): void;
  /**
   * Answers the next `times` calls matching `pathPattern` as GitHub does when a rate limit is hit:
   * a secondary limit (403, "secondary rate limit", Retry-After) or the primary one (403,
   * x-ratelimit-remaining 0, reset now).
   */
  rateLimit(pathPattern: RegExp, kind: 'secondary' | 'primary', times?: number, retryAfterSeconds?: number): void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : undefined;
}

/** A GitHub App the fake knows: its JWTs (RS256, signed with the App's key) mint installation tokens. */
export interface FakeGitHubApp {
  id: number;
  installationId: number;
  publicKey: KeyObject;
}

/** The claims of an RS256 JWT signed by `key`, or a reason it is refused (as GitHub checks: signature, iss, exp). */
function verifyAppJwt(jwt: string, app: FakeGitHubApp): Record<string, unknown> | string {
  const [header = '', payload = '', signature = ''] = jwt.split('.');
  const json = (part: string) => {
    try {
      return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  const alg = json(header)?.alg;
  if (alg !== 'RS256') return `alg ${String(alg)}`;
  if (!verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), app.publicKey, Buffer.from(signature, 'base64url'))) return 'signature';
  const claims = json(payload) ?? {};
  if (String(claims.iss) !== String(app.id)) return `iss ${String(claims.iss)}`;
  if (typeof claims.exp !== 'number' || claims.exp < Date.now() / 1000) return 'expired';
  return claims;
}

/**
 * Starts the fake on 127.0.0.1; requests need `Authorization: Bearer <token>` (or `token <token>`),
 * or an installation token minted for `app` (POST /app/installations/:id/access_tokens with the App's JWT).
 */
export async function startFakeGitHub(token: string, opts: { app?: FakeGitHubApp } = {}): Promise<FakeGitHub> {
  const mints: FakeGitHub['mints'] = [];
  const accepted = new Set([token]);
  const calls: RecordedCall[] = [];
  const comments = new Map<number, FakeComment[]>();
  const reviews = new Map<number, FakeReview[]>();
  const teams: FakeGitHub['teams'] = new Map();
  const dispatches: FakeGitHub['dispatches'] = [];
  const failures: { pattern: RegExp; status: number; left: number }[] = [];
  const limits: { pattern: RegExp; kind: 'secondary' | 'primary'; left: number; retryAfter: number }[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const body = await readBody(req);
      calls.push({ method: req.method ?? '', path: url.pathname + url.search, body, authorization: req.headers.authorization });
      const send = (status: number, data?: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(data === undefined ? '' : JSON.stringify(data));
      };
      let m: RegExpExecArray | null;
      if (opts.app && (m = /^\/app\/installations\/(\d+)\/access_tokens$/.exec(url.pathname)) && req.method === 'POST') {
        const claims = verifyAppJwt(/^bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '', opts.app);
        if (typeof claims === 'string') return send(401, { message: `A JSON web token could not be decoded (${claims})` });
        if (Number(m[1]) !== opts.app.installationId) return send(404, githubError('not_found'));
        const minted = `ghs_fakeInstallation${mints.length + 1}`;
        accepted.add(minted);
        mints.push({ installationId: Number(m[1]), claims, token: minted });
        return send(201, { token: minted, expires_at: new Date(Date.now() + 3_600_000).toISOString(), permissions: {} });
      }
      // GitHub takes both schemes: `Bearer` (fetch callers) and `token` (Octokit's for a token that is not a JWT).
      const presented = /^(?:bearer|token) (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
      if (!presented || !accepted.has(presented)) return send(401, githubError('bad_credentials'));
      const failure = failures.find((f) => f.left > 0 && f.pattern.test(url.pathname));
      if (failure) {
        failure.left--;
        return send(failure.status, errorFor(failure.status));
      }
      const limit = limits.find((l) => l.left > 0 && l.pattern.test(url.pathname));
      if (limit) {
        limit.left--;
        if (limit.kind === 'secondary') return send(403, githubError('secondary_rate_limit'), { 'retry-after': String(limit.retryAfter) });
        return send(403, githubError('primary_rate_limit'), {
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + limit.retryAfter),
        });
      }
      const page = Number(url.searchParams.get('page') ?? '1');
      const perPage = Number(url.searchParams.get('per_page') ?? '30');
      /** One page of a list, with GitHub's Link header pointing at the next one. */
      const sendPage = <T>(rows: T[]) => {
        const next = new URL(url.pathname, `http://${req.headers.host ?? '127.0.0.1'}`);
        next.searchParams.set('per_page', String(perPage));
        next.searchParams.set('page', String(page + 1));
        const more = page * perPage < rows.length;
        return send(200, rows.slice((page - 1) * perPage, page * perPage), more ? { link: `<${next.href}>; rel="next"` } : {});
      };
      if ((m = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(url.pathname))) {
        const issue = Number(m[1]);
        const list = comments.get(issue) ?? [];
        if (req.method === 'GET') return sendPage(list);
        if (req.method === 'POST') {
          const c = issueComment({ body: (body as { body: string }).body, login: 'github-actions[bot]' });
          comments.set(issue, [...list, c]);
          return send(201, c);
        }
      }
      if ((m = /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/.exec(url.pathname)) && req.method === 'PATCH') {
        for (const list of comments.values()) {
          const c = list.find((x) => x.id === Number(m?.[1]));
          if (c) {
            c.body = (body as { body: string }).body;
            return send(200, c);
          }
        }
        return send(404, githubError('not_found'));
      }
      if ((m = /^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)\/reviews$/.exec(url.pathname)) && req.method === 'GET') {
        return sendPage(reviews.get(Number(m[1])) ?? []);
      }
      if ((m = /^\/orgs\/([^/]+)\/teams\/([^/]+)(?:\/memberships\/([^/]+))?$/.exec(url.pathname)) && req.method === 'GET') {
        const members = teams.get(`${m[1] ?? ''}/${m[2] ?? ''}`.toLowerCase());
        if (!members) return send(404, githubError('not_found'));
        if (!m[3]) return send(200, setPaths(readFixture('github/team.json'), { slug: m[2], name: m[2] }));
        const state = members.get(decodeURIComponent(m[3]).toLowerCase());
        return state ? send(200, setPaths(readFixture('github/team-membership.json'), { state })) : send(404, githubError('not_found'));
      }
      // What a `github` step creates: workflow runs (204), issues, deployments and their statuses.
      if (/^\/repos\/[^/]+\/[^/]+\/actions\/workflows\/[^/]+\/dispatches$/.test(url.pathname) && req.method === 'POST') return send(204);
      if (/^\/repos\/[^/]+\/[^/]+\/(issues|deployments|deployments\/\d+\/statuses)$/.test(url.pathname) && req.method === 'POST') {
        const id = ++ids;
        return send(201, { id, number: id, html_url: `https://github.example${url.pathname}/${id}`, ...(body as object) });
      }
      if ((m = /^\/repos\/([^/]+\/[^/]+)\/dispatches$/.exec(url.pathname)) && req.method === 'POST') {
        const b = body as { event_type: string; client_payload: unknown };
        dispatches.push({ repo: m[1] ?? '', event_type: b.event_type, client_payload: b.client_payload });
        return send(204);
      }
      send(404, githubError('not_found'));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    comments,
    reviews,
    teams,
    dispatches,
    mints,
    failWith: (pattern, status, times = Infinity) => failures.push({ pattern, status, left: times }),
    rateLimit: (pattern, kind, times = 1, retryAfterSeconds = 0) =>
      limits.push({ pattern, kind, left: times, retryAfter: retryAfterSeconds }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** The `::error …::` lines. */
  errors: string[];
}

/** Parses GITHUB_OUTPUT's `name<<DELIM\nvalue\nDELIM` blocks. */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<]+)<<(ghadelimiter_[0-9a-f-]+)$/.exec(lines[i] ?? '');
    if (!m) continue;
    const value: string[] = [];
    let j = i + 1;
    while (j < lines.length && lines[j] !== m[2]) value.push(lines[j++] ?? '');
    if (j >= lines.length) throw new Error(`output ${m[1]}: no closing delimiter`);
    out[m[1] ?? ''] = value.join('\n');
    i = j;
  }
  return out;
}

/** A pull_request event file for GITHUB_EVENT_PATH (test/fixtures/github/pull-request.synchronize.json). */
export function pullRequestEvent(
  dir: string,
  pr: { number: number; baseSha: string; headSha: string; author?: string; title?: string },
): string {
  const path = join(dir, `event-${pr.number}-${pr.headSha.slice(0, 7)}.json`);
  const event = setPaths(readFixture('github/pull-request.synchronize.json'), {
    number: pr.number,
    after: pr.headSha,
    'pull_request.number': pr.number,
    'pull_request.url': `https://api.github.com/repos/acme/shop/pulls/${pr.number}`,
    'pull_request.html_url': `https://github.com/acme/shop/pull/${pr.number}`,
    'pull_request.title': pr.title ?? 'a change',
    'pull_request.base.sha': pr.baseSha,
    'pull_request.head.sha': pr.headSha,
    'pull_request.user.login': pr.author ?? 'alice',
    'sender.login': pr.author ?? 'alice',
  });
  writeFileSync(path, JSON.stringify(event));
  return path;
}

/** What startAction runs: the inputs, extra variables, the workspace, and another copy of the bundle (`actionPath`). */
export interface ActionStart {
  inputs: Record<string, string>;
  env?: Record<string, string>;
  workspace: string;
  actionPath?: string;
}

/** Starts `node dist/index.js` as a runner does: INPUT_* variables, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files. */
export function startAction(opts: ActionStart): { done: Promise<ActionRun>; pid: number | undefined } {
  const files = mkdtempSync(join(tmpdir(), 'levqor-action-run-'));
  const outputFile = join(files, 'output');
  const summaryFile = join(files, 'summary');
  writeFileSync(outputFile, '');
  writeFileSync(summaryFile, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    GITHUB_ACTIONS: 'true',
    CI: 'true',
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_WORKSPACE: opts.workspace,
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_RUN_ID: '42',
    GITHUB_ACTOR: 'alice',
    GITHUB_SHA: '0'.repeat(40),
    ...opts.env,
  };
  for (const [k, v] of Object.entries(opts.inputs)) env[`INPUT_${k.replace(/ /g, '_').toUpperCase()}`] = v;
  const child = spawn(process.execPath, [opts.actionPath ?? ACTION_PATH], { cwd: opts.workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<ActionRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const result = {
        code,
        stdout,
        stderr,
        outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
        summary: readFileSync(summaryFile, 'utf8'),
        errors: stdout.split('\n').filter((l) => l.startsWith('::error')),
      };
      rmSync(files, { recursive: true, force: true });
      resolve(result);
    });
  });
  return { done, pid: child.pid };
}

/** Runs the action to its end. */
export function runAction(opts: ActionStart): Promise<ActionRun> {
  return startAction(opts).done;
}

/** A throwaway git repository: write files, commit, and read commit ids. */
export interface GitFixture {
  dir: string;
  write(files: Record<string, string | null>): void;
  commit(message: string): string;
  git(...args: string[]): string;
  remove(): void;
}

/** Creates a git repository in a temporary folder. */
export function createGitRepo(): GitFixture {
  const dir = mkdtempSync(join(tmpdir(), 'levqor-gate-'));
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: dir,
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@example.com',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@example.com',
      },
    });
  git('init', '-q', '-b', 'main');
  git('config', 'commit.gpgsign', 'false');
  return {
    dir,
    git,
    write(files) {
      for (const [path, content] of Object.entries(files)) {
        const full = join(dir, path);
        if (content === null) rmSync(full, { force: true });
        else {
          mkdirSync(dirname(full), { recursive: true });
          writeFileSync(full, content);
        }
      }
    },
    commit(message) {
      git('add', '-A');
      git('commit', '-q', '--allow-empty', '-m', message);
      return git('rev-parse', 'HEAD').trim();
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** What @github/local-action printed and recorded for one run. */
export interface LocalActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The outputs local-action's stand-in for @actions/core recorded (its closing table). */
  outputs: Record<string, string>;
  summary: string;
}

/** Reads local-action's closing "Action Outputs" table (console.table rows: │ i │ 'name' │ 'value' │). */
export function parseLocalActionOutputs(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  const section = stdout.split('Action Outputs')[1] ?? '';
  for (const m of section.matchAll(/^│\s*\d+\s*│\s*'([^']*)'\s*│\s*'(.*)'\s*│$/gm)) out[m[1] ?? ''] = m[2] ?? '';
  return out;
}

const LOCAL_ACTION = fileURLToPath(new URL('../../node_modules/@github/local-action/bin/local-action.js', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Runs the action's source (src/action/main.ts, its exported run()) through GitHub's
 * @github/local-action, as a developer debugging it would: inputs and GITHUB_* variables from a
 * .env file, @actions/core and @actions/github replaced by local-action's own. Offline: npm
 * runs local-action's tsx from node_modules and never asks the registry.
 */
export function runLocalAction(opts: { inputs: Record<string, string>; env?: Record<string, string> }): Promise<LocalActionRun> {
  const dir = mkdtempSync(join(tmpdir(), 'levqor-local-action-'));
  const summaryFile = join(dir, 'summary.md');
  writeFileSync(summaryFile, '');
  const vars: Record<string, string> = {
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_RUN_ID: '42',
    GITHUB_ACTOR: 'alice',
    GITHUB_STEP_SUMMARY: summaryFile,
    ...opts.env,
  };
  for (const [k, v] of Object.entries(opts.inputs)) vars[`INPUT_${k.toUpperCase()}`] = v;
  const envFile = join(dir, '.env');
  writeFileSync(
    envFile,
    Object.entries(vars)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}\n`)
      .join(''),
  );
  const child = spawn(process.execPath, [LOCAL_ACTION, REPO, 'src/action/main.ts', envFile], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      npm_config_offline: 'true',
      npm_config_update_notifier: 'false',
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const summary = readFileSync(summaryFile, 'utf8');
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, stdout, stderr, outputs: parseLocalActionOutputs(stdout), summary });
    });
  });
}
