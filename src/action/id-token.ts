import * as core from '@actions/core';
import { AppError, errorMessage } from '../lib/errors.js';
import { runnerEnv } from './runner-env.js';

/**
 * The workflow's GitHub OIDC token for `audience`: the protocol of the toolkit's
 * core.getIDToken (GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=… with the runner's request
 * token, answered with { value }), over fetch: the toolkit's version pulls in
 * @actions/http-client and undici, which would take the bundle past its 1 MB budget.
 * The token is masked before anything can log it.
 */
export async function requestIdToken(audience: string): Promise<string> {
  const env = runnerEnv();
  const url = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!url || !requestToken) throw new AppError('config', 'the runner offers no OIDC token (ACTIONS_ID_TOKEN_REQUEST_URL is not set)');
  const target = `${url}${url.includes('?') ? '&' : '?'}audience=${encodeURIComponent(audience)}`;
  let res: Response;
  try {
    res = await fetch(target, {
      headers: { authorization: `Bearer ${requestToken}`, accept: 'application/json' },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new AppError('upstream', `the runner's OIDC token service did not answer (${errorMessage(err)})`);
  }
  const body = (await res.json().catch(() => ({}))) as { value?: unknown };
  if (!res.ok || typeof body.value !== 'string' || body.value === '')
    throw new AppError('upstream', `the runner's OIDC token service answered ${res.status} without a token`);
  core.setSecret(body.value);
  return body.value;
}
