import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Scope, TokenIdentity } from '../auth/tokens.js';
import { AppError } from '../lib/errors.js';
import { unsafeInputProblem } from '../lib/safe-input.js';
import { formatIssues } from '../workflows/schema.js';

interface Handled<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  auth: TokenIdentity;
  request: FastifyRequest;
  reply: FastifyReply;
}

interface RouteSpec<P, Q, B> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  summary: string;
  tag: string;
  /** The scope a token needs; routes without one need no token. */
  scope?: Scope;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Success status (200 unless set). */
  status?: number;
  handler: (input: Handled<P, Q, B>) => Promise<unknown>;
}

type AnySpec = RouteSpec<unknown, unknown, unknown>;

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return undefined as T;
  const unsafe = unsafeInputProblem(value, where);
  if (unsafe) throw new AppError('bad_input', `invalid request: ${unsafe}`, [unsafe]);
  const result = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (result.success) return result.data;
  const issues = formatIssues(result.error, where);
  throw new AppError('bad_input', `invalid request: ${issues.join('; ')}`, issues);
}

/**
 * Registers routes whose inputs are zod schemas: parsed at the edge (400 naming each bad
 * field), checked against the token's scopes (401 / 403), and kept for the OpenAPI document.
 */
export function createRouter(app: FastifyInstance, authenticate: (request: FastifyRequest) => Promise<TokenIdentity>) {
  const specs: AnySpec[] = [];
  return {
    specs,
    add<P, Q, B>(spec: RouteSpec<P, Q, B>): void {
      specs.push(spec as unknown as AnySpec);
      app.route({
        method: spec.method,
        url: spec.url,
        handler: async (request, reply) => {
          const auth = spec.scope ? await authenticate(request) : (undefined as unknown as TokenIdentity);
          if (spec.scope && !auth.scopes.includes(spec.scope)) {
            throw new AppError('forbidden', `this token lacks the ${spec.scope} scope`);
          }
          const params = parse(spec.params, request.params, 'params');
          const query = parse(spec.query, request.query, 'query');
          const body = parse(spec.body, request.body, 'body');
          // The default first: a handler may still choose another status (201 vs 200).
          void reply.status(spec.status ?? 200);
          return spec.handler({ params, query, body, auth, request, reply });
        },
      });
    },
  };
}

/** The OpenAPI 3.1 document of the registered routes, generated from their zod schemas. */
export function openApiDocument(specs: readonly AnySpec[], info: { title: string; version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const s of specs) {
    const path = s.url.replace(/:(\w+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ['path', s.params],
      ['query', s.query],
    ] as const) {
      if (!schema) continue;
      const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
        properties?: Record<string, unknown>;
        required?: string[];
      };
      for (const [name, prop] of Object.entries(json.properties ?? {})) {
        parameters.push({ name, in: where, required: where === 'path' || (json.required ?? []).includes(name), schema: prop });
      }
    }
    paths[path] ??= {};
    paths[path][s.method.toLowerCase()] = {
      summary: s.summary,
      tags: [s.tag],
      ...(s.scope ? { security: [{ bearer: [s.scope] }] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(s.body
        ? {
            requestBody: {
              required: !s.body.safeParse(undefined).success,
              content: { 'application/json': { schema: z.toJSONSchema(s.body, { io: 'input', unrepresentable: 'any' }) } },
            },
          }
        : {}),
      responses: {
        [String(s.status ?? 200)]: { description: 'success' },
        '400': { description: 'invalid input; the message names each bad field' },
        ...(s.scope
          ? {
              '401': { description: 'no or bad token' },
              '403': { description: 'token lacks the scope' },
              '429': { description: 'rate limited; see Retry-After' },
            }
          : {}),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'levqor token create' } } },
    paths,
  };
}
