import { readContext } from './context.js';
import { INPUTS, maskSecrets } from './inputs.js';
import { createRunner, type Runner } from './runner.js';

const COMMANDS = ['checks', 'scheduler', 'request-approval', 'report'] as const;
type Command = (typeof COMMANDS)[number];

async function dispatch(command: Command, runner: Runner, env: NodeJS.ProcessEnv): Promise<void> {
  const ctx = readContext(env);
  switch (command) {
    case 'checks':
      return (await import('./checks.js')).checksCommand(runner, ctx, env);
    case 'scheduler':
      return (await import('./scheduler.js')).schedulerCommand(runner, env);
    case 'request-approval':
      return (await import('./request-approval.js')).requestApprovalCommand(runner, ctx);
    case 'report':
      return (await import('./report.js')).reportCommand(runner, env);
  }
}

/** The one place a failure becomes a failed step. */
export async function run(env: NodeJS.ProcessEnv): Promise<void> {
  const runner = createRunner(env);
  try {
    maskSecrets(runner);
    const command = runner.input(INPUTS.command) || 'checks';
    if (!(COMMANDS as readonly string[]).includes(command)) {
      throw new Error(`input command: must be one of ${COMMANDS.join(', ')} (got "${command}")`);
    }
    await dispatch(command as Command, runner, env);
  } catch (err) {
    runner.fail(err instanceof Error ? err.message : String(err));
  }
  // A pool or timer left open must not keep the job running.
  setTimeout(() => process.exit(), 250).unref();
}
