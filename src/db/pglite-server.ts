import { chmodSync, lstatSync, mkdirSync, rmdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from '@electric-sql/pglite-socket';
import { AppError } from '../lib/errors.js';
import type { NotifyHub } from './notify-hub.js';
import { createTurns, startupMessage, type ConnId } from './pglite-turns.js';
import { socketDirOf, socketPathOf } from './socket-path.js';
import { listenStatements, notificationMessage, queryText } from './wire.js';

/** Longest Unix socket path Linux accepts (sun_path is 108 bytes with the terminating NUL). */
const MAX_SOCKET_PATH = 107;

export interface PgliteServerOptions {
  pglite: PGlite;
  hub: NotifyHub;
  dataDir: string;
  /** A connection holding the database inside a transaction, silent this long, is closed (rolled back). */
  idleInTransactionMs?: number;
  /** At most this many connections at once. */
  maxConnections?: number;
  onError?: (err: Error) => void;
}

export interface PgliteServer {
  readonly path: string;
  connections(): number;
  /** Closes every connection (their open transactions roll back) and removes the socket. */
  close(): Promise<void>;
}

/** Creates the owner-only socket directory, refusing one another user owns. */
function prepareSocketDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new AppError('db_unavailable', `${dir} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid)
    throw new AppError('db_unavailable', `${dir} belongs to another user (uid ${st.uid}): remove it or choose another LEVQOR_DATA_DIR`);
  chmodSync(dir, 0o700);
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Serves an open PGlite to local processes on a Unix socket beside its data dir (owner-only:
 * 0700 directory, 0600 socket). pglite-socket's handler speaks the wire protocol per connection;
 * our turn queue decides who uses the one backend when. The caller holds the data-dir lock, so a
 * socket file already there is left by a process that died: it is replaced.
 */
export async function startPgliteServer(opts: PgliteServerOptions): Promise<PgliteServer> {
  const dir = socketDirOf(opts.dataDir);
  const path = socketPathOf(opts.dataDir);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH)
    throw new AppError(
      'db_unavailable',
      `the socket path ${path} is longer than ${MAX_SOCKET_PATH} bytes (a Unix limit): use a shorter LEVQOR_DATA_DIR, or LEVQOR_DB_SOCKET=false to share nothing`,
    );
  const onError = opts.onError ?? (() => undefined);
  prepareSocketDir(dir);
  rmSync(path, { force: true });

  const idleMs = opts.idleInTransactionMs ?? 60_000;
  const sockets = new Map<ConnId, Socket>();
  const listening = new Map<ConnId, Map<string, () => void>>();
  const turns = createTurns(opts.pglite, {
    notify: (n) => opts.hub.publish(n),
    channels: () => opts.hub.channels(),
    idleOwner: (conn) => {
      onError(new Error(`closed a socket connection idle inside a transaction for ${idleMs} ms (it held the embedded database)`));
      sockets.get(conn)?.destroy();
    },
    idleInTransactionMs: idleMs,
  });

  // The startup reply every connection gets, taken now, before any client can hold a turn.
  await turns.run(0, startupMessage(), () => undefined);

  const unlistenAll = (conn: ConnId) => {
    for (const off of listening.get(conn)?.values() ?? []) off();
    listening.delete(conn);
  };
  /** LISTEN and UNLISTEN of a client, tracked so that the hub forwards it its channels. */
  const trackListen = (conn: ConnId, sql: string) => {
    for (const { listen: on, channel } of listenStatements(sql)) {
      const mine = listening.get(conn) ?? new Map<string, () => void>();
      listening.set(conn, mine);
      if (on && !mine.has(channel)) {
        const write = (payload: string) => {
          const socket = sockets.get(conn);
          if (socket?.writable) socket.write(notificationMessage(process.pid, { channel, payload }));
        };
        mine.set(channel, opts.hub.subscribe(channel, write));
      } else if (!on) {
        for (const [c, off] of mine) {
          if (channel !== '*' && c !== channel) continue;
          off();
          mine.delete(c);
        }
      }
    }
  };

  // The handler's queue interface, served by the turn queue (pglite-socket's own is not used).
  const queue = {
    enqueue(conn: ConnId, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
      const sql = queryText(message);
      if (sql && /LISTEN/i.test(sql)) trackListen(conn, sql);
      return turns.run(conn, message, onData);
    },
    clearQueueForHandler: (conn: ConnId) => turns.drop(conn),
    async clearTransactionIfNeeded(conn: ConnId): Promise<void> {
      unlistenAll(conn);
      // Called from a detach nobody awaits: it must not reject.
      await turns.end(conn).catch(() => undefined);
    },
    getQueueLength: () => turns.pending(),
  } as unknown as PGLiteSocketHandlerOptions['queryQueue'];

  const server = createServer((socket) => {
    const handler = new PGLiteSocketHandler({ queryQueue: queue, closeOnDetach: true });
    const conn = handler.handlerId;
    sockets.set(conn, socket);
    socket.once('close', () => sockets.delete(conn));
    handler.attach(socket).catch((err: Error) => {
      onError(err);
      socket.destroy();
    });
  });
  server.maxConnections = opts.maxConnections ?? 100;
  server.on('error', onError);
  await listen(server, path);
  chmodSync(path, 0o600);

  return {
    path,
    connections: () => sockets.size,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets.values()) socket.destroy();
      await turns.close();
      await closed;
      rmSync(path, { force: true });
      try {
        rmdirSync(dir);
      } catch {
        // not empty (someone put a file there) or already gone: left alone
      }
    },
  };
}
