import http from 'node:http';
import https from 'node:https';
import { AppError, errorMessage } from '../../lib/errors.js';
import { assertUrlAllowed, createGuardedLookup } from './net-guard.js';
import type { NetPolicy } from './net-guard.js';

/** One HTTP call a workflow step asks for, with its limits already resolved from config. */
export interface HttpRequestSpec {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** A string is sent as-is; anything else as JSON with content-type application/json. */
  body?: unknown;
  timeoutMs: number;
  connectTimeoutMs: number;
  maxResponseBytes: number;
  maxRedirects: number;
  idempotencyKey?: string;
}

/** What the step records: status codes are data, not errors. */
interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The final URL, after redirects. */
  url: string;
  redirects: number;
  bytes: number;
}

interface Hop {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
}

interface HopResult {
  status: number;
  headers: Record<string, string>;
  body: string;
  bytes: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// Credentials meant for one origin must not be replayed to another a redirect points at.
const ORIGIN_BOUND_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

/** Performs the request through the SSRF guard, following redirects by hand so each hop is checked. */
export async function performHttp(spec: HttpRequestSpec, policy: NetPolicy, signal?: AbortSignal): Promise<HttpResult> {
  let hop = firstHop(spec);
  const deadline = new AbortController();
  const timer = setTimeout(() => {
    deadline.abort(new AppError('timeout', `http ${spec.method} ${hop.url.host} timed out after ${spec.timeoutMs} ms`));
  }, spec.timeoutMs);
  const onAbort = () => deadline.abort(callerAbortReason(signal));
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (let redirects = 0; ; redirects++) {
      assertUrlAllowed(hop.url, policy);
      const res = await sendHop(hop, spec, policy, deadline.signal);
      const location = res.headers.location;
      if (!REDIRECTS.has(res.status) || location === undefined) {
        return { ...res, url: hop.url.toString(), redirects };
      }
      if (redirects >= spec.maxRedirects) {
        throw new AppError('step_failed', `too many redirects: more than ${spec.maxRedirects} from ${spec.url}`);
      }
      hop = nextHop(hop, res.status, location);
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

function firstHop(spec: HttpRequestSpec): Hop {
  let url: URL;
  try {
    url = new URL(spec.url);
  } catch {
    throw new AppError('bad_input', `invalid URL: ${spec.url}`);
  }
  const headers: Record<string, string> = { 'user-agent': 'levqor' };
  for (const [name, value] of Object.entries(spec.headers)) headers[name.toLowerCase()] = value;
  if (spec.idempotencyKey !== undefined) headers['idempotency-key'] = spec.idempotencyKey;
  let body: string | undefined;
  if (typeof spec.body === 'string') {
    body = spec.body;
  } else if (spec.body !== undefined) {
    body = encodeJson(spec.body);
    headers['content-type'] ??= 'application/json';
  }
  // The length is ours to compute; a caller's value could desync the framing.
  delete headers['content-length'];
  delete headers['transfer-encoding'];
  return { url, method: spec.method.toUpperCase(), headers, body };
}

function encodeJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new AppError('bad_input', `request body is not JSON-serialisable: ${errorMessage(err)}`);
  }
  if (text === undefined) throw new AppError('bad_input', 'request body is not JSON-serialisable');
  return text;
}

function nextHop(prev: Hop, status: number, location: string): Hop {
  let url: URL;
  try {
    url = new URL(location, prev.url);
  } catch {
    throw new AppError('step_failed', `redirect from ${prev.url.host} to an invalid URL: ${location}`);
  }
  const headers = { ...prev.headers };
  if (url.origin !== prev.url.origin) for (const name of ORIGIN_BOUND_HEADERS) delete headers[name];
  const toGet = (status === 303 && prev.method !== 'HEAD') || ((status === 301 || status === 302) && prev.method === 'POST');
  if (!toGet) return { ...prev, url, headers };
  delete headers['content-type'];
  return { url, method: 'GET', headers, body: undefined };
}

function sendHop(hop: Hop, spec: HttpRequestSpec, policy: NetPolicy, signal: AbortSignal): Promise<HopResult> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const isHttps = hop.url.protocol === 'https:';
    const headers = hop.body === undefined ? hop.headers : { ...hop.headers, 'content-length': String(Buffer.byteLength(hop.body)) };
    const req = (isHttps ? https : http).request(hop.url, {
      method: hop.method,
      headers,
      // A pooled socket would skip the guarded lookup and could carry another policy's decision.
      agent: false,
      lookup: createGuardedLookup(policy, hop.url.hostname.replace(/^\[|\]$/g, '')),
    });
    let settled = false;
    const connectTimer = setTimeout(() => {
      fail(new AppError('timeout', `connecting to ${hop.url.host} timed out after ${spec.connectTimeoutMs} ms`));
    }, spec.connectTimeoutMs);
    const onAbort = () => fail(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    const finish = () => {
      settled = true;
      clearTimeout(connectTimer);
      signal.removeEventListener('abort', onAbort);
    };
    function fail(err: Error): void {
      if (settled) return;
      finish();
      req.destroy();
      reject(err);
    }

    req.on('socket', (socket) => {
      // For https "connected" means the TLS handshake is done too.
      socket.once(isHttps ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
    });
    req.on('error', (err) => fail(toAppError(err, hop)));
    req.on('response', (res) => {
      clearTimeout(connectTimer);
      const status = res.statusCode ?? 0;
      const resHeaders = flattenHeaders(res.headers);
      if (REDIRECTS.has(status) && resHeaders.location !== undefined) {
        // A redirect's body is never used; dropping the socket also stops an endless one.
        finish();
        resolve({ status, headers: resHeaders, body: '', bytes: 0 });
        req.destroy();
        return;
      }
      const tooLarge = () => new AppError('step_failed', `response exceeded ${spec.maxResponseBytes} bytes`);
      if (Number(res.headers['content-length'] ?? 0) > spec.maxResponseBytes) {
        fail(tooLarge());
        return;
      }
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > spec.maxResponseBytes) fail(tooLarge());
        else chunks.push(chunk);
      });
      res.on('error', (err) => fail(toAppError(err, hop)));
      res.on('close', () => {
        if (!res.complete) fail(new AppError('step_failed', `connection to ${hop.url.host} closed mid-response`));
      });
      res.on('end', () => {
        if (settled) return;
        finish();
        resolve({ status, headers: resHeaders, body: Buffer.concat(chunks).toString('utf8'), bytes });
      });
    });
    req.end(hop.body);
  });
}

