/**
 * The one place the action reads `process.env` itself. Inputs, outputs, the summary and the
 * event come through @actions/core and @actions/github (which read the runner's variables);
 * what they do not expose is here: the workspace, and the environment handed on to check
 * commands and to `loadConfig` (LEVQOR_* variables on the step).
 */

/** The runner's environment, as the step received it. */
export function runnerEnv(): NodeJS.ProcessEnv {
  return process.env;
}

/** The workspace the runner checked the repository out into (GITHUB_WORKSPACE), else the working directory. */
export function workspaceDir(): string {
  return runnerEnv().GITHUB_WORKSPACE || process.cwd();
}
