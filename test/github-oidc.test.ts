import { generateKeyPair } from 'jose';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideApproval } from '../src/approvals/service.js';
import { openDatabase } from '../src/db/open.js';
import { MEMORY_DIR } from '../src/db/pglite.js';
import type { Db } from '../src/db/types.js';
import { addTrust, listTrust, refMatches } from '../src/github/trust.js';
import { apiRequest, makeApiTenant, type ApiTenant } from './helpers/api.js';
import { runCli } from './helpers/cli.js';
import { createPgDatabase } from './helpers/db.js';
import { runAction } from './helpers/github.js';
import { startIssuer, type Issuer } from './helpers/oidc.js';
import { startServe, type ServedApi } from './helpers/server.js';

// Keyless requests from GitHub Actions: a real `levqor serve` verifies OIDC tokens signed by a
// test key against a JWKS served on loopback, and maps their claims through trust policies.

const MAIN = { repository: 'acme/app', ref: 'refs/heads/main', actor: 'octocat', sha: 'c'.repeat(40) };

let db: Db;
let url: string;
let drop: () => Promise<void>;
let issuer: Issuer;
let serve: ServedApi;
let acme: ApiTenant;
let other: ApiTenant;

beforeAll(async () => {
  ({ url, drop } = await createPgDatabase('levqor_oidc', { template: true }));
  db = await openDatabase({ DATABASE_URL: url, LEVQOR_DATA_DIR: MEMORY_DIR, LEVQOR_DB_POOL_MAX: 4, LEVQOR_DB_CONNECT_TIMEOUT_MS: 10_000 });
  acme = await makeApiTenant(db, { ops: 'all' }, 'acme');
  other = await makeApiTenant(db, { ops: 'all' }, 'other');
  await addTrust(db, acme.tenant.id, { repository: 'Acme/App', ref: 'refs/heads/main', actionTypes: ['deploy'] }, 'cli:admin');
  await addTrust(db, acme.tenant.id, { repository: 'acme/app', ref: 'refs/pull/*', actionTypes: ['deploy.critical_files'] }, 'cli:admin');
  await addTrust(
    db,
    acme.tenant.id,
    { repository: 'acme/infra', ref: 'refs/heads/main', environment: 'production', actionTypes: ['*'] },
    'cli:admin',
  );
  issuer = await startIssuer();
  serve = await startServe({ DATABASE_URL: url, LEVQOR_GITHUB_OIDC_ISSUER: issuer.url });
});
afterAll(async () => {
  await serve?.stop();
  await issuer?.close();
  await db?.close();
  await drop?.();
});

const submit = (token: string, actionType = 'deploy', summary = 'Deploy app') =>
  apiRequest<Record<string, unknown>>(serve.baseUrl, 'POST', '/api/actions', {
    token,
    body: { action_type: actionType, summary, payload: { version: '1.2.3' }, impact_class: 'C' },
  });

