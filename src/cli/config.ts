import type { Command } from 'commander';
import { type Act, jsonOption } from './options.js';

/** `levqor config docs`: the environment-variable reference (docs/configuration.md) for this version. */
export function registerConfig(program: Command, act: Act): void {
  const config = program.command('config').description('the configuration Levqor reads from the environment');
  config
    .command('docs')
    .description('print the reference of every environment variable (markdown; docs/configuration.md)')
    .addOption(jsonOption())
    .action(
      act(async (opts: { json?: boolean }) => {
        const { listEnvVariables, renderConfigReference } = await import('../config-reference.js');
        process.stdout.write(opts.json ? `${JSON.stringify(listEnvVariables(), null, 2)}\n` : renderConfigReference());
        return 0;
      }),
    );
}
