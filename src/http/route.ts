import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
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

/** The API's sections, as the OpenAPI document names and describes them. */
export const TAGS = {
  approvals: 'Approval requests: list, show, decide, ask again; actions submitted for a decision',
  workflows: 'Workflows (the workflow file schema) and manual runs',
  runs: 'Workflow runs with their events',
  audit: 'The append-only audit log',
  analytics: "Run and approval analytics, and the engagement events a tenant's product sends",
  people: 'People who decide: their linked identities (Slack, GitHub, OIDC, tokens, CLI, email) and roles',
  secrets: 'Secrets for {{secrets.NAME}} references: write-only values, names and metadata to read',
  health: 'Liveness, readiness, health summary, scaling, alerts and Prometheus metrics',
  meta: 'This document',
} as const;

/** Reply bodies by HTTP status. */
export type Replies = Record<number, z.ZodType>;

export interface RouteSpec<P, Q, B, R extends Replies> {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  /** Unique across the API: the name generated clients give the call. */
  operationId: string;
  summary: string;
  tag: keyof typeof TAGS;
  /** The scope a token needs; routes without one need no token. */
  scope?: Scope;
  /**
   * A token without a particular scope: "required" (any valid token: 401 without one; the router
   * checks it) or "optional" (the handler checks one when sent: 401 for a bad one).
   */
  token?: 'required' | 'optional';
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Default status (200 unless set); a handler may set another of `replies`. */
  status?: number;
  /** Every reply body the handler returns, by status: it must return one of them. */
  replies: R;
  /** Failures the handler raises itself (404, 409 …), by status, with when; those of input, token and rate limit are implied. */
  errors?: Record<number, string>;
  /** Media type of the replies (default application/json). */
  contentType?: string;
  handler: (input: Handled<P, Q, B>) => Promise<z.input<R[keyof R]>>;
}

export type AnySpec = RouteSpec<unknown, unknown, unknown, Replies>;

/** Paths the rate limit leaves alone: probes and scrapes must answer however busy a client is. */
export const RATE_LIMIT_EXEMPT: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

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
 * Registers routes whose inputs and replies are zod schemas: inputs parsed at the edge (400
 * naming each bad field), checked against the token's scopes (401 / 403), and all of it kept
 * for the OpenAPI document.
 */
export function createRouter(app: FastifyInstance, authenticate: (request: FastifyRequest) => Promise<TokenIdentity>) {
  const specs: AnySpec[] = [];
  return {
    specs,
    add<P, Q, B, R extends Replies>(spec: RouteSpec<P, Q, B, R>): void {
      specs.push(spec as unknown as AnySpec);
      app.route({
        method: spec.method,
        url: spec.url,
        handler: async (request, reply) => {
          const auth = spec.scope || spec.token === 'required' ? await authenticate(request) : (undefined as unknown as TokenIdentity);
          if (spec.scope && !auth.scopes.includes(spec.scope)) {
            throw new AppError('forbidden', `this token lacks the ${spec.scope} scope`);
          }
          const params = parse(spec.params, request.params, 'params');
          const query = parse(spec.query, request.query, 'query');
          const body = parse(spec.body, request.body, 'body');
          // The default first: a handler may still choose another status (201 vs 200).
          void reply.status(spec.status ?? 200);
          if (spec.contentType) void reply.header('content-type', spec.contentType);
          return spec.handler({ params, query, body, auth, request, reply });
        },
      });
    },
  };
}

/** The router `createRouter` returns. */
export type Router = ReturnType<typeof createRouter>;
