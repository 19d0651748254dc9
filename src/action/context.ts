import { context } from '@actions/github';
import type { GatePullRequest } from '../checks/gate.js';
import { workspaceDir } from './runner-env.js';

/** What the runner tells the action about the event: @actions/github's context, as the commands use it. */
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

interface PullRequestPayload {
  number?: number;
  base?: { sha?: string };
  head?: { sha?: string };
  user?: { login?: string };
}

/** `owner/repo`, or '' outside a repository (the toolkit's `context.repo` throws there). */
function repositoryName(): string {
  try {
    const { owner, repo } = context.repo;
    return `${owner}/${repo}`;
  } catch {
    return '';
  }
}

/** Reads the context of this run from @actions/github (GITHUB_* variables and the event payload). */
export function readContext(): ActionContext {
  const ctx: ActionContext = {
    eventName: context.eventName ?? '',
    repository: repositoryName(),
    workspace: workspaceDir(),
    apiUrl: (context.apiUrl || 'https://api.github.com').replace(/\/+$/, ''),
    serverUrl: context.serverUrl || 'https://github.com',
    runId: Number.isFinite(context.runId) ? String(context.runId) : '',
    actor: context.actor ?? '',
    sha: context.sha ?? '',
  };
  const pr = context.payload.pull_request as PullRequestPayload | undefined;
  if (/^pull_request(_target)?$/.test(ctx.eventName) && pr?.number && pr.base?.sha && pr.head?.sha) {
    ctx.pullRequest = {
      repository: ctx.repository,
      number: pr.number,
      baseSha: pr.base.sha,
      headSha: pr.head.sha,
      author: pr.user?.login ?? '',
    };
  }
  return ctx;
}

/** The link to this workflow run, when known. */
export function runUrl(ctx: ActionContext): string | undefined {
  return ctx.repository && ctx.runId ? `${ctx.serverUrl}/${ctx.repository}/actions/runs/${ctx.runId}` : undefined;
}
