import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The committed action bundle, run as a runner runs it. */
export const ACTION_PATH = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

export interface RecordedCall {
  method: string;
  path: string;
  body: unknown;
  authorization?: string;
}

export interface FakeComment {
  id: number;
  body: string;
  user: { login: string };
}

export interface FakeReview {
  id: number;
  user: { login: string };
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED';
  commit_id: string;
  submitted_at: string;
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
  /** Answers the next calls matching `pathPattern` with `status` (e.g. 403 for a fork's token). */
  failWith(pathPattern: RegExp, status: number): void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : undefined;
}

/** Starts the fake on 127.0.0.1; requests need `Authorization: Bearer <token>`. */
export async function startFakeGitHub(token: string): Promise<FakeGitHub> {
  const calls: RecordedCall[] = [];
  const comments = new Map<number, FakeComment[]>();
  const reviews = new Map<number, FakeReview[]>();
  const teams: FakeGitHub['teams'] = new Map();
  const dispatches: FakeGitHub['dispatches'] = [];
  const failures: { pattern: RegExp; status: number }[] = [];
  let nextId = 1000;
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const body = await readBody(req);
      calls.push({ method: req.method ?? '', path: url.pathname + url.search, body, authorization: req.headers.authorization });
      const send = (status: number, data?: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(data === undefined ? '' : JSON.stringify(data));
      };
      if (req.headers.authorization !== `Bearer ${token}`) return send(401, { message: 'Bad credentials' });
      const failure = failures.find((f) => f.pattern.test(url.pathname));
      if (failure) return send(failure.status, { message: 'Resource not accessible by integration' });
      const page = Number(url.searchParams.get('page') ?? '1');
      const perPage = Number(url.searchParams.get('per_page') ?? '30');
      const paged = <T>(rows: T[]) => rows.slice((page - 1) * perPage, page * perPage);
      let m: RegExpExecArray | null;
      if ((m = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(url.pathname))) {
        const issue = Number(m[1]);
        const list = comments.get(issue) ?? [];
        if (req.method === 'GET') return send(200, paged(list));
        if (req.method === 'POST') {
          const c = { id: nextId++, body: (body as { body: string }).body, user: { login: 'github-actions[bot]' } };
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
        return send(404, { message: 'Not Found' });
      }
      if ((m = /^\/repos\/[^/]+\/[^/]+\/pulls\/(\d+)\/reviews$/.exec(url.pathname)) && req.method === 'GET') {
        return send(200, paged(reviews.get(Number(m[1])) ?? []));
      }
      if ((m = /^\/orgs\/([^/]+)\/teams\/([^/]+)(?:\/memberships\/([^/]+))?$/.exec(url.pathname)) && req.method === 'GET') {
        const members = teams.get(`${m[1] ?? ''}/${m[2] ?? ''}`.toLowerCase());
        if (!members) return send(404, { message: 'Not Found' });
        if (!m[3]) return send(200, { id: 1, slug: m[2] });
        const state = members.get(decodeURIComponent(m[3]).toLowerCase());
        return state ? send(200, { state, role: 'member' }) : send(404, { message: 'Not Found' });
      }
      if ((m = /^\/repos\/([^/]+\/[^/]+)\/dispatches$/.exec(url.pathname)) && req.method === 'POST') {
        const b = body as { event_type: string; client_payload: unknown };
        dispatches.push({ repo: m[1] ?? '', event_type: b.event_type, client_payload: b.client_payload });
        return send(204);
      }
      send(404, { message: 'Not Found' });
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
    failWith: (pattern, status) => failures.push({ pattern, status }),
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

/** A pull_request event file for GITHUB_EVENT_PATH. */
export function pullRequestEvent(
  dir: string,
  pr: { number: number; baseSha: string; headSha: string; author?: string; title?: string },
): string {
  const path = join(dir, `event-${pr.number}-${pr.headSha.slice(0, 7)}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      action: 'synchronize',
      number: pr.number,
      pull_request: {
        number: pr.number,
        title: pr.title ?? 'a change',
        base: { sha: pr.baseSha, ref: 'main' },
        head: { sha: pr.headSha, ref: 'feature' },
        user: { login: pr.author ?? 'alice' },
      },
    }),
  );
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
