import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** Closers of the servers (and mailers) started since the test's afterEach last drained them. */
export const cleanups: (() => Promise<void> | void)[] = [];

export interface Received {
  from: string;
  to: string[];
  raw: string;
}

export interface FakeSmtp {
  port: number;
  messages: Received[];
  connections: number;
}

/** A real SMTP server on loopback that keeps every message (refusing `rejectRecipient`). */
export async function startSmtp(rejectRecipient?: string): Promise<FakeSmtp> {
  const state: FakeSmtp = { port: 0, messages: [], connections: 0 };
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    logger: false,
    onConnect(_session, callback) {
      state.connections++;
      callback();
    },
    onRcptTo(address, _session, callback) {
      callback(address.address === rejectRecipient ? new Error('no such mailbox') : null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const { mailFrom, rcptTo } = session.envelope;
        state.messages.push({
          from: mailFrom ? mailFrom.address : '',
          to: rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString(),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.port = (server.server.address() as AddressInfo).port;
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return state;
}
