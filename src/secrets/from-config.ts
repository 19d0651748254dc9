import type { Config } from '../config.js';
import { createKeyring } from './keyring.js';
import { createSecretStore, type SecretStore } from './store.js';

/** The embedded database's generated key file: beside its data directory, under `.levqor/` by default. */
export function generatedKeyFile(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, '')}.secret.key`;
}

/** The secret store as configured: keys, the `file` directory and the `env` values. */
export function secretStoreFromConfig(
  config: Pick<
    Config,
    | 'DATABASE_URL'
    | 'LEVQOR_DATA_DIR'
    | 'LEVQOR_SECRET_KEY'
    | 'LEVQOR_SECRET_KEY_FILE'
    | 'LEVQOR_SECRET_KEY_PREVIOUS'
    | 'LEVQOR_SECRETS_DIR'
    | 'secretEnv'
  >,
): SecretStore {
  const keyring = createKeyring({
    key: config.LEVQOR_SECRET_KEY,
    keyFile: config.LEVQOR_SECRET_KEY_FILE,
    previous: config.LEVQOR_SECRET_KEY_PREVIOUS,
    // A Postgres server gets no generated key: a key on one replica's disk would strand the others.
    generatedFile: config.DATABASE_URL ? undefined : generatedKeyFile(config.LEVQOR_DATA_DIR),
  });
  return createSecretStore({ keyring, env: config.secretEnv ?? {}, dir: config.LEVQOR_SECRETS_DIR });
}
