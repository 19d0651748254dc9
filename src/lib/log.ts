import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { redactString } from './redact.js';

/**
 * A log argument with credential-shaped values redacted (the same rules as every face that
 * shows a payload): an error message quoting a URL with a password, or a header echoed back by
 * a server, never reaches a log line in clear. Field names are kept: `token: "ops-laptop"` names
 * a token, it is not one.
 */
function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactString(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return scrubError(value, depth);
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, depth + 1)]));
}

/**
 * An error as it may be logged: itself when it holds nothing to redact (the common case), else
 * a plain Error with the redacted message, stack, fields and cause that still names its kind.
 * Never a copy built on the original's prototype: host errors such as DOMException (an aborted
 * fetch) have getter-only, brand-checked properties that throw on such a copy.
 */
function scrubError(err: Error, depth: number): Error {
  const message = redactString(err.message);
  const stack = err.stack === undefined ? undefined : redactString(err.stack);
  const own = Object.entries(err);
  const fields = own.map(([k, v]) => [k, scrub(v, depth + 1)] as const);
  const cause = err.cause === undefined ? undefined : scrub(err.cause, depth + 1);
  const same = message === err.message && stack === err.stack && cause === err.cause && fields.every(([, v], i) => v === own[i]?.[1]);
  if (same) return err;
  const copy = new Error(message, cause === undefined ? undefined : { cause });
  Object.defineProperties(copy, {
    name: { value: err.name, writable: true, configurable: true },
    stack: { value: stack, writable: true, configurable: true },
    // pino names an error's type by its constructor.
    constructor: { value: err.constructor, writable: true, configurable: true },
  });
  for (const [k, v] of fields) (copy as unknown as Record<string, unknown>)[k] = v;
  return copy;
}

/** JSON lines on stdout; human-readable lines when stdout is a terminal (or LEVQOR_LOG_PRETTY=true). */
export function createLogger(level: string, prettyFlag: boolean | undefined, stream: NodeJS.WritableStream = process.stdout): Logger {
  const usePretty = prettyFlag ?? Boolean((stream as NodeJS.WriteStream).isTTY);
  const options: pino.LoggerOptions = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => scrub(a)) as Parameters<pino.LogFn>);
      },
    },
  };
  if (usePretty) {
    return pino(options, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname', destination: stream, sync: true }));
  }
  if (stream === process.stdout || stream === process.stderr) {
    return pino(options, pino.destination({ dest: stream === process.stderr ? 2 : 1, sync: true }));
  }
  return pino(options, stream);
}

export type { Logger };
