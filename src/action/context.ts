import { readFileSync } from 'node:fs';
import type { GatePullRequest } from '../checks/gate.js';

/** What the runner tells the action about the event (GITHUB_* variables and the event file). */
export interface ActionContext {
  eventName: string;
  repository: string;
  workspace: string;
  apiUrl: string;
  serverUrl: string;
  runId: string;
  actor: string;
  sha: string;
  pullRequest?: GatePullRequest & { author: string };
}

interface PullRequestEvent {
  pull_request?: { number?: number; base?: { sha?: string }; head?: { sha?: string }; user?: { login?: string } };
}

/** Reads the context from the environment the runner sets. */
export function readContext(env: NodeJS.ProcessEnv): ActionContext {
  const ctx: ActionContext = {
    eventName: env.GITHUB_EVENT_NAME ?? '',
    repository: env.GITHUB_REPOSITORY ?? '',
    workspace: env.GITHUB_WORKSPACE || process.cwd(),
    apiUrl: (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, ''),
    serverUrl: env.GITHUB_SERVER_URL || 'https://github.com',
    runId: env.GITHUB_RUN_ID ?? '',
    actor: env.GITHUB_ACTOR ?? '',
    sha: env.GITHUB_SHA ?? '',
  };
  if (env.GITHUB_EVENT_PATH && /^pull_request(_target)?$/.test(ctx.eventName)) {
    const event = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as PullRequestEvent;
    const pr = event.pull_request;
    if (pr?.number && pr.base?.sha && pr.head?.sha) {
      ctx.pullRequest = {
        repository: ctx.repository,
        number: pr.number,
        baseSha: pr.base.sha,
        headSha: pr.head.sha,
        author: pr.user?.login ?? '',
      };
    }
  }
  return ctx;
}

/** The link to this workflow run, when known. */
export function runUrl(ctx: ActionContext): string | undefined {
  return ctx.repository && ctx.runId ? `${ctx.serverUrl}/${ctx.repository}/actions/runs/${ctx.runId}` : undefined;
}
