import type { Config } from '../config.js';
import type { GitHubStepClient } from '../workflows/steps/github.js';
import { appAuthStrategy, githubAppFromConfig, type GitHubApp } from './app-auth.js';
import { call, createOctokit, type GitHubOctokit } from './octokit.js';

/** The server's own GitHub credential: its GitHub App installation, or else its token. */
export interface ServerCredential {
  app?: GitHubApp;
  token?: string;
}

type CredentialSettings = Pick<
  Config,
  'LEVQOR_GITHUB_DISPATCH_TOKEN' | 'LEVQOR_GITHUB_APP_ID' | 'LEVQOR_GITHUB_APP_INSTALLATION_ID' | 'LEVQOR_GITHUB_APP_PRIVATE_KEY'
>;

/** The configured credential (the App wins over the token); undefined when neither is set. */
export function serverCredential(config: CredentialSettings): ServerCredential | undefined {
  const app = githubAppFromConfig(config);
  if (app) return { app };
  return config.LEVQOR_GITHUB_DISPATCH_TOKEN ? { token: config.LEVQOR_GITHUB_DISPATCH_TOKEN } : undefined;
}

/**
 * The server's Octokit (dispatches, `github` steps). A call is sent once: a server error is not
 * retried, since GitHub may have acted on it; rate limits are waited out (GitHub did not act).
 */
export function serverOctokit(apiUrl: string, credential: ServerCredential, fetchFn: typeof fetch, timeoutMs?: number): GitHubOctokit {
  return createOctokit({
    apiUrl,
    ...(credential.app ? { strategy: appAuthStrategy(credential.app) } : { token: credential.token }),
    userAgent: 'levqor',
    retries: 0,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    fetch: fetchFn,
  });
}

/**
 * The `github` step's client: the server's credential on LEVQOR_GITHUB_API_URL, through `fetchFn`
 * (the SSRF-guarded fetch of `http` steps).
 */
export function githubStepClient(
  config: CredentialSettings & Pick<Config, 'LEVQOR_GITHUB_API_URL'>,
  fetchFn: typeof fetch,
): GitHubStepClient | undefined {
  const credential = serverCredential(config);
  if (!credential) return undefined;
  const gh = serverOctokit(config.LEVQOR_GITHUB_API_URL, credential, fetchFn);
  return {
    request: async (route, params) => {
      const [method = 'GET', template = ''] = route.split(' ');
      const path = template.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name]));
      const res = await call(method, path, () => gh.request(route, params));
      return { status: res.status, data: res.data };
    },
  };
}
