// The few pieces of the Postgres wire protocol (v3) the embedded database's socket needs:
// reading the backend's replies to find where a client's turn ends and which notifications it
// carries, and writing the messages the server itself sends. Pure functions over bytes.

/** A frontend Sync message: ends an extended-protocol cycle (and an error's ignore-till-Sync). */
export const SYNC = Uint8Array.of(0x53, 0, 0, 0, 4);

/** One NOTIFY the backend delivered. */
export interface Notification {
  channel: string;
  payload: string;
}

/** A backend reply split into what goes to the client and what the server routes itself. */
export interface BackendReply {
  /** The reply without NotificationResponse messages, in order. */
  forward: Uint8Array;
  notifications: Notification[];
  /**
   * The transaction status of the reply's last ReadyForQuery when that is its last message
   * ('I' idle, 'T' in a transaction, 'E' in a failed one); undefined mid-cycle.
   */
  ready: 'I' | 'T' | 'E' | undefined;
}

function cstrings(bytes: Uint8Array, from: number, count: number): string[] {
  const out: string[] = [];
  let at = from;
  for (let i = 0; i < count; i++) {
    const end = bytes.indexOf(0, at);
    if (end < 0) break;
    out.push(Buffer.from(bytes.subarray(at, end)).toString('utf8'));
    at = end + 1;
  }
  return out;
}

/** Splits a complete backend reply (type byte, int32 length, body …) into forward, notifications and status. */
export function scanReply(reply: Uint8Array): BackendReply {
  const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
  const keep: Uint8Array[] = [];
  const notifications: Notification[] = [];
  let ready: BackendReply['ready'];
  let at = 0;
  while (at + 5 <= reply.length) {
    const type = reply[at];
    const end = at + 1 + view.getInt32(at + 1);
    if (end > reply.length || end < at + 5) break; // not a whole message: passed through untouched below
    if (type === 0x41) {
      // NotificationResponse: int32 pid, channel, payload.
      const [channel = '', payload = ''] = cstrings(reply, at + 9, 2);
      notifications.push({ channel, payload });
    } else {
      keep.push(reply.subarray(at, end));
      ready = type === 0x5a ? (String.fromCharCode(reply[at + 5] ?? 0x49) as 'I' | 'T' | 'E') : undefined;
    }
    at = end;
  }
  if (at < reply.length) {
    keep.push(reply.subarray(at));
    ready = undefined;
  }
  return { forward: notifications.length ? Buffer.concat(keep) : reply, notifications, ready };
}

/** A NotificationResponse message, as the backend would send it to a listening connection. */
export function notificationMessage(pid: number, { channel, payload }: Notification): Uint8Array {
  const body = Buffer.concat([Buffer.from(channel, 'utf8'), Buffer.of(0), Buffer.from(payload, 'utf8'), Buffer.of(0)]);
  const msg = Buffer.alloc(9 + body.length);
  msg.write('A', 0, 'latin1');
  msg.writeInt32BE(8 + body.length, 1);
  msg.writeInt32BE(pid, 5);
  body.copy(msg, 9);
  return msg;
}

/** A frontend simple Query message. */
export function queryMessage(sql: string): Uint8Array {
  const text = Buffer.from(`${sql}\0`, 'utf8');
  const msg = Buffer.alloc(5 + text.length);
  msg.write('Q', 0, 'latin1');
  msg.writeInt32BE(4 + text.length, 1);
  text.copy(msg, 5);
  return msg;
}

/** Quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The SQL text of a frontend simple Query message, or undefined for any other message. */
export function queryText(message: Uint8Array): string | undefined {
  if (message[0] !== 0x51 || message.length < 6) return undefined;
  return cstrings(message, 5, 1)[0];
}

const LISTEN_RE = /\b(UN)?LISTEN\s+("(?:[^"]|"")+"|[A-Za-z_][\w$]*|\*)/gi;

/**
 * The LISTEN and UNLISTEN statements of an SQL text, with each channel as the backend names
 * it (an unquoted identifier folded to lower case); `*` stands for UNLISTEN *.
 */
export function listenStatements(sql: string): { listen: boolean; channel: string }[] {
  return [...sql.matchAll(LISTEN_RE)].map((m) => {
    const ident = m[2] ?? '';
    const channel = ident.startsWith('"') ? ident.slice(1, -1).replaceAll('""', '"') : ident === '*' ? '*' : ident.toLowerCase();
    return { listen: m[1] === undefined, channel };
  });
}
