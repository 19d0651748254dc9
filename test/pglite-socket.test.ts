// The embedded database shared on a Unix socket (what `levqor serve` does): real pg clients
// against a real PGlite, in this process. One backend serves every connection, a whole turn
// (an extended-protocol cycle, or a transaction) at a time, and the serving process's own
// queries take turns with them.
import { once } from 'node:events';
import { lstat, mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/open.js';
import { socketDirOf, socketPathOf, socketUrlOf } from '../src/db/socket-path.js';
import type { Db } from '../src/db/types.js';
import { listenStatements, scanReply } from '../src/db/wire.js';

const PGLITE = { timeout: 120_000 };

/** A deferred value: tests wait on these, never on a clock. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves with a NOTIFY payload, or fails after `ms` as a guard. */
function nextPayload(subscribe: (cb: (p: string) => void) => void, ms = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no notification within ${ms} ms`)), ms);
    subscribe((p) => {
      clearTimeout(timer);
      resolve(p);
    });
  });
}

const cstr = (s: string) => Buffer.from(`${s}\0`, 'utf8');

/** A frontend message: type byte, int32 length, body. */
function frontend(type: string, ...body: Buffer[]): Buffer {
  const b = Buffer.concat(body);
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(4 + b.length, 1);
  return Buffer.concat([head, b]);
}

/** A bare wire-protocol client on the socket: sends messages, waits for a backend message type. */
async function rawClient(path: string) {
  const socket = createConnection(path);
  await once(socket, 'connect');
  let buf = Buffer.alloc(0);
  const seen: { type: string; body: Buffer }[] = [];
  const waiters: { type: string; from: number; resolve: (msgs: { type: string; body: Buffer }[]) => void }[] = [];
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 5 && buf.length >= 1 + buf.readInt32BE(1)) {
      const end = 1 + buf.readInt32BE(1);
      seen.push({ type: String.fromCharCode(buf[0] ?? 0), body: buf.subarray(5, end) });
      buf = buf.subarray(end);
    }
    for (const w of [...waiters]) {
      const i = seen.findIndex((m, k) => k >= w.from && m.type === w.type);
      if (i >= 0) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(seen.slice(w.from, i + 1));
      }
    }
  });
  const startup = Buffer.concat([Buffer.alloc(8), cstr('user'), cstr('postgres'), cstr('database'), cstr('postgres'), Buffer.from([0])]);
  startup.writeInt32BE(startup.length, 0);
  startup.writeInt32BE(196_608, 4);
  let mark = 0;
  const client = {
    send: (...msgs: Buffer[]) => socket.write(Buffer.concat(msgs)),
    /** Every message since the last wait, up to the first of `type`. */
    until(type: string): Promise<{ type: string; body: Buffer }[]> {
      const from = mark;
      return new Promise((resolve) => {
        waiters.push({
          type,
          from,
          resolve: (msgs) => {
            mark = from + msgs.length;
            resolve(msgs);
          },
        });
        socket.emit('data', Buffer.alloc(0));
      });
    },
    close: () => socket.destroy(),
  };
  client.send(startup);
  await client.until('Z');
  return client;
}

/** Read, then write the counter plus one, in one transaction of a client: a lost update shows in the total. */
async function incrementOver(c: pg.Client): Promise<void> {
  await c.query('BEGIN');
  const { rows } = await c.query<{ n: number }>('SELECT n FROM counter WHERE id = 1');
  await c.query('UPDATE counter SET n = $1 WHERE id = 1', [(rows[0]?.n ?? 0) + 1]);
  await c.query('COMMIT');
}

describe('the embedded database on its socket', PGLITE, () => {
  let parent: string;
  let dataDir: string;
  let server: Db;
  const clients: pg.Client[] = [];

  const connect = async () => {
    const c = new pg.Client({ connectionString: socketUrlOf(dataDir) });
    c.on('error', () => undefined); // a client closed by the server in a test
    await c.connect();
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'levqor-sock-'));
    dataDir = join(parent, 'data');
    server = await openDatabase({ LEVQOR_DATA_DIR: dataDir, LEVQOR_DB_POOL_MAX: 4, LEVQOR_DB_CONNECT_TIMEOUT_MS: 10_000 }, { share: true });
    await server.exec('CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL); INSERT INTO counter VALUES (1, 0)');
  }, 120_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await server?.close();
    await rm(parent, { recursive: true, force: true });
  });

  it('listens on an owner-only socket beside the data dir', async () => {
    expect(server.socket).toEqual({ role: 'server', path: socketPathOf(dataDir) });
    const dir = await lstat(socketDirOf(dataDir));
    const sock = await lstat(socketPathOf(dataDir));
    expect(dir.mode & 0o777).toBe(0o700);
    expect(sock.isSocket()).toBe(true);
    expect(sock.mode & 0o777).toBe(0o600);
  });

  it('a second process opening the data dir connects through the socket', async () => {
    const other = await openDatabase({ LEVQOR_DATA_DIR: dataDir, LEVQOR_DB_POOL_MAX: 2, LEVQOR_DB_CONNECT_TIMEOUT_MS: 10_000 });
    try {
      expect(other.socket).toEqual({ role: 'client', path: socketPathOf(dataDir) });
      expect(other.kind).toBe('pglite');
      const { rows } = await other.query<{ n: number }>('SELECT n FROM counter WHERE id = 1');
      expect(rows).toHaveLength(1);
      // The schema the server migrated is the one the client sees.
      const { rows: m } = await other.query<{ n: number }>('SELECT count(*)::int AS n FROM levqor_migrations');
      expect(m[0]?.n).toBeGreaterThan(0);
    } finally {
      await other.close();
    }
  });

  it('a transaction holds the backend: another client waits for its COMMIT and sees only committed data', async () => {
    const a = await connect();
    const b = await connect();
    await a.query('BEGIN');
    await a.query('UPDATE counter SET n = n + 1000 WHERE id = 1');
    let bDone = false;
    const bRead = b.query<{ n: number }>('SELECT n FROM counter WHERE id = 1').then((r) => {
      bDone = true;
      return r.rows[0]?.n;
    });
    // A's further round trips run while B's query waits for the turn.
    for (let i = 0; i < 20; i++) await a.query('SELECT $1::int AS i', [i]);
    const inside = await a.query<{ n: number }>('SELECT n FROM counter WHERE id = 1');
    expect(bDone).toBe(false);
    await a.query('ROLLBACK');
    expect(await bRead).toBe((inside.rows[0]?.n ?? 0) - 1000);
  });

  it('read-modify-write transactions from several clients lose no update', async () => {
    const conns = await Promise.all(Array.from({ length: 4 }, () => connect()));
    const { rows: before } = await server.query<{ n: number }>('SELECT n FROM counter WHERE id = 1');
    const perClient = 25;
    await Promise.all(
      conns.map(async (c) => {
        for (let i = 0; i < perClient; i++) await incrementOver(c);
      }),
    );
    const { rows } = await server.query<{ n: number }>('SELECT n FROM counter WHERE id = 1');
    expect(rows[0]?.n).toBe((before[0]?.n ?? 0) + conns.length * perClient);
  });

  it("extended-protocol cycles from many clients never mix (each gets its own statement's rows)", async () => {
    const conns = await Promise.all(Array.from({ length: 5 }, () => connect()));
    const results = await Promise.all(
      conns.flatMap((c, ci) =>
        Array.from({ length: 20 }, async (_, i) => {
          // Different SQL and parameter shapes per client: a Bind against another's Parse fails or answers wrongly.
          const sql =
            ci % 2 === 0
              ? `SELECT $1::int * 10 + ${ci} AS v, 'c${ci}' AS who`
              : `SELECT ($1::text || '-${ci}') AS v, $2::int AS extra, 'c${ci}' AS who`;
          const params = ci % 2 === 0 ? [i] : [`${i}`, i];
          const { rows } = await c.query<{ v: number | string; who: string }>(sql, params);
          return { ci, i, row: rows[0] };
        }),
      ),
    );
    for (const { ci, i, row } of results) {
      expect(row?.who).toBe(`c${ci}`);
      expect(row?.v).toBe(ci % 2 === 0 ? i * 10 + ci : `${i}-${ci}`);
    }
  });

  it('a client between Parse and Sync keeps the backend: another client cannot replace its unnamed statement', async () => {
    const raw = await rawClient(socketPathOf(dataDir));
    try {
      // Parse + Flush, then wait for ParseComplete before the rest of the cycle, as a client may.
      raw.send(frontend('P', cstr(''), cstr('SELECT $1::int * 2 AS doubled'), Buffer.from([0, 0])), frontend('H'));
      await raw.until('1');
      const b = await connect();
      let bDone = false;
      const bQuery = b.query<{ other: string }>('SELECT $1::text AS other', ['b']).then((r) => {
        bDone = true;
        return r.rows[0]?.other;
      });
      // More round trips inside the cycle (Describe the statement, Flush): B's query waits through them.
      for (let i = 0; i < 10; i++) {
        raw.send(frontend('D', Buffer.from('S'), cstr('')), frontend('H'));
        const described = await raw.until('T');
        expect(described.find((m) => m.type === 'T')?.body.toString('latin1')).toContain('doubled');
      }
      expect(bDone).toBe(false);
      // Bind ($1 = 21 as text), Describe the portal, Execute, Sync.
      raw.send(
        frontend('B', cstr(''), cstr(''), Buffer.from([0, 0, 0, 1, 0, 0, 0, 2]), Buffer.from('21'), Buffer.from([0, 0])),
        frontend('D', Buffer.from('P'), cstr('')),
        frontend('E', cstr(''), Buffer.from([0, 0, 0, 0])),
        frontend('S'),
      );
      const reply = await raw.until('Z');
      expect(reply.filter((m) => m.type === 'E')).toEqual([]);
      const row = reply.find((m) => m.type === 'D');
      const column = reply.find((m) => m.type === 'T');
      expect(column?.body.toString('latin1')).toContain('doubled');
      expect(row?.body.subarray(6).toString()).toBe('42');
      expect(await bQuery).toBe('b');
    } finally {
      raw.close();
    }
  });

  it("the serving process's transactions and the clients' take turns", async () => {
    const c = await connect();
    const { rows: before } = await server.query<{ n: number }>('SELECT n FROM counter WHERE id = 1');
    const rounds = 30;
    await Promise.all([
      (async () => {
        for (let i = 0; i < rounds; i++)
          await server.transaction(async (tx) => {
            const { rows } = await tx.query<{ n: number }>('SELECT n FROM counter WHERE id = 1');
            await tx.query('UPDATE counter SET n = $1 WHERE id = 1', [(rows[0]?.n ?? 0) + 1]);
          });
      })(),
      (async () => {
        for (let i = 0; i < rounds; i++) await incrementOver(c);
      })(),
    ]);
    const { rows } = await server.query<{ n: number }>('SELECT n FROM counter WHERE id = 1');
    expect(rows[0]?.n).toBe((before[0]?.n ?? 0) + 2 * rounds);
  });

  it('a client that disconnects inside a transaction is rolled back and frees the backend (a new connection meanwhile is not kept waiting)', async () => {
    const a = await connect();
    await a.query('BEGIN');
    await a.query('UPDATE counter SET n = -1 WHERE id = 1');
    const b = await connect();
    const bRead = b.query<{ n: number }>('SELECT n FROM counter WHERE id = 1');
    // The connection dies without a ROLLBACK (a killed process).
    (a as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    const { rows } = await bRead;
    expect(rows[0]?.n).not.toBe(-1);
    expect((await server.query<{ n: number }>('SELECT n FROM counter WHERE id = 1')).rows[0]?.n).not.toBe(-1);
  });

  it('a client that leaves an extended cycle half done (Parse without Sync) does not break the next one', async () => {
    const a = await connect();
    const stream = (a as unknown as { connection: { stream: { write(b: Buffer): void; destroy(): void } } }).connection.stream;
    // A Parse of a bad statement: the backend then ignores everything until Sync.
    const text = Buffer.from('SELEC broken\0\0\0', 'utf8');
    const parse = Buffer.alloc(1 + 4 + 1 + text.length);
    parse.write('P', 0, 'latin1');
    parse.writeInt32BE(4 + 1 + text.length, 1);
    text.copy(parse, 6);
    stream.write(parse);
    const b = await connect();
    const read = b.query<{ one: number }>('SELECT 1 AS one');
    stream.destroy();
    expect((await read).rows[0]?.one).toBe(1);
  });

  it('NOTIFY crosses the socket both ways, and one client’s UNLISTEN leaves the others listening', async () => {
    const listener = await connect();
    const other = await connect();
    await listener.query('LISTEN levqor_sock_test');
    await other.query('LISTEN levqor_sock_test');
    await other.query('UNLISTEN levqor_sock_test');
    // In-process NOTIFY → socket client.
    const got1 = nextPayload((cb) => listener.once('notification', (m: pg.Notification) => cb(m.payload ?? '')));
    await server.query("SELECT pg_notify('levqor_sock_test', 'from-serve')");
    expect(await got1).toBe('from-serve');
    // Socket client NOTIFY (inside a transaction: delivered at COMMIT) → in-process listener and socket listener.
    let inProcess: (p: string) => void = () => undefined;
    const unlisten = await server.listen('levqor_sock_test', (p) => inProcess(p));
    const got2 = nextPayload((cb) => (inProcess = cb));
    const got3 = nextPayload((cb) => listener.once('notification', (m: pg.Notification) => cb(m.payload ?? '')));
    await other.query('BEGIN');
    await other.query("SELECT pg_notify('levqor_sock_test', 'from-client')");
    await other.query('COMMIT');
    expect(await got2).toBe('from-client');
    expect(await got3).toBe('from-client');
    await unlisten();
  });

  it('the Db port listens through the socket like on Postgres', async () => {
    const other = await openDatabase({ LEVQOR_DATA_DIR: dataDir, LEVQOR_DB_POOL_MAX: 2, LEVQOR_DB_CONNECT_TIMEOUT_MS: 10_000 });
    try {
      let cb: (p: string) => void = () => undefined;
      const off = await other.listen('levqor_port_test', (p) => cb(p));
      const got = nextPayload((fn) => (cb = fn));
      await server.transaction(async (tx) => {
        await tx.query("SELECT pg_notify('levqor_port_test', 'queued')");
      });
      expect(await got).toBe('queued');
      await off();
    } finally {
      await other.close();
    }
  });
});

describe('a connection idle inside a transaction', PGLITE, () => {
  it('is closed after the idle limit and rolled back, and the others go on', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'levqor-sock-idle-'));
    const dataDir = join(parent, 'data');
    const { createPgliteDb } = await import('../src/db/pglite.js');
    const db = await createPgliteDb(dataDir);
    const errors: string[] = [];
    try {
      await db.exec('CREATE TABLE t (v int)');
      await db.share({ idleInTransactionMs: 300, onError: (e) => errors.push(e.message) });
      const a = new pg.Client({ connectionString: socketUrlOf(dataDir) });
      const closed = deferred();
      a.on('error', () => closed.resolve());
      a.on('end', () => closed.resolve());
      await a.connect();
      await a.query('BEGIN');
      await a.query('INSERT INTO t VALUES (1)');
      // A goes silent: the server closes it once the limit passes; this query waits for that.
      const b = new pg.Client({ connectionString: socketUrlOf(dataDir) });
      await b.connect();
      const { rows } = await b.query<{ n: number }>('SELECT count(*)::int AS n FROM t');
      expect(rows[0]?.n).toBe(0);
      await closed.promise;
      expect(errors.join('\n')).toContain('idle inside a transaction');
      await b.end();
    } finally {
      await db.close();
      await rm(parent, { recursive: true, force: true });
    }
  });
});

describe('wire helpers', () => {
  it('splits a reply into what is forwarded, the notifications and the final status', () => {
    const msg = (type: string, body: Buffer) => Buffer.concat([Buffer.from(type, 'latin1'), Buffer.from([0, 0, 0, 4 + body.length]), body]);
    const notification = msg('A', Buffer.concat([Buffer.from([0, 0, 0, 7]), Buffer.from('chan\0pay\0')]));
    const complete = msg('C', Buffer.from('SELECT 1\0'));
    const ready = (s: string) => msg('Z', Buffer.from(s));
    const r = scanReply(Buffer.concat([complete, notification, ready('I')]));
    expect(Buffer.from(r.forward)).toEqual(Buffer.concat([complete, ready('I')]));
    expect(r.notifications).toEqual([{ channel: 'chan', payload: 'pay' }]);
    expect(r.ready).toBe('I');
    expect(scanReply(Buffer.concat([complete, ready('T')])).ready).toBe('T');
    expect(scanReply(complete).ready).toBeUndefined();
    expect(scanReply(Buffer.concat([ready('I'), complete])).ready).toBeUndefined();
  });

  it.each([
    ['LISTEN levqor_scheduler', [{ listen: true, channel: 'levqor_scheduler' }]],
    ['LISTEN "Mixed""Case"', [{ listen: true, channel: 'Mixed"Case' }]],
    [
      'listen Upper; UNLISTEN *',
      [
        { listen: true, channel: 'upper' },
        { listen: false, channel: '*' },
      ],
    ],
    ['SELECT 1', []],
  ])('reads the channels of %s', (sql, expected) => {
    expect(listenStatements(sql)).toEqual(expected);
  });
});