describe('trust policies', () => {
  it('stores repositories in lower case, audits each change and refuses bad input naming every option', async () => {
    const policies = await listTrust(db, acme.tenant.id);
    expect(policies.map((p) => [p.repository, p.ref, p.environment])).toEqual([
      ['acme/app', 'refs/heads/main', null],
      ['acme/app', 'refs/pull/*', null],
      ['acme/infra', 'refs/heads/main', 'production'],
    ]);
    const { rows } = await db.query<{ n: string }>(
      "SELECT count(*) AS n FROM audit_log WHERE tenant_id = $1 AND action = 'github.trust_added' AND actor = 'cli:admin'",
      [acme.tenant.id],
    );
    expect(Number(rows[0]?.n)).toBe(3);
    await expect(addTrust(db, acme.tenant.id, { repository: 'acme', ref: 'main', actionTypes: ['Deploy!'] }, 'cli:x')).rejects.toThrow(
      /--repo "acme": must be owner\/repo; --ref "main": must be a full ref.*; --action-type "Deploy!"/,
    );
    await expect(
      addTrust(db, acme.tenant.id, { repository: 'acme/app', ref: 'refs/heads/main', actionTypes: ['deploy'] }, 'cli:x'),
    ).rejects.toThrow(/already trusted/);
  });

  it('matches refs exactly or by * pattern', () => {
    expect(refMatches('refs/heads/main', 'refs/heads/main')).toBe(true);
    expect(refMatches('refs/heads/main', 'refs/heads/main2')).toBe(false);
    expect(refMatches('refs/pull/*', 'refs/pull/7/merge')).toBe(true);
    expect(refMatches('refs/tags/v*', 'refs/heads/v1')).toBe(false);
    expect(refMatches('refs/tags/v1.*', 'refs/tags/v1x2')).toBe(false);
  });

  it('levqor github trust add, list and rm through the CLI', async () => {
    const env = { DATABASE_URL: url };
    const added = await runCli(
      [
        'github',
        'trust',
        'add',
        '--repo',
        'acme/cli',
        '--ref',
        'refs/heads/main',
        '--action-type',
        'deploy,rollback',
        '--tenant',
        acme.tenant.name,
        '--json',
      ],
      { env },
    );
    expect(added.code, added.stderr).toBe(0);
    const policy = JSON.parse(added.stdout) as { id: string; action_types: string[] };
    expect(policy.action_types).toEqual(['deploy', 'rollback']);
    const listed = await runCli(['github', 'trust', 'list', '--tenant', acme.tenant.name], { env });
    expect(listed.stdout).toContain('acme/cli');
    const bad = await runCli(
      ['github', 'trust', 'add', '--repo', 'nope', '--ref', 'refs/heads/main', '--action-type', 'deploy', '--tenant', acme.tenant.name],
      { env },
    );
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--repo "nope": must be owner/repo');
    const removed = await runCli(['github', 'trust', 'rm', policy.id, '--tenant', acme.tenant.name], { env });
    expect(removed.code, removed.stderr).toBe(0);
    const again = await runCli(['github', 'trust', 'rm', policy.id, '--tenant', acme.tenant.name], { env });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(`has no trust policy ${policy.id}`);
  });
});

