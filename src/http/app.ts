import rateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { createAuthenticator, hashToken, type TokenIdentity } from '../auth/tokens.js';
import type { Db } from '../db/types.js';
import { createGitHubOidcVerifier, looksLikeJwt, type GitHubOidcSettings } from '../github/oidc.js';
import { AppError } from '../lib/errors.js';
import type { RunNowDeps } from '../scheduler/manual.js';
import { handleError } from './errors.js';
import { openApiDocument } from './openapi.js';
import { openApiReply } from './responses.js';
import { createRouter, RATE_LIMIT_EXEMPT } from './route.js';
import { addRequestBuckets, ALERTS_CHANNEL } from '../health/queries.js';
import { createRequestRecorder } from '../health/requests.js';
import { DEFAULT_SCALING } from '../health/scaling.js';
import { createInstanceId } from '../runtime.js';
import { registerDashboard } from './dashboard.js';
import { createWebAuth } from './web-auth.js';
import type { OidcSignIn } from '../auth/oidc-client.js';
import { registerConsole } from './console/routes.js';
import { createMetrics } from './metrics.js';
import { analyticsRoutes } from './routes/analytics.js';
import { approvalRoutes } from './routes/approvals.js';
import { dashboardSnapshot, healthRoutes, type HealthDeps } from './routes/health.js';
import { workflowRoutes } from './routes/workflows.js';
import { secretRoutes } from './routes/secrets.js';
import { peopleRoutes } from './routes/people.js';
import { createKeyring } from '../secrets/keyring.js';
import { createSecretStore, type SecretStore } from '../secrets/store.js';

interface AppDeps {
  db: Db;
  log: Logger;
  /** Requests per minute per token (or per address without one). */
  rateLimitPerMinute: number;
  bodyLimitBytes: number;
  runDeps: () => RunNowDeps;
  startedAt: number;
  /** Names this process in the shared request buckets (default: host, pid and a random tag). */
  instanceId?: string;
  /** Health thresholds and scaling settings (default: the built-in defaults). */
  health?: Omit<HealthDeps, 'db' | 'metrics' | 'processStartedAt'>;
  /** Serve /dashboard without a token (LEVQOR_DASHBOARD_PUBLIC). */
  dashboardPublic?: boolean;
  /** Accept GitHub Actions OIDC tokens from trusted repositories (LEVQOR_GITHUB_OIDC_*); unset: API tokens only. */
  githubOidc?: GitHubOidcSettings;
  /** The configured secret store (default: none, so no secret can be stored or referred to). */
  secrets?: SecretStore;
  /** Console sign-in with OpenID Connect (LEVQOR_OIDC_*); unset: token sign-in only. */
  oidc?: OidcSignIn;
  /** Whether the sign-in page takes an API token (LEVQOR_CONSOLE_TOKEN_SIGNIN; default true). */
  tokenSignIn?: boolean;
}

const DEFAULT_HEALTH: NonNullable<AppDeps['health']> = {
  thresholds: { schedulerIntervalSeconds: 60, pendingApprovalsHigh: 50, minRunsForRate: 20 },
  scaling: DEFAULT_SCALING,
};

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

/** The Levqor REST API as a Fastify instance (not yet listening). */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const loggerInstance: FastifyBaseLogger = deps.log;
  const app: FastifyInstance = Fastify({
    loggerInstance,
    bodyLimit: deps.bodyLimitBytes,
    // Per-request lines would drown the scheduler's log; metrics cover request volume.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: false,
    frameworkErrors: handleError,
  });
  app.setErrorHandler(handleError);
  const lookup = createAuthenticator(deps.db);
  const verifyGitHub = deps.githubOidc ? createGitHubOidcVerifier(deps.db, deps.githubOidc) : undefined;
  const authenticate = async (request: FastifyRequest): Promise<TokenIdentity> => {
    const token = bearer(request);
    if (!token) throw new AppError('unauthorized', 'missing bearer token: send Authorization: Bearer <token> (levqor token create)');
    if (verifyGitHub && looksLikeJwt(token)) return verifyGitHub(token);
    const identity = await lookup(token);
    if (!identity) throw new AppError('unauthorized', 'invalid or revoked token');
    return identity;
  };
  await app.register(rateLimit, {
    max: deps.rateLimitPerMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => {
      const token = bearer(request);
      return token ? `t:${hashToken(token).slice(0, 32)}` : `ip:${request.ip}`;
    },
    allowList: (request) => RATE_LIMIT_EXEMPT.has(request.url),
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429,
      error: 'rate_limited',
      message: `rate limit of ${context.max} requests per minute exceeded; retry in ${Math.ceil(context.ttl / 1000)} s`,
    }),
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0] ?? ''}` });
  });

  const metrics = createMetrics(deps.db);
  const recorder = createRequestRecorder();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    if (route.startsWith('/api/')) recorder.record(reply.elapsedTime, reply.statusCode >= 500);
    done();
  });
  // Every replica adds its counts to Postgres, where rate and P95 are read across all of them.
  const instanceId = deps.instanceId ?? createInstanceId('api');
  // Bounded: a hung database must not hold up start or shutdown.
  const flush = () =>
    Promise.race([
      addRequestBuckets(deps.db, instanceId, recorder.drain()),
      new Promise<void>((resolve) => setTimeout(resolve, 2_000).unref()),
    ]).catch((err: unknown) => deps.log.warn({ err: (err as Error).message }, 'request bucket flush failed'));
  const flushTimer = setInterval(() => void flush(), 10_000);
  flushTimer.unref();
  app.addHook('onReady', async () => {
    await flush();
  });
  app.addHook('onClose', async () => {
    clearInterval(flushTimer);
    await flush();
  });
  const webAuth = createWebAuth(deps.db, lookup);
  const healthDeps: HealthDeps = { ...(deps.health ?? DEFAULT_HEALTH), db: deps.db, metrics, processStartedAt: deps.startedAt };
  registerDashboard(app, {
    snapshot: (tenantId) => dashboardSnapshot(healthDeps, tenantId),
    isPublic: deps.dashboardPublic ?? false,
    auth: webAuth,
    signIn: { token: deps.tokenSignIn ?? true, oidc: deps.oidc?.label },
    subscribe: (onChange) => deps.db.listen(ALERTS_CHANNEL, onChange),
  });

  registerConsole(app, {
    db: deps.db,
    auth: webAuth,
    schedulerIntervalSeconds: healthDeps.thresholds.schedulerIntervalSeconds,
    oidc: deps.oidc,
    tokenSignIn: deps.tokenSignIn,
  });

  const router = createRouter(app, authenticate);
  healthRoutes(router, healthDeps, authenticate);
  approvalRoutes(router, deps.db);
  const secrets = deps.secrets ?? createSecretStore({ keyring: createKeyring({ previous: [] }), env: {} });
  workflowRoutes(router, deps.db, deps.runDeps, secrets);
  secretRoutes(router, deps.db, secrets);
  analyticsRoutes(router, deps.db);
  peopleRoutes(router, deps.db);

  let doc: Record<string, unknown> = {};
  router.add({
    method: 'GET',
    url: '/api/openapi.json',
    operationId: 'getOpenApiDocument',
    tag: 'meta',
    summary: 'This document',
    replies: { 200: openApiReply },
    handler: () => Promise.resolve(doc),
  });
  // Built once, at start, after every route: it lists them all, itself included.
  doc = openApiDocument(router.specs, { title: 'Levqor API', version: '0.1.0' });
  return app;
}
