import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServiceFixture, type ServiceFixture } from '../../testing/access-fixtures.js';
import { startSmtpTestServer, type SmtpTestServer } from '../../testing/smtp-test-server.js';
import { createTestDatabase, testDialects, type TestDatabase } from '../../testing/test-database.js';
import { KyselyMailOutboxStore } from './mail-outbox-store.js';
import { OutboxMailer, SmtpMailer } from './mailer.js';

/** Undoes quoted-printable soft line breaks and escapes, as a mail client would. */
function decodeQuotedPrintable(data: string): string {
  return data.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.each(testDialects())('mailers on %s', (dialect) => {
  let smtp: SmtpTestServer;
  let database: TestDatabase;
  const outbox = new KyselyMailOutboxStore();

  beforeAll(async () => {
    smtp = await startSmtpTestServer();
    database = await createTestDatabase(dialect);
  });
  afterAll(async () => {
    await smtp.close();
    await database.destroy();
  });

  it('without SMTP, keeps the message in the outbox undelivered', async () => {
    const mailer = new OutboxMailer(database.handle.db, outbox);
    const message = await mailer.send({ organizationId: null, to: 'a@example.com', subject: 'Hello', text: 'Body' });
    expect(message).toMatchObject({ to: 'a@example.com', subject: 'Hello', textBody: 'Body', sentAt: null, error: null });
    expect(await outbox.findById(database.handle.db, message.id)).toEqual(message);
  });

  it('with SMTP, delivers the message and records sent_at in the outbox', async () => {
    const mailer = new SmtpMailer(database.handle.db, outbox, smtp.url, 'Switchyard <noreply@flags.test>');
    const before = smtp.messages.length;
    const message = await mailer.send({ organizationId: null, to: 'b@example.com', subject: 'Over the wire', text: 'Delivered for real' });
    const received = (await smtp.waitFor(before + 1))[before]!;
    expect(received.from).toBe('noreply@flags.test');
    expect(received.to).toEqual(['b@example.com']);
    expect(received.data).toMatch(/^Subject: Over the wire$/m);
    expect(received.data).toContain('Delivered for real');
    expect(message.sentAt).not.toBeNull();
    expect(message.error).toBeNull();
  });

  it('with SMTP unreachable, keeps the message with the error instead of dropping it', async () => {
    const mailer = new SmtpMailer(database.handle.db, outbox, `smtp://127.0.0.1:${await closedPort()}`, 'noreply@flags.test');
    const message = await mailer.send({ organizationId: null, to: 'c@example.com', subject: 'Lost?', text: 'No' });
    expect(message.sentAt).toBeNull();
    expect(message.error).toMatch(/ECONNREFUSED|connect/i);
  });
});

describe.each(testDialects())('invitation mail through SMTP on %s', (dialect) => {
  let smtp: SmtpTestServer;
  let f: ServiceFixture;
  beforeAll(async () => {
    smtp = await startSmtpTestServer();
    f = await createServiceFixture(dialect, { SMTP_URL: smtp.url, SMTP_FROM: 'Flags <flags@example.com>', SWITCHYARD_PUBLIC_URL: 'https://flags.example.com' });
  });
  afterAll(async () => {
    await f.destroy();
    await smtp.close();
  });

  it('mails a working invitation link and marks the outbox row sent', async () => {
    const owner = await f.newOwner();
    await f.services.invitations.create(owner.actor, owner.organizationId, { email: 'smtp-invitee@example.com', role: 'viewer' });
    const [mail] = await smtp.waitFor(1);
    expect(mail!.to).toEqual(['smtp-invitee@example.com']);
    expect(mail!.from).toBe('flags@example.com');
    const body = decodeQuotedPrintable(mail!.data);
    const token = /https:\/\/flags\.example\.com\/invitations\/accept\?token=([A-Za-z0-9_-]+)/.exec(body)?.[1];
    expect(token).toBeDefined();
    const row = await f.db.selectFrom('mail_outbox').selectAll().where('to_address', '=', 'smtp-invitee@example.com').executeTakeFirstOrThrow();
    expect(row.sent_at).not.toBeNull();
    expect(row.error).toBeNull();
    const accepted = await f.services.invitations.accept(null, { token: token!, password: 'password123' });
    expect(accepted.membership).toMatchObject({ organizationId: owner.organizationId, role: 'viewer' });
  });
});
