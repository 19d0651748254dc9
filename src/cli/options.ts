import { Option, type Command } from 'commander';
import type { Config } from '../config.js';

/** Wraps a command's action so its exit code reaches the process (built once by buildProgram). */
export type Act = <A extends unknown[]>(fn: (...args: A) => Promise<number>) => (...args: A) => Promise<void>;

/** The one declaration of `--tenant`; `fallback` says what a command does with neither the flag nor LEVQOR_TENANT. */
export function tenantOption(fallback = 'the only tenant'): Option {
  return new Option('-t, --tenant <name>', `tenant name or id (default: LEVQOR_TENANT, or ${fallback})`);
}

/** `--json`; `always` for commands whose output is JSON anyway (the flag is accepted, for scripts that pass it everywhere). */
export function jsonOption(always = false): Option {
  return new Option('--json', always ? 'print machine-readable JSON (the default for this command)' : 'print machine-readable JSON');
}

/**
 * Gives a command's `--tenant` its default from the configuration (LEVQOR_TENANT) when the
 * flag is absent: a preAction hook, so the configuration is read only by commands that have it.
 */
export function applyTenantDefault(command: Command, config: () => Pick<Config, 'LEVQOR_TENANT'>): void {
  if (!command.options.some((o) => o.attributeName() === 'tenant') || command.getOptionValue('tenant') !== undefined) return;
  const tenant = config().LEVQOR_TENANT;
  if (tenant !== undefined) command.setOptionValueWithSource('tenant', tenant, 'env');
}
