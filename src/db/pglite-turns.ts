import type { PGlite } from '@electric-sql/pglite';
import { queryMessage, queryText, quoteIdent, scanReply, SYNC, type BackendReply, type Notification } from './wire.js';

// PGlite is one Postgres backend. Several connections share it safely only if each gets the
// backend for a whole turn: from its first message until the backend is ready for a new query
// outside a transaction (ReadyForQuery 'I'). A turn is an extended-protocol cycle (Parse … Sync,
// whose unnamed statement would otherwise be overwritten by another client's Parse) and, when
// the client opens one, a whole transaction (BEGIN … COMMIT). pglite-socket's own queue switches
// clients between single messages outside a transaction block, so cycles interleave
// (electric-sql/pglite#1046); this queue replaces it. A turn also holds PGlite's transaction
// mutex, so the serving process's own queries and transactions wait for it, and it waits for them.

/** One connection's identity (pglite-socket's handler id). */
export type ConnId = number;

export interface TurnHooks {
  /** A NOTIFY the backend delivered while serving a connection (routed, not forwarded). */
  notify(notification: Notification): void;
  /** Channels still listened on, LISTENed again after a client's UNLISTEN. */
  channels(): readonly string[];
  /** A connection kept its turn without a message for idleInTransactionMs: close it. */
  idleOwner(conn: ConnId): void;
  idleInTransactionMs: number;
}

interface Job {
  conn: ConnId;
  /** A message to execute, or undefined to end the connection's turn (it disconnected). */
  message?: Uint8Array;
  onData?: (reply: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (err: Error) => void;
}

export interface Turns {
  /** Executes one message of a connection, in its turn; resolves with the bytes replied. */
  run(conn: ConnId, message: Uint8Array, onData: (reply: Uint8Array) => void): Promise<number>;
  /** Forgets a disconnected connection's queued messages. */
  drop(conn: ConnId): void;
  /** Ends a disconnected connection's turn: closes its cycle, rolls back its transaction. */
  end(conn: ConnId): Promise<void>;
  pending(): number;
  /** Refuses new work and waits for the work under way. */
  close(): Promise<void>;
}

/** Whether a frontend message is a StartupMessage (no type byte; protocol 3.0). */
function isStartup(message: Uint8Array): boolean {
  return message.length >= 8 && message[0] === 0 && new DataView(message.buffer, message.byteOffset).getInt32(4) === 196_608;
}

/** A StartupMessage as `pg` sends it (user, database, client_encoding). */
export function startupMessage(): Uint8Array {
  const params = Buffer.from('user\0postgres\0database\0postgres\0client_encoding\0UTF8\0\0', 'latin1');
  const msg = Buffer.alloc(8 + params.length);
  msg.writeInt32BE(8 + params.length, 0);
  msg.writeInt32BE(196_608, 4);
  params.copy(msg, 8);
  return msg;
}

/** Takes PGlite's transaction mutex until the returned function is called. */
function takeMutex(pglite: PGlite): Promise<() => void> {
  return new Promise((granted, failed) => {
    pglite._runExclusiveTransaction(() => new Promise<void>((done) => granted(done))).catch(failed);
  });
}

/** The queue that gives each connection the backend for whole turns. */
export function createTurns(pglite: PGlite, hooks: TurnHooks): Turns {
  const queue: Job[] = [];
  let owner: ConnId | undefined;
  let release: (() => void) | undefined;
  let pumping: Promise<void> | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  let closed = false;
  /** The backend's reply to a StartupMessage: the same for every connection (one backend, no authentication). */
  let startupReply: Uint8Array | undefined;

  /** Executes one message; the reply's notifications are routed, the rest returned. */
  const exec = async (message: Uint8Array): Promise<BackendReply> => {
    const chunks: Uint8Array[] = [];
    // The chunks are views of PGlite's memory, reused by the next call: copied at once.
    await pglite.runExclusive(() => pglite.execProtocolRawStream(message, { onRawData: (d) => chunks.push(Buffer.from(d)) }));
    const reply = scanReply(chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks));
    for (const n of reply.notifications) hooks.notify(n);
    return reply;
  };

