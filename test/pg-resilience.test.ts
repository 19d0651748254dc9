import net from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createPgDb } from '../src/db/pg.js';
import { openDatabase } from '../src/db/open.js';
import { MEMORY_DIR } from '../src/db/pglite.js';
import { AppError } from '../src/lib/errors.js';
import { createPgDatabase } from './helpers/db.js';
import { pollUntil } from './helpers/proc.js';

describe('Postgres adapter', () => {
  it('survives the server dropping its idle connections, and reconnects on next use', async () => {
    const { url, drop } = await createPgDatabase();
    const errors: Error[] = [];
    let sawError!: () => void;
    const gotError = new Promise<void>((resolve) => (sawError = resolve));
    const db = createPgDb({
      connectionString: url,
      poolMax: 3,
      onBackgroundError: (err) => {
        errors.push(err);
        sawError();
      },
    });
    try {
      await Promise.all([db.query('SELECT pg_sleep(0.05)'), db.query('SELECT pg_sleep(0.05)')]);
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      const killed = await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      await admin.end();
      expect(killed.rowCount).toBeGreaterThanOrEqual(1);
      await gotError;
      expect(errors[0]?.message).toMatch(/terminat/i);
      const { rows } = await db.query<{ ok: number }>('SELECT 1 AS ok');
      expect(rows).toEqual([{ ok: 1 }]);
    } finally {
      await db.close();
      await drop();
    }
  });

  it('survives the server ending a connection that a transaction holds between two queries, and reconnects', async () => {
    const { url, drop } = await createPgDatabase();
    let sawError!: (err: Error) => void;
    const gotError = new Promise<Error>((resolve) => (sawError = resolve));
    const db = createPgDb({ connectionString: url, poolMax: 2, onBackgroundError: (err) => sawError(err) });
    try {
      // The server's FATAL arrives while no query is running on the checked-out client (as in a
      // pg_ctl restart mid-tick): unhandled, that 'error' event used to end the process.
      const inside = db.transaction(async (tx) => {
        const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        const admin = new pg.Client({ connectionString: url });
        await admin.connect();
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
        await admin.end();
        const err = await gotError;
        await tx.query('SELECT 1');
        return err;
      });
      await expect(inside).rejects.toThrow();
      expect((await gotError).message).toMatch(/terminat/i);
      const { rows } = await db.query<{ ok: number }>('SELECT 1 AS ok');
      expect(rows).toEqual([{ ok: 1 }]);
      expect(await db.transaction(async (tx) => (await tx.query<{ ok: number }>('SELECT 2 AS ok')).rows)).toEqual([{ ok: 2 }]);
    } finally {
      await db.close();
      await drop();
    }
  });

  it('survives a FATAL that arrives in the same packet as the ReadyForQuery of a new connection', async () => {
    // What a server shutting down (pg_ctl restart -m fast) does to a connection it has just
    // accepted: the pool hands the client out, and the FATAL is parsed before the caller can
    // attach a listener. A real server cannot be made to time this, so a socket speaks for it.
    const msg = (type: string, body: Buffer) => {
      const head = Buffer.alloc(5);
      head.write(type, 0, 'latin1');
      head.writeInt32BE(body.length + 4, 1);
      return Buffer.concat([head, body]);
    };
    const int32 = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeInt32BE(n);
      return b;
    };
    const fatal = Buffer.from('SFATAL\0VFATAL\0C57P01\0Mterminating connection due to administrator command\0\0', 'latin1');
    let connections = 0;
    const server = net.createServer((socket) => {
      connections += 1;
      socket.once('data', () => {
        socket.end(Buffer.concat([msg('R', int32(0)), msg('Z', Buffer.from('I')), msg('E', fatal)]));
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const db = createPgDb({ connectionString: `postgres://levqor@127.0.0.1:${port}/levqor`, poolMax: 1 });
    try {
      await expect(db.transaction((tx) => tx.query('SELECT 1'))).rejects.toThrow(/not queryable|terminat/i);
      await expect(db.session((s) => s.query('SELECT 1'))).rejects.toThrow(/not queryable|terminat/i);
      expect(connections).toBe(2);
    } finally {
      await db.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('rolls a transaction back when its function throws', async () => {
    const { url, drop } = await createPgDatabase();
    const db = createPgDb({ connectionString: url });
    try {
      await db.exec('CREATE TABLE t (n int)');
      await expect(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO t VALUES (1)');
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      const { rows } = await db.query('SELECT * FROM t');
      expect(rows).toHaveLength(0);
    } finally {
      await db.close();
      await drop();
    }
  });

  it('names the server, not the password, when it cannot connect', async () => {
    const err = await openDatabase({
      DATABASE_URL: 'postgres://levqor:s3cret@127.0.0.1:1/none',
      LEVQOR_DATA_DIR: MEMORY_DIR,
      LEVQOR_DB_POOL_MAX: 1,
      LEVQOR_DB_CONNECT_TIMEOUT_MS: 2_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('db_unavailable');
    expect((err as AppError).message).toMatch(/cannot use Postgres at 127\.0\.0\.1:1\/none/);
    expect((err as AppError).message).not.toContain('s3cret');
  });

  it('delivers NOTIFY to a listener', async () => {
    const { url, drop } = await createPgDatabase();
    const db = createPgDb({ connectionString: url });
    try {
      let got!: (p: string) => void;
      const payload = new Promise<string>((resolve) => (got = resolve));
      const unlisten = await db.listen('levqor_test', (p) => got(p));
      await db.query("SELECT pg_notify('levqor_test', 'hello')");
      expect(await payload).toBe('hello');
      await unlisten();
    } finally {
      await db.close();
      await drop();
    }
  });

  it('listens again after its connection is terminated, and says that notifications may have been missed', async () => {
    const { url, drop } = await createPgDatabase();
    const errors: Error[] = [];
    const db = createPgDb({ connectionString: url, onBackgroundError: (err) => errors.push(err) });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const payloads: string[] = [];
      let seen: () => void = () => undefined;
      const next = (want: (p: string[]) => boolean) =>
        new Promise<void>((resolve) => {
          seen = () => (want(payloads) ? resolve() : undefined);
          seen();
        });
      const unlisten = await db.listen('levqor_again', (p) => {
        payloads.push(p);
        seen();
      });
      const listener = async () =>
        (
          await admin.query<{ pid: number }>(
            `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN "levqor_again"'`,
          )
        ).rows;
      const [first] = await listener();
      expect(first).toBeDefined();
      await admin.query('SELECT pg_terminate_backend($1)', [first?.pid]);
      // Back on a new connection: the empty payload says "re-read, you may have missed something".
      await next((p) => p.includes(''));
      const [second] = await listener();
      expect(second?.pid).not.toBe(first?.pid);
      expect(errors.some((e) => /terminat/i.test(e.message))).toBe(true);
      await admin.query("SELECT pg_notify('levqor_again', 'after')");
      await next((p) => p.includes('after'));
      expect(payloads).toEqual(['', 'after']);
      // Unsubscribed: the connection is closed (its backend exits just after) and not opened again.
      await unlisten();
      await pollUntil(async () => (await listener()).length === 0, { what: 'the LISTEN backend to exit' });
    } finally {
      await admin.end();
      await db.close();
      await drop();
    }
  });
});
