/** Every failure a face must map to its own form (exit code, HTTP status, Slack message). */
export type ErrorCode =
  | 'bad_input'
  | 'unauthorized'
  | 'not_found'
  | 'conflict'
  | 'forbidden'
  | 'config'
  | 'db_unavailable'
  | 'db_locked'
  | 'migration_drift'
  | 'blocked_target'
  | 'step_failed'
  | 'slack_failed'
  | 'timeout'
  /** An outside service answered with an error (the GitHub API, a Levqor API the action calls). */
  | 'upstream'
  /** A git command failed (a missing commit, a broken checkout). */
  | 'git_failed';

/** The one application error family; `issues` lists each bad field when input was invalid. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues: readonly string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AppError';
  }
}

/** Narrows an unknown thrown value to a message. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
