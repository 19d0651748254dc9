import { z } from 'zod';
import { errorReply } from './responses.js';
import { RATE_LIMIT_EXEMPT, TAGS, type AnySpec } from './route.js';

const ERROR_REF = { $ref: '#/components/schemas/Error' };
const BODY_METHODS = new Set(['POST', 'PUT', 'DELETE']);
const RETRY_AFTER = {
  description: 'seconds until the window lets the token (or address) in again',
  schema: { type: 'integer', minimum: 0 },
};

/**
 * A zod schema as JSON Schema: requests as accepted ("input": before defaults), replies as sent
 * ("output": defaults applied, no property beyond those named, additionalProperties false).
 */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  // The document's own dialect (OpenAPI 3.1 is JSON Schema 2020-12) needs no $schema per schema.
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  return json;
}

function errorResponse(description: string) {
  return { description, content: { 'application/json': { schema: ERROR_REF } } };
}

/** Every status a route answers: its replies, its own failures, and those its inputs, token and rate limit imply. */
function responsesOf(s: AnySpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(s.replies)) {
    out[status] = {
      description: Number(status) < 400 ? 'success' : 'failure',
      content: { [s.contentType ?? 'application/json']: { schema: jsonSchema(schema, 'output') } },
    };
  }
  const hasBody = BODY_METHODS.has(s.method);
  const implied: Record<number, string | false> = {
    400: (s.params || s.query || s.body || hasBody) && 'invalid input; the message and issues name each bad field',
    401:
      s.token === 'optional'
        ? 'a token was sent but is unknown, revoked or unverifiable'
        : (!!s.scope || s.token === 'required') &&
          'no token, or an unknown, revoked or (GitHub OIDC) unverified one; the message names why',
    403: !!s.scope && 'the token lacks the scope',
    413: hasBody && 'request body over LEVQOR_API_BODY_LIMIT_BYTES',
    415: hasBody && 'request body neither JSON nor text',
    429: !RATE_LIMIT_EXEMPT.has(s.url) && 'rate limited (LEVQOR_API_RATE_LIMIT per minute); see Retry-After',
  };
  for (const [status, description] of Object.entries({ ...implied, ...s.errors })) {
    if (description && !(status in out)) out[status] = errorResponse(description);
  }
  if (out['429']) out['429'] = { ...out['429'], headers: { 'Retry-After': RETRY_AFTER } };
  out['5XX'] ??= errorResponse('server or database failure');
  return out;
}

function parametersOf(s: AnySpec): unknown[] {
  const parameters: unknown[] = [];
  for (const [where, schema] of [
    ['path', s.params],
    ['query', s.query],
  ] as const) {
    if (!schema) continue;
    const json = jsonSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, prop] of Object.entries(json.properties ?? {})) {
      parameters.push({ name, in: where, required: where === 'path' || (json.required ?? []).includes(name), schema: prop });
    }
  }
  return parameters;
}

/** Who may call: a token with the scope, any token, optionally a token ({}: none), or anyone. */
function securityOf(s: AnySpec): Record<string, string[]>[] {
  if (s.scope) return [{ bearer: [s.scope] }];
  if (s.token === 'required') return [{ bearer: [] }];
  if (s.token === 'optional') return [{}, { bearer: [] }];
  return [];
}

/** The OpenAPI 3.1 document of the registered routes, generated from their zod schemas. */
export function openApiDocument(specs: readonly AnySpec[], info: { title: string; version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const s of specs) {
    const path = s.url.replace(/:(\w+)/g, '{$1}');
    const parameters = parametersOf(s);
    paths[path] ??= {};
    paths[path][s.method.toLowerCase()] = {
      operationId: s.operationId,
      summary: s.summary,
      tags: [s.tag],
      security: securityOf(s),
      ...(parameters.length ? { parameters } : {}),
      ...(s.body
        ? {
            requestBody: {
              required: !s.body.safeParse(undefined).success,
              content: { 'application/json': { schema: jsonSchema(s.body, 'input') } },
            },
          }
        : {}),
      responses: responsesOf(s),
    };
  }
  const tags = [...new Set(specs.map((s) => s.tag))].sort().map((name) => ({ name, description: TAGS[name] }));
  return {
    openapi: '3.1.0',
    info: { ...info, license: { name: 'MIT', identifier: 'MIT' } },
    servers: [{ url: '/', description: 'this server' }],
    tags,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'levqor token create' } },
      schemas: { Error: jsonSchema(errorReply, 'output') },
    },
    paths,
  };
}
