import type { IncomingMessage } from 'node:http';
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
  // The router's own refusals (a path parameter over its length cap, a malformed %-escape)
  // come before any route: answered as the bad input they are, in the one error shape.
  const fastifyCode = (err as FastifyError).code;
  if (fastifyCode === 'FST_ERR_MAX_PARAM_LENGTH' || fastifyCode === 'FST_ERR_BAD_URL') {
    const issue = fastifyCode === 'FST_ERR_BAD_URL' ? 'params: not a valid URL component' : 'params: too long';
    void reply.status(400).send({ error: 'bad_input', message: `invalid request: ${issue}`, issues: [issue] });
    return;
  }
  const status = (err as FastifyError).statusCode;
  if (status === 413) {
    const limit = request.routeOptions.bodyLimit;
    const body = { error: 'payload_too_large', message: `request body over the limit of ${limit} bytes (LEVQOR_API_BODY_LIMIT_BYTES)` };
    // The answer goes out once the body is in: a connection closed on unread data is reset, and a
    // client that writes its whole body before reading (no Expect: 100-continue) never sees the 413.
    void discardBody(request.raw, limit + DISCARD_MAX_BYTES).then(() => reply.status(413).send(body));
    return;
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code =
      status === 413 ? 'payload_too_large' : status === 429 ? 'rate_limited' : status === 415 ? 'unsupported_media_type' : 'bad_request';
    void reply.status(status).send({ error: code, message: err.message });
    return;
  }
  request.log.error({ err }, 'unhandled error');
  void reply.status(500).send({ error: 'internal', message: 'internal error; see the server log' });
}

/** How much of an over-size body is read past the limit before the connection is just closed. */
const DISCARD_MAX_BYTES = 64 * 1024 * 1024;

/** Reads and drops the rest of a request body; resolves when it ended, failed, or ran past `max` bytes. */
function discardBody(req: IncomingMessage, max: number): Promise<void> {
  if (req.complete || req.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', done);
      req.off('error', done);
      req.off('close', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > max) done();
    };
    req.on('data', onData);
    req.once('end', done);
    req.once('error', done);
    req.once('close', done);
    req.resume();
  });
}
