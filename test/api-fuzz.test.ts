import fc from 'fast-check';
import http from 'node:http';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestDeploy } from './helpers/api.js';
import { decideApproval, expireApprovals } from '../src/approvals/service.js';
import { revokeToken } from '../src/auth/queries.js';
import { createToken, SCOPES } from '../src/auth/tokens.js';
import { encodeCursor } from '../src/http/routes/approvals.js';
import { startRun } from '../src/scheduler/manual.js';
import { openPgTestDb, type TestDb } from './helpers/db.js';
import { testSchedulerDeps } from './helpers/deps.js';
import { makeTenant, makeWorkflow } from './helpers/fixtures.js';
import { callApi, sendRaw, startInProcessApi, type InProcessApi, type RawOutcome, type RawRequest } from './helpers/server.js';

// Every route of the OpenAPI document gets PER_ENDPOINT generated requests, hostile in every
// part (ids, query, headers, body), mostly with a valid token so they reach the handlers.
// Whatever comes in, the answer is a 4xx or a success: a 5xx fails the test with the request
// and the server's own log line for it. Node's http client (not fetch) so that GET bodies,
// odd header names and invalid JSON can be sent; one keep-alive agent, CONCURRENCY in flight.
// The app runs in this process on real Postgres: client, server and fast-check share one
// event loop, and PGlite's WASM engine in it would cost more CPU than the rest together.

const PER_ENDPOINT = 2_000;
const CONCURRENCY = 16;
const BODY_LIMIT = 64 * 1024;
/** FUZZ_SEED=<n> replays a run; the seed is printed with any failure. */
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  propertyNames?: { pattern?: string };
};
interface Operation {
  responses: Record<string, unknown>;
  parameters?: { name: string; in: 'path' | 'query'; schema: JsonSchema }[];
  requestBody?: { content: { 'application/json': { schema: JsonSchema } } };
}
interface FuzzRequest extends RawRequest {
  endpoint: string;
}
interface Seeds {
  token: string;
  badAuth: string[];
  ids: string[];
  names: string[];
}

// ---- hostile values --------------------------------------------------------------------

const nasty = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\ud83d',
  '\u202egnp.exe',
  '\ufeff',
  '\r\n',
  '\t',
  '../../../../etc/passwd',
  '..\\..\\windows',
  '/',
  '//',
  '.',
  '..',
  '%',
  '%00',
  '%zz',
  '%2e%2e%2f',
  "' OR '1'='1",
  '1; DROP TABLE approval_queue; --',
  "'); SELECT pg_sleep(5); --",
  '$1',
  '\\',
  '"',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'null',
  'undefined',
  'NaN',
  'true',
  '[]',
  '{}',
  '-1',
  '0',
  '1e309',
  '-0',
  '0x10',
  '9'.repeat(400),
  '${jndi:ldap://x/a}',
  '{{run.id}}',
  '<script>alert(1)</script>',
  '😀'.repeat(60),
  'ℌ𝔢𝔩𝔩𝔬',
  'ﷺ',
  'İ',
  'ß',
  'x'.repeat(5_000),
  '0'.repeat(36),
  '-'.repeat(36),
  'ffffffff-ffff-ffff-ffff-fffffffffffff',
];
const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...nasty) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 20 }), fc.integer({ min: 10, max: 300 }))
      .map(([s, n]) => s.repeat(n)),
  },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...nasty), { minLength: 2, maxLength: 4 }).map((a) => a.join('')) },
  { weight: 1, arbitrary: fc.uuid() },
);
const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    -1,
    1,
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 53 + 1,
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
    1e308,
    -1e308,
    5e-324,
    0.5,
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 2, arbitrary: hostileNumber },
  {
    weight: 1,
    arbitrary: fc.constantFrom(null, true, false, [], {}, [[[]]], JSON.parse('{"__proto__":{"polluted":1}}') as unknown, {
      constructor: { prototype: { polluted: 1 } },
    }),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 2_000 }).map((n) => Array<string>(n).fill('a')) },
);
const hostileKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', '', ' ', '\u0000', 'a.b', '$where', 'x'.repeat(300)),
  hostileString,
);

/** Bytes of `s` as UTF-8, percent-encoded except for unreserved characters. */
function pct(s: string): string {
  return [...Buffer.from(s, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}
const FRAMING = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'expect', 'upgrade', 'te', 'trailer']);
/** Node's client refuses CR, LF, NUL and characters above U+00FF in a header value. */
const headerSafe = (s: string) => s.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');

