import * as core from '@actions/core';
import { AppError, errorMessage } from '../lib/errors.js';
import { requestIdToken } from './id-token.js';

/** Every input action.yml declares (test/action-workflows.test.ts keeps the two in step). */
export const INPUTS = {
  command: 'command',
  githubToken: 'github-token',
  databaseUrl: 'database-url',
  tenant: 'tenant',
  apiUrl: 'api-url',
  apiToken: 'api-token',
  apiAudience: 'api-audience',
  workingDirectory: 'working-directory',
  frontendDirectory: 'frontend-directory',
  lintCommand: 'lint-command',
  buildCommand: 'build-command',
  syntaxCommand: 'syntax-command',
  backendEntry: 'backend-entry',
  checkTimeoutSeconds: 'check-timeout-seconds',
  lintTimeoutSeconds: 'lint-timeout-seconds',
  buildTimeoutSeconds: 'build-timeout-seconds',
  syntaxTimeoutSeconds: 'syntax-timeout-seconds',
  gateTimeoutSeconds: 'gate-timeout-seconds',
  parallel: 'parallel',
  comment: 'comment',
  allowedApprovers: 'allowed-approvers',
  strict: 'strict',
  actionType: 'action-type',
  title: 'title',
  details: 'details',
  payload: 'payload',
  requester: 'requester',
  wait: 'wait',
  timeoutMinutes: 'timeout-minutes',
  pollIntervalSeconds: 'poll-interval-seconds',
  maxPollIntervalSeconds: 'max-poll-interval-seconds',
  dispatchRepository: 'dispatch-repository',
  dispatchEventType: 'dispatch-event-type',
  dispatchRejectedEventType: 'dispatch-rejected-event-type',
  dispatchExpiredEventType: 'dispatch-expired-event-type',
  week: 'week',
} as const;

export type InputName = (typeof INPUTS)[keyof typeof INPUTS];

/** Every default action.yml declares (a runner passes them as inputs; test/action-workflows.test.ts keeps them in step). */
export const INPUT_DEFAULTS: Partial<Record<InputName, string>> = {
  [INPUTS.command]: 'checks',
  [INPUTS.apiAudience]: 'levqor',
  [INPUTS.workingDirectory]: '.',
  [INPUTS.frontendDirectory]: '.',
  [INPUTS.lintCommand]: 'npm run lint',
  [INPUTS.buildCommand]: 'npm run build',
  [INPUTS.checkTimeoutSeconds]: '900',
  [INPUTS.gateTimeoutSeconds]: '120',
  [INPUTS.parallel]: 'true',
  [INPUTS.comment]: 'true',
  [INPUTS.strict]: 'false',
  [INPUTS.actionType]: 'deploy',
  [INPUTS.wait]: 'true',
  [INPUTS.timeoutMinutes]: '60',
  [INPUTS.pollIntervalSeconds]: '5',
  [INPUTS.maxPollIntervalSeconds]: '60',
  [INPUTS.dispatchEventType]: 'levqor-approved',
  [INPUTS.dispatchRejectedEventType]: 'levqor-rejected',
  [INPUTS.dispatchExpiredEventType]: 'levqor-expired',
};

/** Every output action.yml declares. */
export const OUTPUTS = ['passed', 'result', 'report', 'decision', 'approver', 'reason', 'approval-id', 'markdown'] as const;

export type OutputName = (typeof OUTPUTS)[number];

/** Secret inputs: masked before anything is logged. */
const SECRET_INPUTS = [INPUTS.githubToken, INPUTS.databaseUrl, INPUTS.apiToken] as const;

/** A bad input: the step fails naming it. */
export function inputError(name: InputName, problem: string): AppError {
  return new AppError('bad_input', `input ${name}: ${problem}`, [name]);
}

/** An input's value, trimmed; '' when unset (a runner passes action.yml's defaults as inputs). */
export function input(name: InputName): string {
  // Trimmed here, not by the toolkit's option: @github/local-action's stand-in trims only when asked.
  return core.getInput(name).trim();
}

/** Sets one of the outputs action.yml declares. */
export function output(name: OutputName, value: string): void {
  core.setOutput(name, value);
}

/** A positive number input, or its default. */
export function numberInput(name: InputName, fallback: number, max = 86_400): number {
  const raw = input(name);
  if (raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > max) throw inputError(name, `must be a positive number up to ${max} (got "${raw}")`);
  return n;
}

/** A boolean input ("true"/"false", YAML 1.2 core forms), or its default. */
export function boolInput(name: InputName, fallback: boolean): boolean {
  const raw = input(name);
  if (raw === '') return fallback;
  if (/^(true|True|TRUE)$/.test(raw)) return true;
  if (/^(false|False|FALSE)$/.test(raw)) return false;
  throw inputError(name, `must be true or false (got "${raw}")`);
}

/** A required input. */
export function requiredInput(name: InputName, why: string): string {
  const v = input(name);
  if (!v) throw inputError(name, `required ${why}`);
  return v;
}

/**
 * The credential for `api-url`: `api-token`, or else (keyless) the workflow's GitHub OIDC token
 * for `api-audience`, which the toolkit masks; Levqor accepts it from repositories it trusts.
 */
export async function apiCredential(): Promise<string> {
  const token = input(INPUTS.apiToken);
  if (token) return token;
  try {
    return await requestIdToken(input(INPUTS.apiAudience) || 'levqor');
  } catch (err) {
    throw inputError(
      INPUTS.apiToken,
      `not given, and the workflow's OIDC token is not available (${errorMessage(err)}): for keyless requests give the job "permissions: id-token: write" (and trust the repository: levqor github trust add), or pass api-token`,
    );
  }
}

/** Masks a value in every later log line; each line of a multi-line value on its own, as the runner matches per line. */
export function mask(secret: string): void {
  for (const part of secret.split(/\r?\n/)) if (part.trim()) core.setSecret(part);
}

/** Masks each secret input, and a database URL's password on its own (it may be logged by a driver). */
export function maskSecrets(): void {
  for (const name of SECRET_INPUTS) {
    const v = input(name);
    if (!v) continue;
    mask(v);
    if (name === INPUTS.databaseUrl && URL.canParse(v)) {
      const raw = new URL(v).password;
      if (raw) mask(raw);
      const pw = safeDecode(raw);
      if (pw && pw !== raw) mask(pw);
    }
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
