import type { Db } from '../../src/db/types.js';
import { apiRequest, deployAction } from './api.js';

/** Signs in through the dashboard's form and returns the session cookie ("levqor_session=…"). */
export async function signInCookie(baseUrl: string, token: string): Promise<string> {
  const res = await fetch(`${baseUrl}/dashboard/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, next: '/console/approvals' }).toString(),
  });
  if (res.status !== 303) throw new Error(`sign-in answered ${res.status}`);
  return (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
}

/** A console page's HTML with the session cookie. */
export async function getPage(baseUrl: string, path: string, cookie: string): Promise<{ status: number; html: string; headers: Headers }> {
  const res = await fetch(`${baseUrl}${path}`, { headers: { cookie }, redirect: 'manual' });
  return { status: res.status, html: await res.text(), headers: res.headers };
}

/** The CSRF token a console page carries in its forms. */
export function csrfOf(html: string): string {
  const m = /name="csrf" value="([^"]+)"/.exec(html);
  if (!m?.[1]) throw new Error('no csrf field on the page');
  return m[1];
}

/** Posts a console form (approve / reject / rerequest) as a same-origin browser would. */
export function postForm(
  baseUrl: string,
  path: string,
  cookie: string,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${baseUrl}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

/** Submits a Class C action through the API; returns the pending approval's id. */
export async function requestApproval(
  baseUrl: string,
  token: string,
  summary: string,
  payload: Record<string, unknown> = { service: 'web' },
): Promise<string> {
  const res = await apiRequest<{ id: string; status: string }>(baseUrl, 'POST', '/api/actions', {
    token,
    body: deployAction(summary, payload),
  });
  if (res.status !== 201 || res.json.status !== 'pending') throw new Error(`action answered ${res.status}: ${res.text}`);
  return res.json.id;
}

/** An approval's status and decider, read from the ledger. */
export async function approvalState(db: Db, id: string): Promise<{ status: string; processed_by: string | null; reason: string | null }> {
  const { rows } = await db.query<{ status: string; processed_by: string | null; reason: string | null }>(
    'SELECT status, processed_by, reason FROM approval_queue WHERE id = $1',
    [id],
  );
  if (!rows[0]) throw new Error(`no approval ${id}`);
  return rows[0];
}
