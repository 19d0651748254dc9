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
  if (value instanceof Error) {
    const copy = Object.assign(Object.create(Object.getPrototypeOf(value) as object) as Error, value);
    copy.message = redactString(value.message);
    if (value.stack) copy.stack = redactString(value.stack);
    return copy;
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, depth + 1)]));
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
