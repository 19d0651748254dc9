import type { Command } from 'commander';

type Act = <A extends unknown[]>(fn: (...args: A) => Promise<number>) => (...args: A) => Promise<void>;

/** `levqor config docs`: the environment-variable reference (docs/configuration.md) for this version. */
export function registerConfig(program: Command, act: Act): void {
  const config = program.command('config').description('the configuration Levqor reads from the environment');
  config
    .command('docs')
    .description('print the reference of every environment variable (markdown; docs/configuration.md)')
    .option('--json', 'print machine-readable JSON')
    .action(
      act(async (opts: { json?: boolean }) => {
        const { listEnvVariables, renderConfigReference } = await import('../config-reference.js');
        process.stdout.write(opts.json ? `${JSON.stringify(listEnvVariables(), null, 2)}\n` : renderConfigReference());
        return 0;
      }),
    );
}
