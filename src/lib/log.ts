import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

/** JSON lines on stdout; human-readable lines when stdout is a terminal (or LEVQOR_LOG_PRETTY=true). */
export function createLogger(level: string, prettyFlag: boolean | undefined, stream: NodeJS.WritableStream = process.stdout): Logger {
  const usePretty = prettyFlag ?? Boolean((stream as NodeJS.WriteStream).isTTY);
  const options = { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  if (!usePretty) return pino(options, pino.destination({ dest: stream === process.stderr ? 2 : 1, sync: true }));
  return pino(options, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname', destination: stream, sync: true }));
}

export type { Logger };
