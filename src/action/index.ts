// The action's entry (action.yml → dist/index.js), run by the runner: it runs the action. Kept
// tiny: each command is its own chunk, loaded on demand. @github/local-action imports
// src/action/main.ts and calls its run() instead.
const VERSION = '0.1.0';

if (process.argv.includes('--version')) {
  process.stdout.write(`levqor-action ${VERSION}\n`);
} else {
  const { run } = await import('./main.js');
  await run();
  // A pool or timer left open must not keep the job running.
  setTimeout(() => process.exit(), 250).unref();
}
