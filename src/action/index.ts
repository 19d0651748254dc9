// The action's entry (action.yml → dist/index.js). Kept tiny: each command is its own chunk, loaded on demand.
const VERSION = '0.1.0';

if (process.argv.includes('--version')) {
  process.stdout.write(`levqor-action ${VERSION}\n`);
} else {
  const { run } = await import('./main.js');
  await run(process.env);
}
