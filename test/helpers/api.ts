import type { FastifyInstance } from 'fastify';
import { beforeAll } from 'vitest';
import type { AddressInfo } from 'node:net';
import { submitAction } from '../../src/approvals/actions.js';
import type { ApprovalRow } from '../../src/approvals/types.js';
import { createToken, SCOPES, type Scope } from '../../src/auth/tokens.js';
import type { Db } from '../../src/db/types.js';
import { buildApp } from '../../src/http/app.js';
import type { TenantRow } from '../../src/tenants/queries.js';
import { openPgTestDb, useTestDb, type TestDb } from './db.js';
import { silentLog, testConfig, testSchedulerDeps } from './deps.js';
import { secretStoreFromConfig } from '../../src/secrets/from-config.js';
import { makeTenant } from './fixtures.js';

/** The error body every API failure has. */
export interface ApiError {
  error: string;
  message: string;
  issues?: string[];
}

/** What a decision endpoint returns. */
export interface DecisionJson {
  outcome: 'approved' | 'rejected' | 'vote_recorded';
  approval: ApprovalRow;
}

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  /** The parsed body, or null when it was empty or not JSON. */
  json: T;
  text: string;
}

export interface RequestOptions {
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Serialised as JSON, with `Content-Type: application/json` unless `headers` sets one. */
  body?: unknown;
  /** Sent as is (no content type added). */
  rawBody?: string;
  headers?: Record<string, string>;
}

/** One HTTP request with global fetch; the body is parsed as JSON when it is JSON. */
export async function apiRequest<T = ApiError>(
  baseUrl: string,
  method: string,
  path: string,
  opts: RequestOptions = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.rawBody !== undefined) {
    body = opts.rawBody;
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: parseJsonOrNull(text) as T, text };
}

function parseJsonOrNull(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export interface TestApi {
  app: FastifyInstance;
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  request<T = ApiError>(method: string, path: string, opts?: RequestOptions): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

type AppDeps = Parameters<typeof buildApp>[0];

export interface TestApiOptions extends Partial<Omit<AppDeps, 'db' | 'runDeps'>> {
  /** Variables for the scheduler deps behind POST /api/workflows/:name/run (LEVQOR_HTTP_ALLOW …). */
  env?: Record<string, string>;
  /** Listen on this port (default: any free one). */
  port?: number;
}

/** The real app for a test database, not yet listening: a silent log, generous limits, test scheduler deps. */
export function buildTestApp(db: Db, opts: TestApiOptions = {}): Promise<FastifyInstance> {
  const { env, port: _port, ...deps } = opts;
  return buildApp({
    db,
    log: silentLog,
    rateLimitPerMinute: 100_000,
    bodyLimitBytes: 1024 * 1024,
    runDeps: () => testSchedulerDeps(db, env),
    startedAt: Date.now() / 1000,
    secrets: secretStoreFromConfig(testConfig(env)),
    ...deps,
  });
}

/** The real app for a test database (buildTestApp), listening on a loopback port of its own. */
export async function startApi(db: Db, opts: TestApiOptions = {}): Promise<TestApi> {
  const app = await buildTestApp(db, opts);
  await app.listen({ host: '127.0.0.1', port: opts.port ?? 0 });
  const { port } = app.server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    app,
    baseUrl,
    request: (method, path, requestOpts) => apiRequest(baseUrl, method, path, requestOpts),
    close: () => app.close(),
  };
}

/**
 * A test database (useTestDb) and the real app on it (startApi) for the enclosing describe
 * block; the app closes before the database. Use both inside tests or later hooks.
 */
export function useTestApi(open: () => Promise<TestDb> = openPgTestDb, opts: TestApiOptions = {}): { t: TestDb; api: TestApi } {
  let current: TestApi | undefined;
  const t = useTestDb(open, { beforeClose: () => current?.close() ?? Promise.resolve() });
  beforeAll(async () => {
    current = await startApi(t.db, opts);
  });
  const started = (): TestApi => {
    if (!current) throw new Error('the test API starts in beforeAll: use it inside a test or a later hook');
    return current;
  };
  const api: TestApi = {
    get app() {
      return started().app;
    },
    get baseUrl() {
      return started().baseUrl;
    },
    request: (method, path, requestOpts) => started().request(method, path, requestOpts),
    close: () => started().close(),
  };
  return { t, api };
}

export interface ApiTenant {
  tenant: TenantRow;
  /** Bearer tokens by name; decisions made with one are recorded as token:NAME. */
  tokens: Record<string, string>;
  /** The token of a name, failing when it was not created. */
  token(name: string): string;
}

/**
 * A tenant with tokens: each entry names a token and its scopes (every scope by default).
 * `ops` and `lead` (both with every scope) are created unless `tokens` is given.
 */
export async function makeApiTenant(
  db: Db,
  tokens: Record<string, readonly Scope[] | 'all'> = { ops: 'all', lead: 'all' },
  prefix = 'api',
): Promise<ApiTenant> {
  const tenant = await makeTenant(db, prefix);
  const made: Record<string, string> = {};
  for (const [name, scopes] of Object.entries(tokens)) {
    made[name] = (await createToken(db, tenant.id, name, scopes === 'all' ? [...SCOPES] : [...scopes])).token;
  }
  return {
    tenant,
    tokens: made,
    token(name) {
      const token = made[name];
      if (!token) throw new Error(`no token "${name}" for tenant ${tenant.name}`);
      return token;
    },
  };
}

/** A Class C action body (an unknown type such as "deploy" waits for a human). */
export function deployAction(summary = 'deploy web 1.2.3', payload: Record<string, unknown> = { service: 'web', version: '1.2.3' }) {
  return { action_type: 'deploy', summary, payload };
}

/** A deploy request submitted for the tenant: by token:ci over the API unless `actor` and `channel` say otherwise. */
export function requestDeploy(
  db: Db,
  tenantId: string,
  o: { summary?: string; payload?: Record<string, unknown>; actor?: string; channel?: string } = {},
): Promise<ApprovalRow> {
  return submitAction(db, { tenantId, actor: o.actor ?? 'token:ci', channel: o.channel ?? 'api', ...deployAction(o.summary, o.payload) });
}
