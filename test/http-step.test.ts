import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { workflowSchema } from '../src/workflows/schema.js';
import { performHttp } from '../src/workflows/steps/http.js';
import type { HttpRequestSpec } from '../src/workflows/steps/http.js';
import type { NetPolicy } from '../src/workflows/steps/net-guard.js';
import { appErrorOf } from './helpers/errors.js';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface TestServer {
  port: number;
  /** Base URL with the host as given, e.g. http://127.0.0.1:1234 */
  base: string;
  requests: Received[];
  connections: number;
}

type Handler = (req: Received, res: http.ServerResponse, server: TestServer) => void;

const servers: http.Server[] = [];

afterEach(async () => {
  // Hanging exchanges (the timeout tests) keep sockets open; close them so the server can stop.
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

async function startServer(handler: Handler, host = '127.0.0.1', urlHost = host): Promise<TestServer> {
  const server = http.createServer();
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const state: TestServer = { port, base: `http://${urlHost}:${port}`, requests: [], connections: 0 };
  server.on('connection', () => state.connections++);
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() };
      state.requests.push(received);
      handler(received, res, state);
    });
  });
  return state;
}

/** A loopback address that is not what `localhost` resolves to, so a redirect to that name can be refused. */
async function otherLoopback(): Promise<{ host: string; urlHost: string }> {
  for (const [host, urlHost] of [
    ['127.0.0.2', '127.0.0.2'],
    ['::1', '[::1]'],
  ] as const) {
    const probe = http.createServer();
    const ok = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false));
      probe.listen(0, host, () => probe.close(() => resolve(true)));
    });
    if (ok) return { host, urlHost };
  }
  throw new Error('no second loopback address (127.0.0.2 or ::1) to listen on');
}

function spec(url: string, over: Partial<HttpRequestSpec> = {}): HttpRequestSpec {
  return {
    method: 'GET',
    url,
    headers: {},
    timeoutMs: 10_000,
    connectTimeoutMs: 5_000,
    maxResponseBytes: 1024 * 1024,
    maxRedirects: 5,
    ...over,
  };
}

const none: NetPolicy = { allow: [] };
const loopback: NetPolicy = { allow: ['127.0.0.1'] };
const ok: Handler = (_req, res) => res.end('ok');