// ---- schema-driven bodies ----------------------------------------------------------------

/**
 * Values for a JSON schema from the OpenAPI document. "valid" mode keeps to the schema
 * (except free-text strings, which get hostile text: that is what reaches the database);
 * "chaos" mode also swaps any node for a hostile value and adds hostile keys.
 */
function fromSchema(s: JsonSchema | undefined, mode: 'valid' | 'chaos', depth = 0): fc.Arbitrary<unknown> {
  const inner = fromSchemaInner(s, mode, depth);
  return mode === 'chaos' ? fc.oneof({ weight: 8, arbitrary: inner }, { weight: 1, arbitrary: hostileValue }) : inner;
}

function fromSchemaInner(s: JsonSchema | undefined, mode: 'valid' | 'chaos', depth: number): fc.Arbitrary<unknown> {
  if (!s || depth > 6) return fc.oneof(hostileValue, fc.jsonValue({ maxDepth: 2 }));
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return fc.oneof(...alternatives.map((a) => fromSchema(a, mode, depth + 1)));
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  switch (Array.isArray(s.type) ? s.type[0] : s.type) {
    case 'object': {
      const props = Object.entries(s.properties ?? {});
      const required = new Set(s.required ?? []);
      const known = fc.tuple(
        ...props.map(([k, v]) => fc.option(fromSchema(v, mode, depth + 1), { freq: required.has(k) ? 1_000 : 1, nil: undefined })),
      );
      const valueSchema = typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
      const keyPattern = s.propertyNames?.pattern;
      const extraKey = keyPattern && mode === 'valid' ? fc.stringMatching(new RegExp(keyPattern)) : hostileKey;
      const extras =
        valueSchema || mode === 'chaos'
          ? fc.array(fc.tuple(extraKey, valueSchema ? fromSchema(valueSchema, mode, depth + 1) : hostileValue), {
              maxLength: valueSchema ? 4 : 2,
            })
          : fc.constant([] as [string, unknown][]);
      return fc.tuple(known, extras).map(([vals, more]) => {
        const out: Record<string, unknown> = {};
        // defineProperty, so that "__proto__" becomes an own key that JSON.stringify sends.
        const put = (k: string, v: unknown) =>
          Object.defineProperty(out, k, { value: v, enumerable: true, configurable: true, writable: true });
        props.forEach(([k], i) => vals[i] !== undefined && put(k, vals[i]));
        for (const [k, v] of more) put(k, v);
        return out;
      });
    }
    case 'array': {
      const minLength = Math.min(s.minItems ?? 0, 3);
      return fc.array(fromSchema(s.items, mode, depth + 1), { minLength, maxLength: Math.max(minLength, Math.min(s.maxItems ?? 3, 3)) });
    }
    case 'string': {
      if (s.pattern) return fc.stringMatching(new RegExp(s.pattern));
      const fits = (v: string) => v.length >= (s.minLength ?? 0) && v.length <= (s.maxLength ?? Infinity);
      return fc.oneof(
        fc.string({ minLength: Math.min(s.minLength ?? 0, 10), maxLength: Math.min(s.maxLength ?? 30, 30) }),
        hostileString.filter(fits),
      );
    }
    case 'integer':
    case 'number': {
      const min = Math.max(s.minimum ?? (s.exclusiveMinimum === undefined ? -1_000 : s.exclusiveMinimum + 1), -1e6);
      const max = Math.min(s.maximum ?? 1_000, 1e6);
      return fc.integer({ min, max });
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return fc.oneof(fc.jsonValue({ maxDepth: 3 }), hostileValue);
  }
}

/** Deeply nested JSON (within the body limit), bare or where each route puts free-form JSON. */
const deepJson = fc
  .tuple(
    fc.constantFrom(['[', ']', 30_000], ['{"a":', '}', 12_000]),
    fc.double({ min: 0.02, max: 1, noNaN: true }),
    fc.constantFrom(
      '%s',
      '{"action_type":"deep","summary":"deep","payload":{"d":%s}}',
      '{"name":"deep-wf","steps":[{"type":"http","url":"http://127.0.0.1:9/","body":%s}]}',
      '{"name":"deep-wf","steps":[{"type":"transform","set":{"d":%s}}]}',
      '{"reason":%s}',
    ),
  )
  .map(([[open, close, max], share, wrapper]) => {
    const n = Math.ceil(max * share);
    return wrapper.replace('%s', `${open.repeat(n)}1${close.repeat(n)}`);
  });
const badJsonText = fc.constantFrom(
  '',
  ' ',
  '{',
  '{"a":',
  "{'a':1}",
  'NaN',
  'undefined',
  'null',
  '[]',
  '""',
  '0',
  '-0',
  '1e400',
  '{"a":1e400}',
  '{"limit":-1e999}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"a":1,"a":2}',
  '\ufeff{}',
  '{} trailing',
  '{"reason":"\\u0000"}',
  '{"reason":"\\ud800"}',
  '{"summary":"x","action_type":"a","payload":{"k":"\\u0000"}}',
  '\u0000',
  '['.repeat(10) + ']'.repeat(9),
);
const contentType = fc.oneof(
  { weight: 24, arbitrary: fc.constant('application/json') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      undefined,
      'text/plain',
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'application/JSON',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=----x',
      'application/json;;;',
      'application/vnd.api+json',
      '*/*',
      '',
      'application/json\u00ff',
      'application/octet-stream',
      'application/json, text/html',
      'application/json; charset=utf-16',
    ),
  },
  { weight: 1, arbitrary: hostileString.map(headerSafe) },
);