describe('keyless requests to levqor serve', () => {
  it('an untrusted repository is refused naming the claim, before any key is fetched', async () => {
    const before = issuer.keyFetches;
    const res = await submit(await issuer.sign({ ...MAIN, repository: 'acme/other' }));
    expect(res.status).toBe(401);
    expect(res.json.message).toContain('repository claim "acme/other" is trusted by no tenant');
    expect(issuer.keyFetches).toBe(before);
  });

  it('a trusted token submits as github:<actor>, who then cannot approve it', async () => {
    const res = await submit(await issuer.sign(MAIN), 'deploy', 'Deploy app keyless');
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({ status: 'pending', requested_by: 'github:octocat', action_type: 'deploy' });
    const id = res.json.id as string;
    const { rows } = await db.query<{ tenant_id: string; source: string }>('SELECT tenant_id, source FROM approval_queue WHERE id = $1', [
      id,
    ]);
    expect(rows[0]).toEqual({ tenant_id: acme.tenant.id, source: 'github' });
    const read = await apiRequest<Record<string, unknown>>(serve.baseUrl, 'GET', `/api/approvals/${id}`, {
      token: await issuer.sign(MAIN),
    });
    expect(read.status).toBe(200);
    expect(read.json.id).toBe(id);
    await expect(
      decideApproval(db, { id, tenantId: acme.tenant.id, decision: 'approve', actor: 'github:octocat', channel: 'slack' }),
    ).rejects.toThrow(/github:octocat requested this action and cannot decide it/);
    const decided = await decideApproval(db, { id, tenantId: acme.tenant.id, decision: 'approve', actor: 'slack:ULEAD', channel: 'slack' });
    expect(decided.approval.status).toBe('approved');
  });

  it('refuses a wrong audience, an expired token, another key and a wrong ref, each naming what failed', async () => {
    const cases: [Promise<string>, RegExp][] = [
      [issuer.sign(MAIN, { audience: 'https://elsewhere' }), /aud claim "https:\/\/elsewhere" is not "levqor"/],
      [issuer.sign(MAIN, { expiresIn: Math.floor(Date.now() / 1000) - 120 }), /exp claim: the token expired/],
      [generateKeyPair('RS256').then(({ privateKey }) => issuer.sign(MAIN, { key: privateKey })), /signature: it does not verify/],
      [generateKeyPair('RS256').then(({ privateKey }) => issuer.sign(MAIN, { key: privateKey, kid: 'rotated' })), /kid header/],
      [
        issuer.sign({ ...MAIN, ref: 'refs/heads/dev' }),
        /ref claim "refs\/heads\/dev" is not trusted for acme\/app \(trusted: refs\/heads\/main, refs\/pull\/\*\)/,
      ],
      [
        issuer.sign({ ...MAIN, repository: 'acme/infra' }),
        /environment claim \(none: the job names no environment\) is not trusted for acme\/infra/,
      ],
      [issuer.sign({ ...MAIN, repository: 'acme/infra', environment: 'staging' }), /environment claim "staging" is not trusted/],
      [issuer.sign({ ...MAIN, actor: undefined }), /actor claim is missing/],
      [Promise.resolve('eyJhbGciOiJub25lIn0.eyJyZXBvc2l0b3J5IjoiYWNtZS9hcHAifQ.c2ln'), /alg header|not a valid token/],
    ];
    for (const [token, message] of cases) {
      const res = await submit(await token);
      expect(res.status, `${String(message)}: ${res.text}`).toBe(401);
      expect(res.json.error).toBe('unauthorized');
      expect(res.json.message).toMatch(message);
    }
    const { rows } = await db.query<{ n: string }>(
      "SELECT count(*) AS n FROM approval_queue WHERE tenant_id = $1 AND summary = 'Deploy app'",
      [acme.tenant.id],
    );
    expect(Number(rows[0]?.n)).toBe(0);
  });

  it('allows only the trusted action types and the scopes of a request, and never another tenant', async () => {
    const token = await issuer.sign(MAIN);
    const wrongType = await submit(token, 'campaign.send');
    expect(wrongType.status).toBe(403);
    expect(wrongType.json.message).toContain('action type "campaign.send" is not allowed for github:octocat');
    const decide = await apiRequest(serve.baseUrl, 'GET', '/api/workflows', { token });
    expect(decide.status).toBe(403);
    const foreign = await submit(other.token('ops'), 'deploy', 'Other tenant deploy');
    expect(foreign.status).toBe(201);
    const read = await apiRequest(serve.baseUrl, 'GET', `/api/approvals/${String((foreign.json as { id: string }).id)}`, { token });
    expect(read.status).toBe(404);
    const anyType = await submit(
      await issuer.sign({ ...MAIN, repository: 'acme/infra', environment: 'production' }),
      'db.migrate',
      'Migrate',
    );
    expect(anyType.status, anyType.text).toBe(201);
    // Reads are as narrow as requests: no listing, and only requests of its own action types.
    const list = await apiRequest(serve.baseUrl, 'GET', '/api/approvals', { token });
    expect(list.status).toBe(403);
    expect(list.json.message).toContain('github:octocat (a GitHub OIDC token) does not list requests');
    const migrate = await apiRequest(serve.baseUrl, 'GET', `/api/approvals/${String((anyType.json as { id: string }).id)}`, { token });
    expect(migrate.status).toBe(404);
    const mine = await submit(token, 'deploy', 'Deploy readable');
    const own = await apiRequest(serve.baseUrl, 'GET', `/api/approvals/${String((mine.json as { id: string }).id)}`, { token });
    expect(own.status).toBe(200);
  });

  it('the safety gate asks once per change set over POST /api/gate/critical-files', async () => {
    const pr = { ...MAIN, ref: 'refs/pull/7/merge', actor: 'dev1' };
    const body = {
      repository: 'acme/app',
      pull_request: 7,
      head_sha: 'a'.repeat(40),
      base_sha: 'b'.repeat(40),
      files: ['changed: migrations/0001.sql'],
    };
    const first = await apiRequest<Record<string, string>>(serve.baseUrl, 'POST', '/api/gate/critical-files', {
      token: await issuer.sign(pr),
      body,
    });
    expect(first.status, first.text).toBe(200);
    expect(first.json.state).toBe('pending');
    const second = await apiRequest<Record<string, string>>(serve.baseUrl, 'POST', '/api/gate/critical-files', {
      token: await issuer.sign(pr),
      body,
    });
    expect(second.json.state).toBe('pending');
    const { rows } = await db.query<{ requested_by: string }>(
      "SELECT requested_by FROM approval_queue WHERE tenant_id = $1 AND action_type = 'deploy.critical_files'",
      [acme.tenant.id],
    );
    expect(rows).toEqual([{ requested_by: 'github:dev1' }]);
    const onMain = await apiRequest(serve.baseUrl, 'POST', '/api/gate/critical-files', { token: await issuer.sign(MAIN), body });
    expect(onMain.status).toBe(403);
    const bad = await apiRequest(serve.baseUrl, 'POST', '/api/gate/critical-files', {
      token: await issuer.sign(pr),
      body: { ...body, head_sha: 'x' },
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('head_sha');
  });
});

describe('the action, keyless', () => {
  let tokenServer: Server;
  let tokenUrl: string;
  const audiences: string[] = [];
  const workspace = mkdtempSync(join(tmpdir(), 'levqor-action-oidc-'));

  beforeAll(async () => {
    // The runner's ID-token service: GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=… with the request token.
    tokenServer = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (req.headers.authorization !== 'Bearer runner-request-token') return void res.writeHead(401).end('{}');
      const audience = u.searchParams.get('audience') ?? '';
      audiences.push(audience);
      void issuer.sign({ ...MAIN, actor: 'release-bot' }, { audience }).then((value) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ value }));
      });
    });
    await new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.1', resolve));
    tokenUrl = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/token?api-version=2.0`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => tokenServer.close(() => resolve()));
    rmSync(workspace, { recursive: true, force: true });
  });

  const run = (env: Record<string, string>, inputs: Record<string, string> = {}) =>
    runAction({
      inputs: {
        command: 'request-approval',
        'api-url': serve.baseUrl,
        title: 'Keyless deploy',
        wait: 'false',
        'api-audience': 'levqor',
        ...inputs,
      },
      env: { GITHUB_REPOSITORY: 'acme/app', GITHUB_ACTOR: 'release-bot', ...env },
      workspace,
    });

  it('request-approval submits with the workflow OIDC token, masked, recorded as the actor', async () => {
    const r = await run({ ACTIONS_ID_TOKEN_REQUEST_URL: tokenUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-request-token' });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(audiences).toEqual(['levqor']);
    expect(r.outputs.decision).toBe('pending');
    const { rows } = await db.query<{ requested_by: string; source: string }>(
      'SELECT requested_by, source FROM approval_queue WHERE id = $1',
      [r.outputs['approval-id']],
    );
    expect(rows[0]).toEqual({ requested_by: 'github:release-bot', source: 'github' });
    expect(r.stdout).toMatch(/::add-mask::eyJ/);
  });

  it('without id-token permission it fails naming what to add', async () => {
    const r = await run({});
    expect(r.code).not.toBe(0);
    expect(r.errors.join('\n')).toContain('permissions: id-token: write');
  });

  it('a token for the wrong audience fails with the server naming the aud claim', async () => {
    const r = await run(
      { ACTIONS_ID_TOKEN_REQUEST_URL: tokenUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-request-token' },
      { 'api-audience': 'other' },
    );
    expect(r.code).not.toBe(0);
    expect(r.errors.join('\n')).toContain('aud claim');
  });
});
