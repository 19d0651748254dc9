import { EventEmitter, once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** What the app sent back for an envelope: its acknowledgement (and a response payload, if any). */
export interface SocketAck {
  envelope_id: string;
  payload?: Record<string, unknown>;
}

export interface FakeSocketMode {
  /** The ws:// URL to hand out from apps.connections.open. */
  url: string;
  /** Resolves when an app has connected and been greeted ("hello"). */
  connected: Promise<void>;
  /** Sends an envelope as Slack does; resolves with the app's acknowledgement of it. */
  deliver(type: 'slash_commands' | 'interactive' | 'events_api', payload: Record<string, unknown>): Promise<SocketAck>;
  acks: SocketAck[];
  /** Connections accepted so far (reconnections included). */
  connections(): number;
  /** Closes the app's connection as a network failure would; while `refusing`, new ones fail their handshake. */
  drop(opts?: { refuse?: boolean }): void;
  /** Accepts connections again after drop({ refuse: true }). */
  accept(): void;
  close(): Promise<void>;
}

let envelopes = 0;

/**
 * Slack's Socket Mode end of the connection, on loopback: greets a connecting app with
 * "hello", delivers envelopes and collects the app's acknowledgements (the `ws` package
 * answers the client's pings).
 */
export async function startFakeSocketMode(): Promise<FakeSocketMode> {
  let refusing = false;
  let accepted = 0;
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, verifyClient: () => !refusing });
  await once(wss, 'listening');
  const events = new EventEmitter();
  const acks: SocketAck[] = [];
  let socket: WebSocket | undefined;
  const connected = new Promise<void>((resolve) => {
    wss.on('connection', (ws) => {
      socket = ws;
      accepted++;
      ws.on('message', (data: Buffer) => {
        const ack = JSON.parse(data.toString('utf8')) as SocketAck;
        acks.push(ack);
        events.emit(ack.envelope_id, ack);
      });
      ws.send(
        JSON.stringify({
          type: 'hello',
          num_connections: 1,
          debug_info: { host: 'fake', approximate_connection_time: 3600 },
          connection_info: { app_id: 'AAPP' },
        }),
      );
      resolve();
    });
  });
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/link`;
  return {
    url,
    connected,
    acks,
    deliver(type, payload) {
      if (!socket) throw new Error('no app is connected to the fake Socket Mode server');
      const envelope_id = `env-${process.pid}-${++envelopes}`;
      const acked = new Promise<SocketAck>((resolve) => events.once(envelope_id, resolve));
      socket.send(
        JSON.stringify({ envelope_id, type, payload, accepts_response_payload: type !== 'events_api', retry_attempt: 0, retry_reason: '' }),
      );
      return acked;
    },
    connections: () => accepted,
    drop(opts = {}) {
      refusing = opts.refuse ?? false;
      for (const client of wss.clients) client.terminate();
    },
    accept() {
      refusing = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}