// ---- requests -----------------------------------------------------------------------------

function endpointArb(method: string, template: string, op: Operation, seeds: Seeds): fc.Arbitrary<FuzzRequest> {
  const params = op.parameters ?? [];
  const pathNames = params.filter((p) => p.in === 'path').map((p) => p.name);
  const queryParams = params.filter((p) => p.in === 'query');
  const idArb = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...seeds.ids, ...seeds.names) },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 4, arbitrary: hostileString },
  );
  const segment = fc.oneof(
    { weight: 8, arbitrary: idArb.map(pct) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '%C0%AF',
        '%FF',
        '%E0%80',
        '%2e%2e%2f',
        '..%2F..%2F',
        '%252e',
        '..',
        '.',
        '%',
        '%zz',
        'a/b',
        '',
        '%00',
        '%F0%9F',
        '?x=1',
        '#frag',
      ),
    },
  );
  const cursor = fc
    .tuple(fc.oneof(hostileNumber, hostileString), fc.oneof(fc.uuid(), fc.stringMatching(/^[0-9a-f-]{36}$/), hostileString))
    .map(([n, id]) => Buffer.from(JSON.stringify([n, id])).toString('base64url'));
  const queryValue = fc.oneof(
    fc.constantFrom(
      '-1',
      '0',
      '1',
      '201',
      '1e3',
      '1.5',
      '99999999999999999999',
      'NaN',
      'Infinity',
      '-Infinity',
      '0x10',
      ' 5 ',
      '',
      'true',
      '[]',
    ),
    ...queryParams.map((p) => fromSchema(p.schema, 'chaos').map((v) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? '')))),
    cursor,
    fc.constant(encodeCursor({ requested_at: 1, id: '00000000-0000-4000-8000-000000000000' })),
    hostileString,
  );
  const queryKey = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...queryParams.map((p) => p.name), 'limit', 'status', 'cursor') },
    { weight: 1, arbitrary: hostileKey },
  );
  const query = fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .array(fc.tuple(queryKey, queryValue), { maxLength: 4 })
        .map((pairs) => pairs.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&')),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'limit=1&limit=2',
        'status[]=pending',
        'status[a]=b',
        '__proto__[polluted]=1',
        'constructor[prototype][x]=1',
        '%zz=1',
        'a=%zz',
        '&&&',
        '=',
        'limit',
        'limit=%00',
        `cursor=${'A'.repeat(600)}`,
      ),
    },
  );
  const auth = fc.oneof(
    { weight: 16, arbitrary: fc.constant(`Bearer ${seeds.token}`) },
    { weight: 2, arbitrary: fc.constantFrom(...seeds.badAuth) },
    { weight: 1, arbitrary: hostileString.map((s) => headerSafe(`Bearer ${s}`)) },
  );
  const headerName = fc.oneof(
    fc.constantFrom(
      'x-forwarded-for',
      'x-real-ip',
      'accept',
      'accept-encoding',
      'origin',
      'cookie',
      'content-encoding',
      'x-http-method-override',
      '__proto__',
      'constructor',
    ),
    // Framing headers are the client's business: a wrong one only tests Node's parser.
    fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/).filter((h) => !FRAMING.has(h)),
  );
  const extraHeaders = fc.array(fc.tuple(headerName, hostileString.map(headerSafe)), { maxLength: 3 });
  const schema = op.requestBody?.content['application/json'].schema;
  const text = (a: fc.Arbitrary<string>) => a.map((v) => Buffer.from(v, 'utf8'));
  const json = (a: fc.Arbitrary<unknown>) => text(a.map((v) => JSON.stringify(v) ?? 'null'));
  const body: fc.Arbitrary<Buffer> = fc.oneof(
    { weight: schema ? 24 : 2, arbitrary: json(fromSchema(schema, 'valid')) },
    { weight: schema ? 12 : 2, arbitrary: json(fromSchema(schema, 'chaos')) },
    { weight: 4, arbitrary: json(fc.jsonValue({ maxDepth: 4 })) },
    { weight: 4, arbitrary: text(badJsonText) },
    { weight: 2, arbitrary: text(fc.string({ unit: 'binary', maxLength: 200 })) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)) },
    // Rare because they are large: deep nesting, and bodies either side of the limit.
    { weight: 1, arbitrary: text(deepJson) },
    {
      weight: 1,
      arbitrary: text(
        fc.integer({ min: BODY_LIMIT - 64, max: BODY_LIMIT + 64 }).map((n) => `{"reason":"${'x'.repeat(Math.max(0, n - 13))}"}`),
      ),
    },
  );
  const sendsBody =
    method === 'GET'
      ? fc.constantFrom(false, false, false, false, false, false, false, false, false, true)
      : fc.constantFrom(true, true, true, true, true, true, false);
  return fc
    .record({
      segments: fc.tuple(...pathNames.map(() => segment)),
      query,
      auth,
      contentType,
      extraHeaders,
      body,
      sendsBody,
      couple: fc.boolean(),
    })
    .map((r) => {
      // PUT /api/workflows/{name} wants the URL name in the body too: use it half the time.
      let segments: string[] = r.segments;
      if (r.couple && pathNames.length === 1 && method === 'PUT') {
        const bodyName = nameIn(r.body.toString('utf8'));
        if (bodyName !== undefined) segments = [pct(bodyName)];
      }
      let i = 0;
      const path = template.replace(/\{\w+\}/g, () => segments[i++] ?? '');
      const headers: string[] = ['host', '127.0.0.1'];
      if (r.auth) headers.push('authorization', r.auth);
      const payload = r.sendsBody ? r.body : undefined;
      if (payload) {
        if (r.contentType !== undefined) headers.push('content-type', r.contentType);
        headers.push('content-length', String(payload.length));
      }
      for (const [k, v] of r.extraHeaders) headers.push(k, v);
      return { endpoint: `${method} ${template}`, method, path: r.query ? `${path}?${r.query}` : path, headers, body: payload };
    });
}

