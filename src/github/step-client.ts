import type { Config } from '../config.js';
import type { GitHubStepClient } from '../workflows/steps/github.js';
import { appAuthStrategy, githubAppFromConfig } from './app-auth.js';
import { call, createOctokit } from './octokit.js';

/**
 * The `github` step's client: the server's GitHub App (or, without one, its token), on
 * LEVQOR_GITHUB_API_URL, through `fetchFn` (the SSRF-guarded fetch of `http` steps). A call is
 * sent once: a server error is not retried, since GitHub may have acted; rate limits are waited out.
 */
export function githubStepClient(
  config: Pick<
    Config,
    | 'LEVQOR_GITHUB_API_URL'
    | 'LEVQOR_GITHUB_DISPATCH_TOKEN'
    | 'LEVQOR_GITHUB_APP_ID'
    | 'LEVQOR_GITHUB_APP_INSTALLATION_ID'
    | 'LEVQOR_GITHUB_APP_PRIVATE_KEY'
  >,
  fetchFn: typeof fetch,
): GitHubStepClient | undefined {
  const app = githubAppFromConfig(config);
  const token = config.LEVQOR_GITHUB_DISPATCH_TOKEN;
  if (!app && !token) return undefined;
  const gh = createOctokit({
    apiUrl: config.LEVQOR_GITHUB_API_URL,
    ...(app ? { strategy: appAuthStrategy(app) } : { token }),
    userAgent: 'levqor',
    retries: 0,
    fetch: fetchFn,
  });
  return {
    request: async (route, params) => {
      const [method = 'GET', template = ''] = route.split(' ');
      const path = template.replace(/\{(\w+)\}/g, (_, name: string) => String(params[name]));
      const res = await call(method, path, () => gh.request(route, params));
      return { status: res.status, data: res.data };
    },
  };
}
