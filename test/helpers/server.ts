import type { FastifyInstance } from 'fastify';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Db } from '../../src/db/types.js';
import { buildApp } from '../../src/http/app.js';
import { silentLog, testSchedulerDeps } from './deps.js';
import { spawnCli, type CliProcess, type ExitInfo } from './proc.js';

/** Far above anything a test sends, so the per-token limit never answers 429. */
export const HIGH_RATE_LIMIT = 1_000_000;

const LISTENING = /levqor API listening on (http:\/\/127\.0\.0\.1:(\d+))/;

/** The base URL in a `levqor serve` start line, or undefined when the line is another one. */
export function listeningUrl(msg: string): string | undefined {
  return LISTENING.exec(msg)?.[1];
}

export interface ServedApi {
  proc: CliProcess;
  /** http://127.0.0.1:PORT, read from the process's own start line. */
  baseUrl: string;
  /** SIGTERM, then waits for the graceful exit. */
  stop(): Promise<ExitInfo>;
}

/**
 * Starts `levqor serve --no-scheduler --port 0` (with its scheduler loop when `scheduler` is
 * set) against `env.DATABASE_URL` and resolves once its JSON start line names the port it
 * bound (no sleeps, no port guessing).
 */
export async function startServe(
  env: Record<string, string>,
  extraArgs: readonly string[] = [],
  opts: { scheduler?: boolean } = {},
): Promise<ServedApi> {
  const proc = spawnCli(['serve', ...(opts.scheduler ? [] : ['--no-scheduler']), '--port', '0', ...extraArgs], {
    LEVQOR_LOG_PRETTY: 'false',
    LEVQOR_API_RATE_LIMIT: String(HIGH_RATE_LIMIT),
    ...env,
  });
  const line = await proc.waitForLog((l) => listeningUrl(l.msg) !== undefined, {
    what: 'the "levqor API listening on" line',
    timeoutMs: 30_000,
  });
  const baseUrl = listeningUrl(line.msg) as string;
  return {
    proc,
    baseUrl,
    stop: async () => {
      proc.signal('SIGTERM');
      return proc.waitForExit(20_000);
    },
  };
}

export interface InProcessApi {
  app: FastifyInstance;
  baseUrl: string;
  close(): Promise<void>;
}

/** buildApp on 127.0.0.1:0 in this process, with a high rate limit and the test scheduler deps. */
export async function startInProcessApi(
  db: Db,
  opts: { log?: Logger; rateLimitPerMinute?: number; bodyLimitBytes?: number; configure?: (app: FastifyInstance) => void } = {},
): Promise<InProcessApi> {
  const runDeps = testSchedulerDeps(db);
  const app = await buildApp({
    db,
    log: opts.log ?? silentLog,
    rateLimitPerMinute: opts.rateLimitPerMinute ?? HIGH_RATE_LIMIT,
    bodyLimitBytes: opts.bodyLimitBytes ?? 1024 * 1024,
    runDeps: () => runDeps,
    startedAt: Date.now() / 1000,
  });
  opts.configure?.(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { app, baseUrl: `http://127.0.0.1:${port}`, close: () => app.close() };
}

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  /** The parsed JSON body, or undefined when it was not JSON. */
  json: T | undefined;
  text: string;
}

/** One JSON call with global fetch (undici, keep-alive); a body is sent as application/json. */
export async function callApi<T = Record<string, unknown>>(
  baseUrl: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  let json: T | undefined;
  try {
    json = JSON.parse(text) as T;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** A request as bytes on the wire: any method, path and (latin-1) header names and values. */
export interface RawRequest {
  method: string;
  /** Path and query, sent as given (Node refuses only characters outside U+0021–U+00FF). */
  path: string;
  /** Flat [name, value, name, value …] list, so names such as "__proto__" go out as they are. */
  headers: string[];
  body?: Buffer;
}

export interface RawOutcome {
  /** 0 when no answer came. */
  status: number;
  /** The first 1,000 characters of the answer. */
  text: string;
  /** The value of the response header named by `idHeader`, if any. */
  requestId?: string;
  /** Why no answer came. */
  error?: string;
}

function sendOnce(agent: http.Agent | false, port: number, r: RawRequest, idHeader: string | undefined): Promise<RawOutcome> {
  return new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: r.method, path: r.path, headers: r.headers, agent, timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const id = idHeader ? res.headers[idHeader] : undefined;
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString('utf8').slice(0, 1_000),
            requestId: typeof id === 'string' ? id : undefined,
          });
        });
        res.on('error', (err) => resolve({ status: 0, text: '', error: err.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, text: '', error: `${err.code ?? ''} ${err.message}` }));
    req.end(r.body);
  });
}

/**
 * Sends a raw request to 127.0.0.1:port through `agent` (Node's client, because fetch will
 * not send a GET body or odd header names). One that gets no answer is sent again on a fresh
 * connection: a kept-alive socket the server has just closed (after a 413 whose body it did
 * not read, say) resets without saying anything about the request that tried to reuse it.
 */
export async function sendRaw(agent: http.Agent, port: number, r: RawRequest, idHeader?: string): Promise<RawOutcome> {
  const first = await sendOnce(agent, port, r, idHeader);
  return first.status === 0 ? sendOnce(false, port, r, idHeader) : first;
}
