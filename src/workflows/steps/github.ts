import { AppError } from '../../lib/errors.js';
import type { Step } from '../schema.js';

/** A `github` step (Class C): one GitHub REST call a runbook needs, approved as written. */
export type GitHubStep = Extract<Step, { type: 'github' }>;

/**
 * What a `github` step needs from GitHub: one REST call, sent once (no retry of a server error:
 * GitHub may have acted), with the server's credential (its GitHub App or token), never the
 * workflow's. Throws an AppError naming the call when GitHub refuses it.
 */
export interface GitHubStepClient {
  request(route: string, params: Record<string, unknown>): Promise<{ status: number; data: unknown }>;
}

/** The REST route and parameters of a step's operation (owner and repo split from `repository`). */
export function githubCall(step: GitHubStep): { route: string; params: Record<string, unknown> } {
  const [owner = '', repo = ''] = step.repository.split('/');
  const at = { owner, repo };
  switch (step.operation) {
    case 'dispatch_workflow':
      return {
        route: 'POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches',
        params: { ...at, workflow_id: step.workflow, ref: step.ref, inputs: step.inputs ?? {} },
      };
    case 'repository_dispatch':
      return {
        route: 'POST /repos/{owner}/{repo}/dispatches',
        params: { ...at, event_type: step.event_type, client_payload: step.client_payload ?? {} },
      };
    case 'create_issue':
      return { route: 'POST /repos/{owner}/{repo}/issues', params: { ...at, title: step.title, body: step.body, labels: step.labels } };
    case 'comment':
      return {
        route: 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments',
        params: { ...at, issue_number: Number(step.issue), body: step.body },
      };
    case 'create_deployment':
      // auto_merge off: a deployment must not merge the default branch into the ref on its own.
      return {
        route: 'POST /repos/{owner}/{repo}/deployments',
        params: { ...at, ref: step.ref, environment: step.environment, description: step.description, auto_merge: false },
      };
    case 'deployment_status':
      return {
        route: 'POST /repos/{owner}/{repo}/deployments/{deployment_id}/statuses',
        params: {
          ...at,
          deployment_id: Number(step.deployment_id),
          state: step.state,
          description: step.description,
          environment: step.environment,
          environment_url: step.environment_url,
        },
      };
  }
}

/** Runs a `github` step: the call, and what later steps may refer to (`id`, `number`, `url`). */
export async function runGitHubStep(step: GitHubStep, client: GitHubStepClient | undefined): Promise<Record<string, unknown>> {
  if (!client)
    throw new AppError(
      'config',
      'github step: no GitHub credential on this process (set LEVQOR_GITHUB_DISPATCH_TOKEN or the LEVQOR_GITHUB_APP_* variables)',
    );
  const { route, params } = githubCall(step);
  const res = await client.request(route, params);
  const data = (res.data ?? {}) as { id?: unknown; number?: unknown; html_url?: unknown; url?: unknown };
  return {
    operation: step.operation,
    repository: step.repository,
    status: res.status,
    ...(data.id !== undefined ? { id: data.id } : {}),
    ...(data.number !== undefined ? { number: data.number } : {}),
    ...(typeof data.html_url === 'string' ? { url: data.html_url } : {}),
  };
}