  const endTurn = () => {
    owner = undefined;
    const r = release;
    release = undefined;
    r?.();
  };

  /** Ends the owner's turn whatever state it left the backend in (it disconnected, or the server stops). */
  const abandonTurn = async () => {
    await exec(SYNC);
    if (pglite.isInTransaction()) await exec(queryMessage('ROLLBACK'));
    endTurn();
  };

  const next = (): Job | undefined => {
    const i = owner === undefined ? 0 : queue.findIndex((j) => j.conn === owner);
    return i >= 0 && i < queue.length ? queue.splice(i, 1)[0] : undefined;
  };

  const step = async (job: Job): Promise<number> => {
    if (!job.message) {
      if (owner === job.conn) await abandonTurn();
      return 0;
    }
    if (isStartup(job.message) && startupReply) {
      job.onData?.(startupReply);
      return startupReply.length;
    }
    if (owner === undefined) {
      release = await takeMutex(pglite);
      owner = job.conn;
    }
    const { forward, ready } = await exec(job.message);
    const sql = queryText(job.message);
    if (sql && /\bUNLISTEN\b/i.test(sql)) {
      // The backend is shared: one client's UNLISTEN must not silence the channels others listen on.
      const channels = hooks.channels();
      if (channels.length) await exec(queryMessage(channels.map((c) => `LISTEN ${quoteIdent(c)}`).join('; ')));
    }
    if (isStartup(job.message) && ready === 'I') startupReply = forward;
    if (forward.length) job.onData?.(forward);
    if (ready === 'I') endTurn();
    return forward.length;
  };

  const pump = async () => {
    clearTimeout(idleTimer);
    for (let job = next(); job; job = next()) {
      try {
        job.resolve(await step(job));
      } catch (err) {
        job.reject(err instanceof Error ? err : new Error(String(err)));
      }
    }
    if (owner !== undefined) {
      // The owner is between messages inside its turn (a transaction, or a cycle before Sync).
      const waiting = owner;
      idleTimer = setTimeout(() => {
        if (owner === waiting && !queue.some((j) => j.conn === waiting)) hooks.idleOwner(waiting);
      }, hooks.idleInTransactionMs);
      idleTimer.unref();
    }
  };

  const kick = () => {
    if (pumping) return;
    pumping = pump().finally(() => {
      pumping = undefined;
      // A job queued while the last one finished is picked up by a new pass.
      if (queue.some((j) => owner === undefined || j.conn === owner)) kick();
    });
  };

  const enqueue = (job: Omit<Job, 'resolve' | 'reject'>) =>
    new Promise<number>((resolve, reject) => {
      if (closed) return reject(new Error('the embedded database is shutting down'));
      queue.push({ ...job, resolve, reject });
      kick();
    });

  return {
    run(conn, message, onData) {
      // A connection's first message: answered from the first one's reply, without waiting for a
      // turn (a new connection never waits for another's transaction to end).
      if (isStartup(message) && startupReply && !closed) {
        onData(startupReply);
        return Promise.resolve(startupReply.length);
      }
      return enqueue({ conn, message, onData });
    },
    drop(conn) {
      for (let i = queue.length - 1; i >= 0; i--) {
        const job = queue[i];
        if (job?.conn === conn && job.message) {
          queue.splice(i, 1);
          job.reject(new Error('connection closed'));
        }
      }
    },
    async end(conn) {
      await enqueue({ conn });
    },
    pending: () => queue.length,
    async close() {
      closed = true;
      clearTimeout(idleTimer);
      for (const job of queue.splice(0)) job.reject(new Error('the embedded database is shutting down'));
      while (pumping) await pumping;
      if (owner !== undefined) await abandonTurn();
    },
  };
}
