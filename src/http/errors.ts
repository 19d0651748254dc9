import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../lib/errors.js';

/** The HTTP status of each application error code: the one place the API maps them. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  bad_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  config: 500,
  db_unavailable: 503,
  db_locked: 503,
  migration_drift: 500,
  blocked_target: 400,
  step_failed: 502,
  slack_failed: 502,
  timeout: 504,
  upstream: 502,
  git_failed: 500,
};

/** Fastify error handler: AppErrors by code, Fastify's own 4xx as they are, anything else a logged 500. */
export function handleError(err: FastifyError | AppError | Error, request: FastifyRequest, reply: FastifyReply): void {
  if (err instanceof AppError) {
    const status = HTTP_STATUS[err.code];
    if (status >= 500) request.log.error({ err }, err.message);
    void reply.status(status).send({ error: err.code, message: err.message, ...(err.issues.length ? { issues: err.issues } : {}) });
    return;
  }
  // A last guard: text Postgres cannot store is the caller's input, not our failure.
  const sqlState = (err as { code?: string }).code;
  if (sqlState === '22021' || sqlState === '22P05' || sqlState === '22P02' || sqlState === '54001') {
    void reply.status(400).send({ error: 'bad_input', message: `invalid request: ${err.message}` });
    return;
  }
  const status = (err as FastifyError).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code =
      status === 413 ? 'payload_too_large' : status === 429 ? 'rate_limited' : status === 415 ? 'unsupported_media_type' : 'bad_request';
    void reply.status(status).send({ error: code, message: err.message });
    return;
  }
  request.log.error({ err }, 'unhandled error');
  void reply.status(500).send({ error: 'internal', message: 'internal error; see the server log' });
}
