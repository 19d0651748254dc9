import { randomUUID } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { EOL } from 'node:os';

/**
 * The GitHub Actions runner protocol, written out (no @actions/core): inputs from INPUT_*
 * variables, outputs and the job summary appended to the files the runner names, and
 * workflow commands (`::error …::`, `::add-mask::`) on stdout.
 */
export interface Runner {
  /** An input's value, trimmed; '' when unset. */
  input(name: string): string;
  /** Writes an output (GITHUB_OUTPUT heredoc form; the legacy command when the file is absent). */
  setOutput(name: string, value: string): void;
  /** Appends markdown to the job summary (GITHUB_STEP_SUMMARY); also printed when the file is absent. */
  summary(markdown: string): void;
  /** Masks a value in every later log line. */
  mask(secret: string): void;
  info(message: string): void;
  warning(message: string, props?: AnnotationProps): void;
  error(message: string, props?: AnnotationProps): void;
  /** Fails the step: an error annotation and exit code 1. */
  fail(message: string): void;
  group<T>(title: string, fn: () => Promise<T>): Promise<T>;
}

export interface AnnotationProps {
  file?: string;
  line?: number;
  col?: number;
  title?: string;
}

/** Escapes a workflow-command message (the data after `::`). */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escapes a workflow-command property value (file=…, title=…). */
export function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** Formats `::name k=v,…::message`. */
export function workflowCommand(name: string, props: AnnotationProps, message: string): string {
  const entries = Object.entries(props).filter(([, v]) => v !== undefined && v !== '');
  const propText = entries.length ? ` ${entries.map(([k, v]) => `${k}=${escapeProperty(String(v))}`).join(',')}` : '';
  return `::${name}${propText}::${escapeData(message)}`;
}

/** The heredoc block GITHUB_OUTPUT expects; the delimiter is random and checked against the value. */
export function outputBlock(name: string, value: string): string {
  const delimiter = `ghadelimiter_${randomUUID()}`;
  if (name.includes(delimiter) || value.includes(delimiter)) throw new Error(`output ${name}: value contains the delimiter`);
  return `${name}<<${delimiter}${EOL}${value}${EOL}${delimiter}${EOL}`;
}

/** A runner over an environment and a line writer (stdout by default). */
export function createRunner(
  env: NodeJS.ProcessEnv = process.env,
  write: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Runner {
  const runner: Runner = {
    input(name) {
      return (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim();
    },
    setOutput(name, value) {
      const file = env.GITHUB_OUTPUT;
      if (file) appendFileSync(file, outputBlock(name, value), 'utf8');
      else write(workflowCommand('set-output', {}, `${name}=${value}`));
    },
    summary(markdown) {
      const file = env.GITHUB_STEP_SUMMARY;
      if (file) appendFileSync(file, `${markdown}${EOL}`, 'utf8');
      else write(markdown);
    },
    mask(secret) {
      // Each line of a multi-line secret is masked on its own, as the runner matches per line.
      for (const part of secret.split(/\r?\n/)) if (part.trim()) write(`::add-mask::${escapeData(part)}`);
    },
    info: (message) => write(message),
    warning: (message, props = {}) => write(workflowCommand('warning', props, message)),
    error: (message, props = {}) => write(workflowCommand('error', props, message)),
    fail(message) {
      process.exitCode = 1;
      write(workflowCommand('error', {}, message));
    },
    async group(title, fn) {
      write(`::group::${escapeData(title)}`);
      try {
        return await fn();
      } finally {
        write('::endgroup::');
      }
    },
  };
  return runner;
}
