import { createAppAuth } from '@octokit/auth-app';
import type { Config } from '../config.js';
import type { GitHubClientOptions } from './octokit.js';

/** A GitHub App installation Levqor acts as (server side: the action never loads this module). */
export interface GitHubApp {
  appId: number;
  /** The App's private key (PEM). Never logged: only the App and installation ids are. */
  privateKey: string;
  installationId: number;
}

/**
 * Octokit authentication as a GitHub App installation: @octokit/auth-app signs a short JWT
 * with the App's key, exchanges it for an installation token, caches it and mints a new one
 * before it expires, so an organisation needs no personal token.
 */
export function appAuthStrategy(app: GitHubApp): NonNullable<GitHubClientOptions['strategy']> {
  return {
    authStrategy: createAppAuth,
    auth: { appId: app.appId, privateKey: app.privateKey, installationId: app.installationId },
  };
}

/** The App configured by LEVQOR_GITHUB_APP_* (src/config.ts checks that the three come together). */
export function githubAppFromConfig(
  config: Pick<Config, 'LEVQOR_GITHUB_APP_ID' | 'LEVQOR_GITHUB_APP_INSTALLATION_ID' | 'LEVQOR_GITHUB_APP_PRIVATE_KEY'>,
): GitHubApp | undefined {
  const {
    LEVQOR_GITHUB_APP_ID: appId,
    LEVQOR_GITHUB_APP_INSTALLATION_ID: installationId,
    LEVQOR_GITHUB_APP_PRIVATE_KEY: privateKey,
  } = config;
  return appId !== undefined && installationId !== undefined && privateKey !== undefined
    ? { appId, installationId, privateKey }
    : undefined;
}