function flattenHeaders(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function toAppError(err: unknown, hop: Hop): AppError {
  if (err instanceof AppError) return err;
  return new AppError('step_failed', `http ${hop.method} ${hop.url.host} failed: ${errorMessage(err)}`, [], { cause: err });
}

function callerAbortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof AppError) return reason;
  return new AppError('step_failed', 'http request aborted', [], { cause: reason });
}

/** The limits of a guarded fetch: the `http` step's, from configuration. */
export interface GuardedFetchLimits {
  timeoutMs: number;
  connectTimeoutMs: number;
  maxResponseBytes: number;
}

/**
 * A `fetch` whose every request goes through the SSRF guard and the limits of an `http` step
 * (performHttp): for clients such as Octokit that take a fetch, so that the `github` step reaches
 * only what an `http` step may.
 */
export function guardedFetch(policy: NetPolicy, limits: GuardedFetchLimits): typeof fetch {
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const body = init?.body;
    if (body !== undefined && body !== null && typeof body !== 'string')
      throw new AppError('bad_input', 'guarded fetch sends string bodies only');
    const res = await performHttp(
      { method: init?.method ?? 'GET', url, headers, body: body ?? undefined, maxRedirects: 5, ...limits },
      policy,
      init?.signal ?? undefined,
    );
    const empty = res.status === 204 || res.status === 205 || res.status === 304;
    return new Response(empty ? null : res.body, { status: res.status, headers: res.headers });
  };
}
