/** How a process reaches the embedded database, when it shares it (src/db/types.ts Db.socket). */
interface SocketUse {
  socket?: { role: 'client' | 'server'; path: string };
}

/**
 * Where the database is, for messages: never the password (no config import, so the action's
 * bundle stays free of zod). With the opened db, says whether the embedded database is reached
 * through `levqor serve` or shared by this process.
 */
export function describeDb(config: { DATABASE_URL?: string; LEVQOR_DATA_DIR: string }, db?: SocketUse): string {
  if (!config.DATABASE_URL) {
    const where = `embedded PGlite at ${config.LEVQOR_DATA_DIR}`;
    if (db?.socket?.role === 'client') return `${where} through levqor serve (${db.socket.path})`;
    if (db?.socket?.role === 'server') return `${where}, shared on ${db.socket.path}`;
    return where;
  }
  const url = new URL(config.DATABASE_URL);
  return `Postgres at ${url.hostname}:${url.port || 5432}${url.pathname}`;
}
