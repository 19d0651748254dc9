import { Octokit } from '@octokit/core';
import { paginateRest } from '@octokit/plugin-paginate-rest';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { RequestError } from '@octokit/request-error';
import { AppError, errorMessage } from '../lib/errors.js';

// One GitHub client for the action and the server: Octokit with the ecosystem's plugins.

export interface GitHubClientOptions {
  apiUrl: string;
  /** A token (the action's, or the server's LEVQOR_GITHUB_DISPATCH_TOKEN)… */
  token?: string;
  /** …or another Octokit auth strategy (the server's GitHub App: src/github/app-auth.ts). */
  strategy?: { authStrategy: unknown; auth: unknown };
  /** The User-Agent product ("levqor-action", "levqor"). */
  userAgent?: string;
  /** Server errors (5xx) retried by @octokit/plugin-retry (default 3; 0 for a call that must not be sent twice). */
  retries?: number;
  /** Where retries and rate-limit waits are told (the action: warnings on the run). */
  warn?: (message: string) => void;
  /** Milliseconds waited per second a retry asks for (1000; tests shrink it). */
  retryAfterBaseValue?: number;
  /** How often a rate-limited request (primary or secondary limit) is tried again before it fails. */
  rateLimitRetries?: number;
  /** Longest rate-limit wait worth holding a runner for, in seconds. */
  maxRateLimitWaitSeconds?: number;
  /** Time limit of one request. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Octokit with the ecosystem's plugins: pagination, retries of server errors, and rate-limit handling. */
const LevqorOctokit = Octokit.plugin(paginateRest, retry, throttling);

/** The configured client (request and paginate). */
export type GitHubOctokit = InstanceType<typeof LevqorOctokit>;

/** An Octokit for `apiUrl` authenticated with `token`, retrying what GitHub asks to be retried. */
export function createOctokit(opts: GitHubClientOptions): GitHubOctokit {
  const warn = opts.warn ?? (() => undefined);
  const retries = opts.rateLimitRetries ?? 2;
  const maxWait = opts.maxRateLimitWaitSeconds ?? 120;
  const fetchFn = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const onLimit =
    (kind: string) =>
    (retryAfter: number, options: { method: string; url: string }, _octokit: unknown, retryCount: number): boolean => {
      const again = retryCount < retries && retryAfter <= maxWait;
      const path = new URL(options.url, 'http://github.invalid').pathname;
      warn(
        `GitHub ${kind} rate limit on ${options.method} ${path}: ${again ? `trying again in ${retryAfter} s (${retryCount + 1}/${retries})` : `giving up (asked to wait ${retryAfter} s)`}`,
      );
      return again;
    };
  return new LevqorOctokit({
    ...(opts.strategy ?? { auth: opts.token }),
    baseUrl: opts.apiUrl.replace(/\/+$/, ''),
    userAgent: opts.userAgent ?? 'levqor-action',
    log: { debug: () => undefined, info: () => undefined, warn, error: warn },
    request: {
      fetch: (url: string, init?: RequestInit) => fetchFn(url, { ...init, signal: init?.signal ?? AbortSignal.timeout(timeoutMs) }),
    },
    retry: { retryAfterBaseValue: opts.retryAfterBaseValue ?? 1000, ...(opts.retries === undefined ? {} : { retries: opts.retries }) },
    throttle: {
      retryAfterBaseValue: opts.retryAfterBaseValue ?? 1000,
      onRateLimit: onLimit('primary'),
      onSecondaryRateLimit: onLimit('secondary'),
    },
  });
}

/** A failed call as an AppError naming the request: `GitHub GET /repos/…: 403 Resource not accessible`. */
export function apiError(method: string, path: string, err: unknown): AppError {
  if (err instanceof RequestError) {
    const data = err.response?.data as { message?: unknown } | undefined;
    const message = typeof data?.message === 'string' ? data.message : err.message;
    return new AppError('upstream', `GitHub ${method} ${path}: ${err.status} ${message.slice(0, 300)}`, [], { cause: err });
  }
  return new AppError('upstream', `GitHub ${method} ${path}: ${errorMessage(err)}`, [], { cause: err });
}

export async function call<T>(method: string, path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw apiError(method, path, err);
  }
}

export function splitRepo(repo: string): { owner: string; repo: string } {
  const [owner = '', name = ''] = repo.split('/');
  if (!owner || !name) throw new AppError('bad_input', `repository "${repo}" is not owner/name`);
  return { owner, repo: name };
}