/** The "name" of a JSON object body, if it is one with a string name. */
function nameIn(text: string): string | undefined {
  if (!text.startsWith('{"')) return undefined;
  try {
    const name = (JSON.parse(text) as { name?: unknown }).name;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

function describeRequest(r: FuzzRequest): string {
  const body = r.body ? r.body.toString('utf8') : undefined;
  const shown =
    body === undefined
      ? '(none)'
      : body.length > 300
        ? `${JSON.stringify(body.slice(0, 300))}… (${r.body?.length ?? 0} bytes)`
        : JSON.stringify(body);
  const headers = r.headers.flatMap((h, i) => (i % 2 === 0 ? [`${h}: ${JSON.stringify(r.headers[i + 1]).slice(0, 120)}`] : [])).join(' | ');
  return `${r.method} ${r.path.length > 300 ? `${r.path.slice(0, 300)}… (${r.path.length} chars)` : r.path}\n    headers: ${headers}\n    body: ${shown}`;
}

describe('API fuzz: hostile requests never get a 5xx', () => {
  let t: TestDb;
  let api: InProcessApi;
  const serverErrors = new Map<string, string>();
  let seeds: Seeds;

  beforeAll(async () => {
    t = await openPgTestDb();
    const log = pino(
      { level: 'error' },
      {
        write(line: string) {
          const entry = JSON.parse(line) as { reqId?: string; msg?: string; err?: { code?: string; message?: string; stack?: string } };
          // The first frame of ours above the database adapter says where the bad value got through.
          const frames = entry.err?.stack?.split('\n').filter((l) => l.includes('/src/')) ?? [];
          const where = frames.find((l) => !l.includes('/src/db/')) ?? frames[0] ?? '';
          serverErrors.set(
            entry.reqId ?? `unattributed-${serverErrors.size}`,
            `${entry.msg ?? ''}: [${entry.err?.code ?? ''}] ${entry.err?.message ?? ''} ${where.trim()}`,
          );
        },
      },
    );
    api = await startInProcessApi(t.db, {
      log,
      bodyLimitBytes: BODY_LIMIT,
      configure: (app) => app.addHook('onSend', async (request, reply) => void reply.header('x-fuzz-request-id', request.id)),
    });
    const tenant = await makeTenant(t.db, 'fuzz');
    const other = await makeTenant(t.db, 'fuzz-other');
    const { token } = await createToken(t.db, tenant.id, 'fuzz', [...SCOPES]);
    const reader = await createToken(t.db, tenant.id, 'reader', ['approvals:read']);
    const revoked = await createToken(t.db, tenant.id, 'revoked', [...SCOPES]);
    await revokeToken(t.db, tenant.id, 'revoked');
    const foreign = await createToken(t.db, other.id, 'foreign', [...SCOPES]);
    const wf = await makeWorkflow(t.db, tenant.id, {
      name: 'fuzz-wf',
      steps: [
        { type: 'log', message: 'hi' },
        { type: 'http', url: 'http://127.0.0.1:9/never', body: { a: 1 } },
      ],
    });
    await makeWorkflow(t.db, other.id, { name: 'foreign-wf', steps: [{ type: 'noop' }] });
    const run = await startRun(testSchedulerDeps(t.db), wf, { enqueue: true, trigger: 'manual', actor: 'test' });
    // Plenty of pending requests (from another identity, so the fuzz token may decide them) for
    // approve/reject bodies to reach the database; a rejected and an expired one for rerequest.
    const ids: string[] = [run.runId];
    for (let i = 0; i < 150; i++) {
      ids.push(
        (await requestDeploy(t.db, tenant.id, { summary: `deploy ${i}`, payload: { i }, actor: 'token:requester', channel: 'test' })).id,
      );
    }
    const rejected = ids[1] as string;
    await decideApproval(t.db, {
      id: rejected,
      tenantId: tenant.id,
      decision: 'reject',
      actor: 'token:someone',
      channel: 'test',
      reason: 'no',
    });
    await t.db.query('UPDATE approval_queue SET expires_at = extract(epoch FROM now()) - 1 WHERE id = $1', [ids[2]]);
    await expireApprovals(t.db);
    ids.push((await requestDeploy(t.db, other.id, { summary: 'theirs', payload: {}, actor: 'token:x', channel: 'test' })).id);
    seeds = {
      token,
      ids,
      names: ['fuzz-wf', 'foreign-wf', 'missing-wf'],
      badAuth: [
        '',
        'Bearer',
        'Bearer ',
        `bearer ${token}`,
        `Bearer  ${token}  `,
        `Bearer\t${token}`,
        `Bearer ${token} extra`,
        `Basic ${Buffer.from('a:b').toString('base64')}`,
        `Bearer ${reader.token}`,
        `Bearer ${revoked.token}`,
        `Bearer ${foreign.token}`,
        `Bearer lvq_${'A'.repeat(43)}`,
        `Bearer lvq_${'A'.repeat(6_000)}`,
        `Bearer ${token}\u00e9`,
        `Token ${token}`,
        `Bearer ${token.slice(0, -1)}`,
      ],
    };
  });

  afterAll(async () => {
    await api?.close();
    await t?.close();
  });

  it(`answers ${PER_ENDPOINT} hostile requests per OpenAPI route without a 5xx, and stays healthy`, async () => {
    const started = Date.now();
    const doc = await callApi<{ paths: Record<string, Record<string, Operation>> }>(api.baseUrl, 'GET', '/api/openapi.json');
    expect(doc.status).toBe(200);
    const endpoints = Object.entries(doc.json?.paths ?? {}).flatMap(([path, ops]) =>
      Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
    );
    expect(endpoints.length).toBeGreaterThanOrEqual(13);

    const batches = endpoints.map((e, i) =>
      fc.sample(endpointArb(e.method, e.path, e.op, seeds), { numRuns: PER_ENDPOINT, seed: SEED + i }),
    );
    // Interleave the endpoints, as real traffic would.
    const requests = Array.from({ length: PER_ENDPOINT }, (_, i) => batches.map((b) => b[i] as FuzzRequest)).flat();
    const generatedMs = Date.now() - started;

    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const port = Number(new URL(api.baseUrl).port);
    const failures: { r: FuzzRequest; o: RawOutcome }[] = [];
    const statuses = new Map<string, Map<number, number>>();
    const operations = new Map(endpoints.map((e) => [`${e.method} ${e.path}`, e.op]));
    const undocumented = new Map<string, string>();
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < requests.length) {
          const r = requests[next++] as FuzzRequest;
          const o = await sendRaw(agent, port, r, 'x-fuzz-request-id');
          const counts = statuses.get(r.endpoint) ?? new Map<number, number>();
          counts.set(o.status, (counts.get(o.status) ?? 0) + 1);
          statuses.set(r.endpoint, counts);
          // No answer at all is only acceptable when the server cut off a body over its limit.
          const cutOff = o.status === 0 && (r.body?.length ?? 0) > BODY_LIMIT;
          if (o.status >= 500 || (o.status === 0 && !cutOff)) failures.push({ r, o });
          // Every answer is one the document lists for the route, but for those given before any
          // route: Node's 431 (headers over its limit) and the 404 of a path no route matches.
          const responses = operations.get(r.endpoint)?.responses ?? {};
          const listed = String(o.status) in responses || `${String(o.status)[0]}XX` in responses;
          if (o.status > 0 && !listed && o.status !== 431 && !(o.status === 404 && o.text.includes('"no route ')))
            undocumented.set(`${r.endpoint} → ${o.status}`, o.text.slice(0, 200));
        }
      }),
    );
    agent.destroy();
    const sentMs = Date.now() - started - generatedMs;

    const summary = [...statuses]
      .map(
        ([e, counts]) =>
          `${e.padEnd(36)} ${[...counts]
            .sort(([a], [b]) => a - b)
            .map(([s, n]) => `${s}×${n}`)
            .join(' ')}`,
      )
      .join('\n');
    console.log(
      `fuzz seed ${SEED}: ${requests.length} requests, ${endpoints.length} routes, generated in ${generatedMs} ms, sent in ${sentMs} ms\n${summary}`,
    );

    // Group failures by route and server error so one bug reads as one entry, with its smallest input.
    const groups = new Map<string, { r: FuzzRequest; o: RawOutcome; n: number }>();
    for (const f of failures) {
      const cause = f.o.error ?? (f.o.requestId ? serverErrors.get(f.o.requestId) : undefined) ?? f.o.text;
      // Quoted values and ids differ between requests that hit the same bug.
      const key = `${f.r.endpoint} → ${f.o.status || 'no answer'}: ${cause
        .replace(/"[^"]*"/g, '"…"')
        .replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<uuid>')
        .slice(0, 300)}`;
      const size = (r: FuzzRequest) => r.path.length + (r.body?.length ?? 0);
      const seen = groups.get(key);
      if (!seen) groups.set(key, { ...f, n: 1 });
      else groups.set(key, { ...(size(f.r) < size(seen.r) ? f : seen), n: seen.n + 1 });
    }
    for (const [reqId, message] of serverErrors) {
      if (reqId.startsWith('unattributed-'))
        groups.set(`error logged outside any request: ${message}`, {
          r: { endpoint: '-', method: '-', path: '-', headers: [] },
          o: { status: 0, text: '' },
          n: 1,
        });
    }
    const report = [...groups].map(
      ([key, g]) => `${key}\n  ${g.n} request(s); smallest:\n    ${describeRequest(g.r)}\n    response: ${g.o.text.slice(0, 200)}`,
    );

    // The process is still fine (health, readiness, an ordinary call, no polluted prototype) and no 5xx.
    const status = (path: string, token?: string) =>
      callApi(api.baseUrl, 'GET', path, { token }).then(
        (r) => r.status,
        (err: Error) => err.message,
      );
    expect(
      {
        healthz: await status('/healthz'),
        readyz: await status('/readyz'),
        list: await status('/api/approvals?limit=1', seeds.token),
        polluted: ['polluted', 'x'].filter((k) => k in Object.prototype),
        undocumented: [...undocumented].map(([k, text]) => `${k}: ${text}`),
        failures: report,
      },
      `FUZZ_SEED=${SEED}: ${failures.length} of ${requests.length} requests got a 5xx or no answer`,
    ).toEqual({ healthz: 200, readyz: 200, list: 200, polluted: [], undocumented: [], failures: [] });
  }, 240_000);
});
