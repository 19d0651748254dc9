import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { ApprovalRow } from '../../src/approvals/types.js';
import { createToken, SCOPES, type Scope } from '../../src/auth/tokens.js';
import type { Db } from '../../src/db/types.js';
import { buildApp } from '../../src/http/app.js';
import type { TenantRow } from '../../src/tenants/queries.js';
import { silentLog, testSchedulerDeps } from './deps.js';
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

export interface TestApiOptions {
  rateLimitPerMinute?: number;
  bodyLimitBytes?: number;
  /** Variables for the scheduler deps behind POST /api/workflows/:name/run (LEVQOR_HTTP_ALLOW …). */
  env?: Record<string, string>;
}

/** The real app for a test database, listening on a loopback port of its own. */
export async function startApi(db: Db, opts: TestApiOptions = {}): Promise<TestApi> {
  const app = await buildApp({
    db,
    log: silentLog,
    rateLimitPerMinute: opts.rateLimitPerMinute ?? 100_000,
    bodyLimitBytes: opts.bodyLimitBytes ?? 1024 * 1024,
    runDeps: () => testSchedulerDeps(db, opts.env),
    startedAt: Date.now() / 1000,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    app,
    baseUrl,
    request: (method, path, requestOpts) => apiRequest(baseUrl, method, path, requestOpts),
    close: () => app.close(),
  };
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