describe('an http step whose URL can never be requested is refused when the workflow is applied', () => {
  /** The problems of a one-step workflow with this URL, as "path: message". */
  const problems = (url: string) => {
    const r = workflowSchema.safeParse({ name: 'wf', steps: [{ type: 'noop' }, { type: 'http', name: 'notify', url }] });
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it.each([
    ['htps//partner.example.com/hook', 'is not a valid URL: an http step needs an absolute http:// or https:// URL'],
    ['partner.example.com/hook', 'is not a valid URL'],
    ['https://partner example.com/hook', 'is not a valid URL'],
    ['https://partner.example.com:99999/hook', 'is not a valid URL'],
    ['https://[::1/hook', 'is not a valid URL'],
    ['https://partner example.com/{{run.id}}', 'is not a valid URL'],
    ['ftp://files.example.com/upload', 'is a ftp: URL: an http step sends only http:// or https://'],
    ['file:///etc/passwd', 'is a file: URL'],
  ])('%s', (url, message) => {
    const found = problems(url);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(`steps.1.url: ${JSON.stringify(url)} ${message}`);
  });

  it.each([
    'https://partner.example.com/hooks/levqor',
    'http://127.0.0.1:8080/x?y=1',
    'https://{{vars.host}}/hook',
    'https://partner.example.com:{{vars.port}}/hooks/{{run.id}}?q={{vars.q}}',
    '{{vars.url}}',
    '{{vars.base}}/hooks',
  ])('accepts %s (references stand for text known only when the step runs)', (url) => {
    const steps = url.includes('vars.')
      ? [{ type: 'transform', set: { host: 'h', port: 1, q: 'q', url: 'u', base: 'b' } }]
      : [{ type: 'noop' }];
    const r = workflowSchema.safeParse({ name: 'wf', steps: [...steps, { type: 'http', url }] });
    expect(r.success, r.error?.message).toBe(true);
  });
});

describe('performHttp refuses blocked targets before connecting', () => {
  it.each([
    ['an IP literal', (port: number) => `http://127.0.0.1:${port}/`],
    ['the decimal form', (port: number) => `http://2130706433:${port}/`],
    ['a name resolving to loopback', (port: number) => `http://localhost:${port}/`],
  ])('%s', async (_label, url) => {
    const server = await startServer(ok);
    const err = await appErrorOf(performHttp(spec(url(server.port)), none));
    expect(err.code).toBe('blocked_target');
    expect(server.connections).toBe(0);
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a non-http scheme', async () => {
    expect((await appErrorOf(performHttp(spec('file:///etc/passwd'), none))).code).toBe('blocked_target');
  });
});

describe('performHttp on an allowed target', () => {
  it('sends method, JSON body, Idempotency-Key and User-Agent', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(201, { 'content-type': 'text/plain', 'x-reply': 'yes' });
      res.end('created');
    });
    const result = await performHttp(
      spec(`${server.base}/things`, { method: 'post', body: { a: 1 }, headers: { 'X-Trace': 't-1' }, idempotencyKey: 'run-42' }),
      loopback,
    );
    expect(result).toMatchObject({ status: 201, body: 'created', bytes: 7, redirects: 0, url: `${server.base}/things` });
    expect(result.headers['x-reply']).toBe('yes');
    const [got] = server.requests;
    expect(got).toMatchObject({ method: 'POST', url: '/things', body: '{"a":1}' });
    expect(got?.headers).toMatchObject({
      'content-type': 'application/json',
      'idempotency-key': 'run-42',
      'user-agent': 'levqor',
      'x-trace': 't-1',
    });
  });

  it('sends a string body as-is and returns error statuses instead of throwing', async () => {
    const server = await startServer((_req, res) => {
      res.statusCode = 503;
      res.end('down');
    });
    const result = await performHttp(spec(server.base, { method: 'PUT', body: 'raw text' }), { allow: ['127.0.0.0/8'] });
    expect(result).toMatchObject({ status: 503, body: 'down' });
    expect(server.requests[0]).toMatchObject({ method: 'PUT', body: 'raw text' });
    expect(server.requests[0]?.headers['content-type']).toBeUndefined();
  });

  it('reaches a name allowed by hostname', async () => {
    const server = await startServer(ok);
    const result = await performHttp(spec(`http://localhost:${server.port}/`), { allow: ['localhost'] });
    expect(result.body).toBe('ok');
  });
});

