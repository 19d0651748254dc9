import { join, resolve } from 'node:path';

/** The file name Postgres clients look for in a socket directory (`psql -h DIR`, `?host=DIR`). */
const SOCKET_FILE = '.s.PGSQL.5432';

/** The owner-only directory beside the data dir where `levqor serve` listens: `<data dir>.run/`. */
export function socketDirOf(dataDir: string): string {
  return `${resolve(dataDir)}.run`;
}

/** The Unix socket `levqor serve` shares the embedded database on. */
export function socketPathOf(dataDir: string): string {
  return join(socketDirOf(dataDir), SOCKET_FILE);
}

/** A postgres:// URL reaching the embedded database through the socket of `levqor serve`. */
export function socketUrlOf(dataDir: string): string {
  return `postgresql://postgres@${encodeURIComponent(socketDirOf(dataDir))}/postgres`;
}
