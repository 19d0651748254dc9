// bench/scheduler's settings: sizes (tiny in a smoke run), flags, and its scratch databases.
import { join } from 'node:path';
import { scratchDatabases } from '../lib/db.js';
import { ROOT, SMOKE, flag, logger } from '../lib/env.js';

export const QUICK = flag('--quick');
export const KEEP = flag('--keep');
export const CLI = join(ROOT, 'lib/cli.js');
export const WORKFLOWS = SMOKE ? 300 : 10_000;
export const DUE = SMOKE ? 50 : 1_000;
/** The two due-scan databases' sizes: DUE due among each. */
export const SCAN_SIZES = SMOKE ? [1_000, 5_000] : [10_000, 1_000_000];
export const SCAN_REPEATS = SMOKE ? 1 : QUICK ? 2 : 7;
export const TPUT_REPEATS = QUICK || SMOKE ? 1 : 2;
export const PGBENCH_SECONDS = SMOKE ? 1 : QUICK ? 5 : 15;
export const PGBENCH_SCALE = SMOKE ? 1 : 10;
/** pgbench's [clients, threads]; runs first and (not in a smoke run) last. */
export const PGBENCH_CLIENTS: readonly (readonly [number, number])[] = SMOKE
  ? [[4, 2]]
  : [
      [4, 2],
      [1, 1],
    ];
/** [processes, batch size, concurrency]; the first is the default configuration. */
export const MATRIX: readonly (readonly [number, number, number])[] = SMOKE
  ? [[1, 200, 20]]
  : QUICK
    ? [
        [1, 200, 20],
        [4, 200, 20],
      ]
    : [
        [1, 200, 20],
        [1, 500, 20],
        [1, 500, 100],
        [1, 1000, 50],
        [4, 200, 20],
        [4, 500, 20],
        [4, 500, 100],
        [4, 1000, 50],
      ];

export const log = logger('bench');
export const databases = scratchDatabases('levqor_bench', log);
