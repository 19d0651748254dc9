import { createAppAuth } from '@octokit/auth-app';
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
