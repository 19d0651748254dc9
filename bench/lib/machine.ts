// What the numbers were measured on, and the build they measured.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { ADMIN_URL, ROOT } from './env.js';
import { one, withPg } from './db.js';
import { runProcess } from './proc.js';

/** The 1-minute load average, to flag measurements taken on a busy machine. */
export const load1 = (): number => Math.round((loadavg()[0] ?? 0) * 100) / 100;

/** The 1, 5 and 15-minute load averages. */
export const loads3 = (): string => loadavg()
  .map((l) => Math.round(l * 100) / 100)
  .join(' / ');

/** The version of an installed package. */
export const version = (pkg: string): string =>
  (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

export interface MachineInfo {
  nproc: string;
  memGiB: string;
  cpu: string;
  postgres: string;
  postgresSettings: string;
  postgresMajor: number;
  node: string;
}

/** What the numbers were measured on. */
export async function machineInfo(): Promise<MachineInfo> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const nproc = (await runProcess('nproc', [])).stdout.trim();
  const server = await withPg(ADMIN_URL, (c) =>
    one<{ v: string; fsync: string; sc: string; sb: string; av: string; num: number }>(
      c,
      `SELECT version() AS v, current_setting('fsync') AS fsync,
      current_setting('synchronous_commit') AS sc, current_setting('shared_buffers') AS sb,
      current_setting('autovacuum') AS av, current_setting('server_version_num')::int AS num`,
    ),
  );
  return {
    nproc,
    memGiB: (totalmem() / 2 ** 30).toFixed(1),
    cpu: model,
    postgres: server.v.split(' on ')[0] ?? server.v,
    postgresSettings: `fsync=${server.fsync}, synchronous_commit=${server.sc}, shared_buffers=${server.sb}, autovacuum=${server.av}`,
    postgresMajor: Math.floor(server.num / 10000),
    node: process.version,
  };
}

export interface CliSnapshot {
  /** lib/cli.js of the copy. */
  cli: string;
  /** sha256 of the copied cli.js, 12 characters. */
  sha: string;
  /** git HEAD, short. */
  head: string;
  /** Files changed under src/ and migrations/ (uncommitted). */
  dirty: number;
  remove(): void;
}

/**
 * Other sessions rebuild lib/ while a benchmark runs: every Levqor process of a run runs a copy of
 * the whole of lib/ (the CLI is split into chunks) taken at start into `dir`, which must sit below
 * the repository (node_modules/.cache/…, or bench/…) so that its bare imports resolve.
 */
export async function snapshotCli(dir: string, script: string): Promise<CliSnapshot> {
  const built = join(ROOT, 'lib/cli.js');
  if (!existsSync(built)) throw new Error(`lib/cli.js is missing: run \`npm run ${script}\` (it builds first)`);
  const copy = join(dir, `lib-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  cpSync(dirname(built), copy, { recursive: true });
  const cli = join(copy, 'cli.js');
  const sha = createHash('sha256').update(readFileSync(cli)).digest('hex').slice(0, 12);
  const git = async (args: string[]) => (await runProcess('git', args)).stdout.trim();
  const head = await git(['rev-parse', '--short', 'HEAD']);
  const dirty = (await git(['status', '--porcelain', '--', 'src', 'migrations'])).split('\n').filter(Boolean).length;
  return { cli, sha, head, dirty, remove: () => rmSync(copy, { recursive: true, force: true }) };
}
