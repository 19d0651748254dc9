import type { Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { AppError, errorMessage } from '../../lib/errors.js';

/** An e-mail a workflow step sends; addresses are bare (`a@b`) or `Name <a@b>`. */
export interface EmailMessage {
  from: string;
  to: string[];
  /** Blind copies: recipients who do not see each other. */
  bcc?: string[];
  subject: string;
  text: string;
  headers?: Record<string, string>;
}

/** The port steps send mail through; tests and other transports implement it too. */
export interface Mailer {
  send(msg: EmailMessage): Promise<{ messageId: string; accepted: string[]; rejected: string[] }>;
  close(): void;
}

interface ParsedAddress {
  name: string;
  address: string;
}

// Deliberately narrower than RFC 5322: no quoting, comments or whitespace, so nothing
// can smuggle a second recipient or a header through an address.
const ADDRESS =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const NAMED = /^([^<>"\r\n]*)<([^<>]*)>$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const DEFAULT_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

/** Builds a Mailer over nodemailer's SMTP transport; options in the URL's query win over our timeouts. */
export function createSmtpMailer(smtpUrl: string): Mailer {
  // nodemailer is loaded with the first e-mail: most processes never send one.
  let transport: Promise<Transporter<SMTPTransport.SentMessageInfo>> | undefined;
  const connect = () => (transport ??= import('nodemailer').then((m) => m.default.createTransport({ url: smtpUrl, ...DEFAULT_TIMEOUTS })));
  const server = describeServer(smtpUrl);
  return {
    async send(msg) {
      const from = parseAddress(msg.from, 'from');
      if (msg.to.length === 0 && !msg.bcc?.length) throw new AppError('bad_input', 'email needs at least one recipient', ['to']);
      const to = msg.to.map((addr, i) => parseAddress(addr, `to[${i}]`));
      const bcc = msg.bcc?.map((addr, i) => parseAddress(addr, `bcc[${i}]`));
      assertNoLineBreaks(msg.subject, 'subject');
      for (const [name, value] of Object.entries(msg.headers ?? {})) {
        if (!HEADER_NAME.test(name)) throw new AppError('bad_input', `invalid email header name: ${JSON.stringify(name)}`, ['headers']);
        assertNoLineBreaks(value, `headers.${name}`);
      }
      try {
        const info = await (await connect()).sendMail({ from, to, bcc, subject: msg.subject, text: msg.text, headers: msg.headers });
        return { messageId: info.messageId, accepted: info.accepted.map(String), rejected: info.rejected.map(String) };
      } catch (err) {
        throw toAppError(err, server);
      }
    },
    close() {
      void transport?.then((t) => t.close());
    },
  };
}

function parseAddress(input: string, field: string): ParsedAddress {
  const text = input.trim();
  const named = NAMED.exec(text);
  const address = (named ? (named[2] ?? '') : text).trim();
  if (!ADDRESS.test(address)) {
    throw new AppError('bad_input', `invalid email address in ${field}: ${JSON.stringify(input)}`, [field]);
  }
  return { name: named?.[1]?.trim() ?? '', address };
}

function assertNoLineBreaks(value: string, field: string): void {
  if (/[\r\n]/.test(value)) throw new AppError('bad_input', `email ${field} must not contain line breaks`, [field]);
}

function toAppError(err: unknown, server: string): AppError {
  if (err instanceof AppError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = `sending email via ${server} failed: ${errorMessage(err)}`;
  return new AppError(code === 'ETIMEDOUT' ? 'timeout' : 'step_failed', message, [], { cause: err });
}

// Names the server without the credentials the URL may carry.
function describeServer(smtpUrl: string): string {
  try {
    const url = new URL(smtpUrl);
    return `${url.protocol}//${url.host}`;
  } catch {
    return 'the SMTP server';
  }
}
