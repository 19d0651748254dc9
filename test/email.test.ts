import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSmtpMailer } from '../src/workflows/steps/email.js';
import type { EmailMessage, Mailer } from '../src/workflows/steps/email.js';
import { appErrorOf } from './helpers/errors.js';
import { cleanups, startSmtp } from './helpers/smtp.js';

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function mailerFor(url: string): Mailer {
  const mailer = createSmtpMailer(url);
  cleanups.push(() => mailer.close());
  return mailer;
}

const message: EmailMessage = {
  from: 'levqor@localhost',
  to: ['ops@example.com', 'Night Shift <oncall@example.org>'],
  subject: 'Approval needed: restart api',
  text: 'Run 42 is waiting for approval.',
  headers: { 'X-Levqor-Run': '42' },
};

describe('createSmtpMailer', () => {
  it('delivers from, to, subject, body and headers', async () => {
    const smtp = await startSmtp();
    const mailer = mailerFor(`smtp://127.0.0.1:${smtp.port}`);
    const result = await mailer.send(message);
    expect(result.accepted).toEqual(['ops@example.com', 'oncall@example.org']);
    expect(result.rejected).toEqual([]);
    expect(result.messageId).toMatch(/^<.+>$/);
    expect(smtp.messages).toHaveLength(1);
    const [got] = smtp.messages;
    expect(got?.from).toBe('levqor@localhost');
    expect(got?.to).toEqual(['ops@example.com', 'oncall@example.org']);
    expect(got?.raw).toContain('Subject: Approval needed: restart api');
    expect(got?.raw).toContain('Run 42 is waiting for approval.');
    expect(got?.raw).toContain('X-Levqor-Run: 42');
    expect(got?.raw).toMatch(/To: ops@example\.com, Night Shift <oncall@example\.org>/);
  });

  it('reports recipients the server rejected', async () => {
    const smtp = await startSmtp('oncall@example.org');
    const result = await mailerFor(`smtp://127.0.0.1:${smtp.port}`).send(message);
    expect(result.accepted).toEqual(['ops@example.com']);
    expect(result.rejected).toEqual(['oncall@example.org']);
    expect(smtp.messages[0]?.to).toEqual(['ops@example.com']);
  });

  it.each([
    ['a recipient that is not an address', { to: ['not-an-address'] }, /to\[0\].*not-an-address/],
    ['two recipients smuggled in one entry', { to: ['ops@example.com, evil@example.net'] }, /to\[0\]/],
    ['a header smuggled into a recipient', { to: ['ops@example.com\r\nBcc: evil@example.net'] }, /to\[0\]/],
    ['a second bad recipient', { to: ['ops@example.com', 'x@'] }, /to\[1\].*"x@"/],
    ['no recipients', { to: [] }, /at least one recipient/],
    ['a bad sender', { from: 'levqor' }, /from.*"levqor"/],
    ['a line break in the subject', { subject: 'hi\r\nBcc: evil@example.net' }, /subject/],
    ['a line break in a header', { headers: { 'X-A': 'b\nBcc: evil@example.net' } }, /headers\.X-A/],
  ] as const)('refuses %s with bad_input and sends nothing', async (_label, change, reason) => {
    const smtp = await startSmtp();
    const err = await appErrorOf(mailerFor(`smtp://127.0.0.1:${smtp.port}`).send({ ...message, ...change } as EmailMessage));
    expect(err.code).toBe('bad_input');
    expect(err.message).toMatch(reason);
    expect(smtp.connections).toBe(0);
    expect(smtp.messages).toHaveLength(0);
  });

  it('fails clearly when the server is down', async () => {
    const port = await freePort();
    const err = await appErrorOf(mailerFor(`smtp://user:hunter2@127.0.0.1:${port}`).send(message));
    expect(err.code).toBe('step_failed');
    expect(err.message).toContain(`sending email via smtp://127.0.0.1:${port} failed`);
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(err.message).not.toContain('hunter2');
  });
});

/** A port nothing listens on: bound, read, then released. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
