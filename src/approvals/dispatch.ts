import type { Config } from '../config.js';
import type { Db } from '../db/types.js';
import { call, splitRepo, type GitHubOctokit } from '../github/octokit.js';
import { serverCredential, serverOctokit, type ServerCredential } from '../github/server.js';
import { AppError, errorMessage } from '../lib/errors.js';
import { createPause } from '../lib/pause.js';
import type { Logger } from '../lib/log.js';
import { insertAudit } from '../audit/queries.js';
import { APPROVALS_CHANNEL, claimExecution, dueDispatches, finishExecution, type DispatchRow } from './queries.js';

/**
 * After-approval GitHub dispatch: a request submitted with `payload.dispatch = { repository,
 * event_type }` (the action's `request-approval` with `wait: false`) starts a workflow by
 * `repository_dispatch` once it is approved (and sends the rejected / expired event when it is
 * not, so the pipeline hears "no" too), so no runner waits for the human. The credential
 * is the server's (LEVQOR_GITHUB_DISPATCH_TOKEN, or the GitHub App LEVQOR_GITHUB_APP_*), never
 * part of a request.
 */
export interface DispatchConfig extends ServerCredential {
  apiUrl: string;
  /** owner/repo names the credential may be used for; empty: any. */
  allowedRepos: string[];
}

type DispatchSettings = Pick<
  Config,
  | 'LEVQOR_GITHUB_DISPATCH_TOKEN'
  | 'LEVQOR_GITHUB_DISPATCH_REPOS'
  | 'LEVQOR_GITHUB_API_URL'
  | 'LEVQOR_GITHUB_APP_ID'
  | 'LEVQOR_GITHUB_APP_INSTALLATION_ID'
  | 'LEVQOR_GITHUB_APP_PRIVATE_KEY'
>;

/** The dispatch settings (parsed in src/config.ts); undefined when neither a token nor an App is configured. */
function dispatchConfig(config: DispatchSettings): DispatchConfig | undefined {
  const credential = serverCredential(config);
  return credential && { ...credential, apiUrl: config.LEVQOR_GITHUB_API_URL, allowedRepos: config.LEVQOR_GITHUB_DISPATCH_REPOS };
}

interface DispatchTarget {
  repository: string;
  event_type: string;
}

/** The event a decision sends when the payload names none for it (a request made before these existed, too). */
const DEFAULT_EVENTS = { rejected: 'levqor-rejected', expired: 'levqor-expired' } as const;
const EVENT_TYPE = /^[\w.:-]{1,100}$/;

/**
 * The dispatch target a payload names for this decision, or a reason it is unusable:
 * `event_type` when approved, `rejected_event_type` / `expired_event_type` (default
 * levqor-rejected / levqor-expired) otherwise, so a pipeline that did not wait hears "no" too.
 */
function dispatchTarget(a: DispatchRow, cfg: DispatchConfig): DispatchTarget | string {
  const d = a.payload.dispatch as Record<string, unknown> | undefined;
  if (!d || typeof d !== 'object') return 'payload.dispatch: missing';
  if (typeof d.repository !== 'string' || !/^[\w.-]+\/[\w.-]+$/.test(d.repository))
    return 'payload.dispatch.repository: must be owner/repo';
  const field = a.status === 'approved' ? 'event_type' : `${a.status}_event_type`;
  const eventType = d[field] ?? (a.status === 'rejected' || a.status === 'expired' ? DEFAULT_EVENTS[a.status] : undefined);
  if (typeof eventType !== 'string' || !EVENT_TYPE.test(eventType))
    return `payload.dispatch.${field}: 1–100 letters, digits, "_", ".", ":" or "-"`;
  if (cfg.allowedRepos.length > 0 && !cfg.allowedRepos.includes(d.repository.toLowerCase()))
    return `payload.dispatch.repository: ${d.repository} is not in LEVQOR_GITHUB_DISPATCH_REPOS`;
  return { repository: d.repository, event_type: eventType };
}

