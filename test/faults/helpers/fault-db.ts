import { afterAll, beforeAll } from 'vitest';
import { openDatabase } from '../../../src/db/open.js';
import { MEMORY_DIR } from '../../../src/db/pglite.js';
import type { Db } from '../../../src/db/types.js';
import { killLeftovers } from '../../helpers/proc.js';
import { startCluster, type Cluster } from './cluster.js';
import { faultsRoot } from './results.js';

export interface FaultDb {
  cluster: Cluster;
  /** The test's own pool on the migrated `levqor` database. */
  db: Db;
  /** DATABASE_URL for child processes. */
  url: string;
}

/**
 * A throwaway cluster with a migrated `levqor` database for the enclosing file: started in
 * beforeAll; in afterAll every child still running is killed, then the cluster is stopped and
 * its directory removed, pass or fail. Read it inside tests.
 */
export function useFaultDb(opts: { poolMax?: number } = {}): () => FaultDb {
  let current: FaultDb | undefined;
  let cluster: Cluster | undefined;
  beforeAll(async () => {
    cluster = await startCluster(faultsRoot());
    const url = await cluster.createDatabase('levqor');
    const db = await openDatabase({
      DATABASE_URL: url,
      LEVQOR_DATA_DIR: MEMORY_DIR,
      LEVQOR_DB_POOL_MAX: opts.poolMax ?? 6,
      LEVQOR_DB_CONNECT_TIMEOUT_MS: 10_000,
    });
    current = { cluster, db, url };
  });
  afterAll(async () => {
    await killLeftovers();
    await current?.db.close().catch(() => undefined);
    await cluster?.destroy();
  });
  return () => {
    if (!current) throw new Error('the fault database opens in beforeAll: use it inside a test');
    return current;
  };
}
