import type { Queryable } from '../../db/types.js';
import { AppError, errorMessage } from '../../lib/errors.js';
import type { AuditRecorder } from '../ports.js';
import { setWorkflowActive } from '../queries.js';
import type { Step } from '../schema.js';
import type { Mailer } from './email.js';
import { runGitHubStep, type GitHubStepClient } from './github.js';
import { performHttp } from './http.js';
import type { NetPolicy } from './net-guard.js';

/** What steps need from the outside world; built once per process. */
export interface StepServices {
  netPolicy: NetPolicy;
  http: { timeoutMs: number; connectTimeoutMs: number; maxResponseBytes: number };
  mailer?: Mailer;
  smtpFrom: string;
  /** Posts slack_message steps; unset when SLACK_BOT_TOKEN is not configured. */
  slack?: SlackPoster;
  /** Sends github steps' calls with the server's GitHub App or token; unset when neither is configured. */
  github?: GitHubStepClient;
}

/** What a slack_message step needs from Slack. */
export interface SlackPoster {
  postMessage(message: { channel: string; text: string }): Promise<{ channel: string; ts: string }>;
}

export interface StepEnv {
  services: StepServices;
  /** The connection or transaction the step's database effects belong to. */
  db: Queryable;
  /** Records a Class B change in `db` (the step's transaction). */
  audit: AuditRecorder;
  tenantId: string;
  workflowName: string;
  actor: string;
  /** Set for Class C steps: the approval the execution is bound to. */
  approvalId?: string;
  signal: AbortSignal;
}

/** A step failure that a retry may cure (network trouble, 5xx, 429). */
export class RetryableStepError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('step_failed', message, [], options);
  }
}

/** Waits ms, or rejects as soon as signal aborts. */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function parseBody(body: string, contentType: string | undefined): unknown {
  if (contentType?.includes('json')) {
    try {
      return JSON.parse(body) as unknown;
    } catch {
      return body;
    }
  }
  return body.length > 4096 ? `${body.slice(0, 4096)}…` : body;
}

/** Runs one step (already rendered) and returns its output. */
export async function runStep(step: Step, env: StepEnv): Promise<unknown> {
  switch (step.type) {
    case 'noop':
      return null;
    case 'log':
      return { message: step.message, level: step.level };
    case 'transform':
      return step.set;
    case 'delay':
      await abortableDelay(step.ms, env.signal);
      return { waited_ms: step.ms };
    case 'set_workflow_active': {
      const name = step.workflow ?? env.workflowName;
      const wf = await setWorkflowActive(env.db, env.tenantId, name, step.active);
      if (!wf) throw new AppError('not_found', `workflow "${name}" not found`);
      await env.audit(env.db, {
        tenant_id: env.tenantId,
        actor: env.actor,
        action: step.active ? 'workflow.activate' : 'workflow.pause',
        subject: `workflow:${wf.id}`,
        detail: { workflow: name, active: step.active },
      });
      return { workflow: name, active: step.active };
    }
    case 'http': {
      const { services } = env;
      let res;
      try {
        res = await performHttp(
          {
            method: step.method,
            url: step.url,
            headers: step.headers,
            body: step.body,
            timeoutMs: Math.min(step.timeout_ms, services.http.timeoutMs),
            connectTimeoutMs: services.http.connectTimeoutMs,
            maxResponseBytes: step.max_response_bytes ?? services.http.maxResponseBytes,
            maxRedirects: step.max_redirects,
            idempotencyKey: env.approvalId ? `levqor-${env.approvalId}` : undefined,
          },
          services.netPolicy,
          env.signal,
        );
      } catch (err) {
        if (err instanceof AppError && (err.code === 'blocked_target' || err.code === 'bad_input')) throw err;
        throw new RetryableStepError((err as Error).message);
      }
      const output = { status: res.status, url: res.url, body: parseBody(res.body, res.headers['content-type']) };
      if (res.status === 429 || res.status >= 500) throw new RetryableStepError(`${step.method} ${res.url} answered ${res.status}`);
      if (res.status >= 400) throw new AppError('step_failed', `${step.method} ${res.url} answered ${res.status}`);
      return output;
    }
    case 'email': {
      const mailer = env.services.mailer;
      if (!mailer) throw new AppError('config', 'email step: LEVQOR_SMTP_URL is not set');
      const to = step.to === undefined ? [] : Array.isArray(step.to) ? step.to : [step.to];
      const sent = await mailer.send({
        from: step.from ?? env.services.smtpFrom,
        to,
        bcc: step.bcc,
        subject: step.subject,
        text: step.text,
        headers: env.approvalId ? { 'X-Levqor-Approval': env.approvalId } : undefined,
      });
      return { message_id: sent.messageId, accepted: sent.accepted, rejected: sent.rejected };
    }
    case 'slack_message': {
      const slack = env.services.slack;
      if (!slack) throw new AppError('config', 'slack_message step: SLACK_BOT_TOKEN is not set for this process');
      let posted;
      try {
        posted = await slack.postMessage({ channel: step.channel, text: step.text });
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw new RetryableStepError(`Slack: ${errorMessage(err)}`);
      }
      return { channel: posted.channel, ts: posted.ts };
    }
    case 'github':
      return runGitHubStep(step, env.services.github);
  }
}

/** Exponential backoff with full jitter: attempt 1 waits around base, then doubles, capped at 5 min. */
export function backoffDelay(baseMs: number, attempt: number, random: number): number {
  const ceiling = Math.min(baseMs * 2 ** (attempt - 1), 300_000);
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}