async function sendDispatch(gh: GitHubOctokit, target: DispatchTarget, a: DispatchRow): Promise<void> {
  const { dispatch: _d, ...payload } = a.payload;
  await call('POST', `/repos/${target.repository}/dispatches`, () =>
    gh.request('POST /repos/{owner}/{repo}/dispatches', {
      ...splitRepo(target.repository),
      event_type: target.event_type,
      client_payload: {
        approval_id: a.id,
        decision: a.status,
        action_type: a.action_type,
        summary: a.summary,
        approver: a.processed_by,
        reason: a.reason,
        payload,
      },
    }),
  );
}

/**
 * One sweep: each due request is claimed (its one execution, a conditional UPDATE, so two
 * servers never both send), dispatched, and marked finished; the outcome goes to audit_log.
 * A failed send stays claimed and audited: a deploy is started at most once, never twice.
 */
export async function dispatchApproved(
  db: Db,
  cfg: DispatchConfig,
  log: Pick<Logger, 'info' | 'warn'>,
  fetchFn: typeof fetch = fetch,
): Promise<{ sent: number; failed: number }> {
  let sent = 0;
  let failed = 0;
  let gh: GitHubOctokit | undefined;
  for (const a of await dueDispatches(db, 50)) {
    if (!(await claimExecution(db, a.id, ['approved', 'rejected', 'expired']))) continue;
    const target = dispatchTarget(a, cfg);
    try {
      if (typeof target === 'string') throw new AppError('bad_input', target, [target]);
      gh ??= serverOctokit(cfg.apiUrl, cfg, fetchFn, 15_000);
      await sendDispatch(gh, target, a);
      await db.transaction(async (tx) => {
        await finishExecution(tx, a.id);
        await insertAudit(tx, {
          tenant_id: a.tenant_id,
          actor: 'levqor:dispatch',
          action: 'approval.dispatched',
          subject: `approval:${a.id}`,
          detail: { ...target, decision: a.status },
        });
      });
      log.info(
        { approval_id: a.id, repository: target.repository, event_type: target.event_type },
        `sent repository_dispatch for a request ${a.status}`,
      );
      sent++;
    } catch (err) {
      await insertAudit(db, {
        tenant_id: a.tenant_id,
        actor: 'levqor:dispatch',
        action: 'approval.dispatch_failed',
        subject: `approval:${a.id}`,
        detail: { error: errorMessage(err) },
      });
      log.warn(
        { approval_id: a.id, err: errorMessage(err) },
        'repository_dispatch failed; the request is left claimed (start the workflow by hand)',
      );
      failed++;
    }
  }
  return { sent, failed };
}

/**
 * Runs the dispatcher until `signal` aborts: a sweep at start, on every approval NOTIFY and
 * every `intervalSeconds`. Does nothing when no token is configured. Never rejects.
 */
export async function startApprovalDispatch(opts: {
  db: Db;
  log: Logger;
  config: Parameters<typeof dispatchConfig>[0];
  signal: AbortSignal;
  intervalSeconds?: number;
  fetch?: typeof fetch;
}): Promise<void> {
  const cfg = dispatchConfig(opts.config);
  if (!cfg) return;
  const { db, log, signal } = opts;
  const pause = createPause(signal);
  const unlisten = await db
    .listen(APPROVALS_CHANNEL, (p) => (/"(approved|rejected|expired)"/.test(p) ? pause.wake() : undefined))
    .catch((err: unknown) => {
      log.warn({ err: errorMessage(err) }, 'dispatch: LISTEN failed; sweeping on the interval only');
      return () => Promise.resolve();
    });
  log.info(
    {
      api: cfg.apiUrl,
      as: cfg.app ? `GitHub App ${cfg.app.appId} (installation ${cfg.app.installationId})` : 'token',
      repositories: cfg.allowedRepos.length ? cfg.allowedRepos : 'any',
    },
    'dispatch: decided requests with payload.dispatch start GitHub workflows',
  );
  try {
    while (!signal.aborted) {
      try {
        await dispatchApproved(db, cfg, log, opts.fetch);
      } catch (err) {
        log.warn({ err: errorMessage(err) }, 'dispatch sweep failed; retrying');
      }
      await pause.wait(opts.intervalSeconds ?? 60);
    }
  } finally {
    await unlisten().catch(() => undefined);
  }
}
