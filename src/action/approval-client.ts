import { submitAction } from '../approvals/actions.js';
import { getApproval } from '../approvals/queries.js';
import type { ApprovalStatus } from '../approvals/types.js';
import { describeChanges, type ApprovalOutcome, type GateApprover } from '../checks/gate.js';
import type { Db } from '../db/types.js';
import { AppError } from '../lib/errors.js';

/** The part of an approval request the action reads. */
export interface ApprovalView {
  id: string;
  status: ApprovalStatus;
  processed_by: string | null;
  reason: string | null;
  expires_at: number;
}

export interface ActionRequest {
  action_type: string;
  summary: string;
  payload: Record<string, unknown>;
}

/** Submits a Class C action and reads its state: straight from the database or through the REST API. */
export interface ApprovalClient {
  submit(req: ActionRequest): Promise<ApprovalView>;
  get(id: string): Promise<ApprovalView>;
}

/** The client over `database-url`. */
export function dbApprovalClient(db: Db, tenantId: string, requester: string): ApprovalClient {
  return {
    submit: (req) => submitAction(db, { tenantId, actor: requester, channel: 'github', ...req, impact_class: 'C' }),
    async get(id) {
      const row = await getApproval(db, id, tenantId);
      if (!row) throw new AppError('not_found', `approval ${id} not found`);
      return row;
    },
  };
}

/** Calls the Levqor REST API at `api-url` with a bearer credential (an API token or the workflow's OIDC token). */
function levqorApi(apiUrl: string, credential: string, fetchFn: typeof fetch) {
  const base = apiUrl.replace(/\/+$/, '');
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetchFn(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${credential}`,
        accept: 'application/json',
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) throw new AppError('upstream', `Levqor API ${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new AppError('upstream', `Levqor API ${method} ${path}: ${res.status} but not JSON: ${text.slice(0, 120)}`);
    }
  };
}

/** The client over `api-url` (POST /api/actions, GET /api/approvals/:id). */
export function apiApprovalClient(apiUrl: string, credential: string, fetchFn: typeof fetch = fetch): ApprovalClient {
  const call = levqorApi(apiUrl, credential, fetchFn);
  return {
    submit: (req) => call<ApprovalView>('POST', '/api/actions', { ...req, impact_class: 'C' }),
    get: (id) => call<ApprovalView>('GET', `/api/approvals/${encodeURIComponent(id)}`),
  };
}

/** The safety gate's approver over `api-url`: POST /api/gate/critical-files asks (once) and reports the state. */
export function apiGateApprover(apiUrl: string, credential: string, fetchFn: typeof fetch = fetch): GateApprover {
  const call = levqorApi(apiUrl, credential, fetchFn);
  return (pr, changes) =>
    call<ApprovalOutcome>('POST', '/api/gate/critical-files', {
      repository: pr.repository,
      pull_request: pr.number,
      head_sha: pr.headSha,
      base_sha: pr.baseSha,
      files: describeChanges(changes),
    });
}
