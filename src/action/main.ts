import * as core from '@actions/core';
import { AppError, errorMessage } from '../lib/errors.js';
import { input, inputError, INPUTS, maskSecrets } from './inputs.js';

const COMMANDS = ['checks', 'scheduler', 'request-approval', 'report'] as const;
type Command = (typeof COMMANDS)[number];

/** Each command is its own chunk: a start loads only what it runs. */
async function dispatch(command: Command): Promise<void> {
  // The context reads the event payload: loaded here, inside run()'s try, so a bad event file fails the step.
  const { readContext } = await import('./context.js');
  switch (command) {
    case 'checks':
      return (await import('./checks.js')).checksCommand(readContext());
    case 'scheduler':
      return (await import('./scheduler.js')).schedulerCommand();
    case 'request-approval':
      return (await import('./request-approval.js')).requestApprovalCommand(readContext());
    case 'report':
      return (await import('./report.js')).reportCommand();
  }
}

/** What a failure says on the run: an AppError's own message; anything else marked as unexpected, its stack in the debug log. */
function failureMessage(err: unknown): string {
  if (err instanceof AppError) return err.message;
  if (err instanceof Error && err.stack) core.debug(err.stack);
  return `unexpected error: ${errorMessage(err)}`;
}

/**
 * Runs the action: inputs, outputs and logs through @actions/core, so the runner and
 * @github/local-action alike can drive it. The one place a failure becomes a failed step.
 */
export async function run(): Promise<void> {
  try {
    maskSecrets();
    const command = input(INPUTS.command) || 'checks';
    if (!(COMMANDS as readonly string[]).includes(command)) {
      throw inputError(INPUTS.command, `must be one of ${COMMANDS.join(', ')} (got "${command}")`);
    }
    await dispatch(command as Command);
  } catch (err) {
    core.setFailed(failureMessage(err));
  }
}