describe('performHttp redirects', () => {
  it('refuses a redirect from an allowed name to a not-allowed loopback IP and port', async () => {
    const target = await startServer(ok);
    const origin = await startServer((_req, res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${target.port}/` });
      res.end();
    });
    const err = await appErrorOf(performHttp(spec(`http://localhost:${origin.port}/`), { allow: ['localhost'] }));
    expect(err.code).toBe('blocked_target');
    expect(origin.requests).toHaveLength(1);
    expect(target.connections).toBe(0);
  });

  it('refuses a redirect from an allowed IP to a name that resolves to a not-allowed loopback address', async () => {
    const alt = await otherLoopback();
    const target = await startServer(ok);
    const origin = await startServer(
      (_req, res) => {
        res.writeHead(307, { location: `http://localhost:${target.port}/` });
        res.end();
      },
      alt.host,
      alt.urlHost,
    );
    const err = await appErrorOf(performHttp(spec(`${origin.base}/`), { allow: [alt.host] }));
    expect(err.code).toBe('blocked_target');
    expect(err.message).toMatch(/localhost/);
    expect(origin.requests).toHaveLength(1);
    expect(target.connections).toBe(0);
  });

  const countdown: Handler = (req, res) => {
    const n = Number(req.url.split('/')[2]);
    if (n > 0) {
      res.writeHead(302, { location: `/hops/${n - 1}` });
      res.end();
    } else {
      res.end('landed');
    }
  };

  it('follows a chain up to maxRedirects', async () => {
    const server = await startServer(countdown);
    const result = await performHttp(spec(`${server.base}/hops/3`, { maxRedirects: 3 }), loopback);
    expect(result).toMatchObject({ status: 200, body: 'landed', redirects: 3, url: `${server.base}/hops/0` });
  });

  it('fails past maxRedirects', async () => {
    const server = await startServer(countdown);
    const err = await appErrorOf(performHttp(spec(`${server.base}/hops/4`, { maxRedirects: 3 }), loopback));
    expect(err.code).toBe('step_failed');
    expect(err.message).toMatch(/too many redirects/);
    expect(server.requests).toHaveLength(4);
  });

  it.each([
    [303, 'POST', 'GET', ''],
    [302, 'POST', 'GET', ''],
    [301, 'POST', 'GET', ''],
    [303, 'PUT', 'GET', ''],
    [302, 'PUT', 'PUT', '{"n":1}'],
    [307, 'POST', 'POST', '{"n":1}'],
    [308, 'POST', 'POST', '{"n":1}'],
  ])('%i after %s is followed with %s', async (status, method, nextMethod, nextBody) => {
    const server = await startServer((req, res) => {
      if (req.url === '/start') {
        res.writeHead(status, { location: '/next' });
        res.end();
      } else {
        res.end('done');
      }
    });
    const result = await performHttp(spec(`${server.base}/start`, { method, body: { n: 1 }, idempotencyKey: 'k-1' }), loopback);
    expect(result).toMatchObject({ status: 200, redirects: 1 });
    const next = server.requests[1];
    expect(next).toMatchObject({ method: nextMethod, url: '/next', body: nextBody });
    expect(next?.headers['idempotency-key']).toBe('k-1');
    expect(next?.headers['content-type']).toBe(nextBody ? 'application/json' : undefined);
  });

  it('drops Authorization when a redirect changes origin', async () => {
    const target = await startServer(ok);
    const origin = await startServer((_req, res) => {
      res.writeHead(302, { location: `${target.base}/` });
      res.end();
    });
    await performHttp(spec(origin.base, { headers: { Authorization: 'Bearer secret' }, idempotencyKey: 'k-2' }), loopback);
    expect(origin.requests[0]?.headers.authorization).toBe('Bearer secret');
    expect(target.requests[0]?.headers.authorization).toBeUndefined();
    expect(target.requests[0]?.headers['idempotency-key']).toBe('k-2');
  });
});

describe('performHttp limits', () => {
  it.each([
    ['streamed without a length', false],
    ['declared by content-length', true],
  ])('caps a response %s', async (_label, declared) => {
    const server = await startServer((_req, res) => {
      if (declared) res.setHeader('content-length', '2048');
      res.write('x'.repeat(1024));
      res.end('y'.repeat(1024));
    });
    const err = await appErrorOf(performHttp(spec(server.base, { maxResponseBytes: 1000 }), loopback));
    expect(err.code).toBe('step_failed');
    expect(err.message).toBe('response exceeded 1000 bytes');
  });

  it('accepts a response of exactly maxResponseBytes', async () => {
    const server = await startServer((_req, res) => res.end('z'.repeat(1000)));
    const result = await performHttp(spec(server.base, { maxResponseBytes: 1000 }), loopback);
    expect(result.bytes).toBe(1000);
  });

  it('times out when the server never answers', async () => {
    const server = await startServer(() => {
      // Never respond; afterEach closes the socket.
    });
    const err = await appErrorOf(performHttp(spec(server.base, { timeoutMs: 200 }), loopback));
    expect(err.code).toBe('timeout');
  });

  it('times out connecting when the TLS handshake never completes', async () => {
    // A bare TCP listener accepts the socket but never speaks TLS, so "connected" never happens.
    const silent = net.createServer((socket) => sockets.push(socket));
    const sockets: net.Socket[] = [];
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    const { port } = silent.address() as AddressInfo;
    try {
      const err = await appErrorOf(performHttp(spec(`https://127.0.0.1:${port}/`, { connectTimeoutMs: 200 }), loopback));
      expect(err.code).toBe('timeout');
      expect(err.message).toMatch(/connecting to 127\.0\.0\.1:\d+ timed out/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    const server = await startServer(() => controller.abort());
    const err = await appErrorOf(performHttp(spec(server.base), loopback, controller.signal));
    expect(err.code).toBe('step_failed');
    expect(err.message).toMatch(/aborted/);
  });
});
