import { submitAction } from '../approvals/actions.js';
import { getApproval } from '../approvals/queries.js';
import type { ApprovalStatus } from '../approvals/types.js';
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

/** The client over `api-url` + `api-token` (POST /api/actions, GET /api/approvals/:id). */
export function apiApprovalClient(apiUrl: string, token: string, fetchFn: typeof fetch = fetch): ApprovalClient {
  const base = apiUrl.replace(/\/+$/, '');
  const call = async (method: string, path: string, body?: unknown): Promise<ApprovalView> => {
    const res = await fetchFn(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    if (!res.ok) throw new AppError('upstream', `Levqor API ${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    try {
      return JSON.parse(text) as ApprovalView;
    } catch {
      throw new AppError('upstream', `Levqor API ${method} ${path}: ${res.status} but not JSON: ${text.slice(0, 120)}`);
    }
  };
  return {
    submit: (req) => call('POST', '/api/actions', { ...req, impact_class: 'C' }),
    get: (id) => call('GET', `/api/approvals/${encodeURIComponent(id)}`),
  };
}
