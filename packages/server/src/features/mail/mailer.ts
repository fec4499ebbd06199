import type { Kysely, Transaction } from 'kysely';
import type { Mail } from 'nodemailer';
import type nodemailer from 'nodemailer';
import type { Database } from '../../db/schema.js';
import { requireWhenUsed } from '../../require-when-used.js';
import { newId, nowIso } from '../../domain/ids.js';
import type { MailOutboxStore, OutboxMessage } from './mail-outbox-store.js';

type Db = Kysely<Database> | Transaction<Database>;

/** A mail to send. */
export interface OutgoingMail {
  /** The organisation it is about, so its admins can read it in the outbox; null for account mail. */
  organizationId: number | null;
  to: string;
  subject: string;
  text: string;
  html?: string | null;
}

/**
 * Sends mail without ever dropping it silently: every message is first written to the
 * `mail_outbox` table — inside the transaction of the change that caused it, when there is one —
 * and delivered after that commits. Without SMTP the outbox is where mail stays (an admin reads
 * it); with SMTP each row records `sent_at` or the delivery `error`.
 */
export interface Mailer {
  /** Records the message in the outbox through `db` (e.g. the caller's transaction); returns its id. */
  enqueue(db: Db, mail: OutgoingMail): Promise<number>;
  /** Delivers enqueued messages; call after the enqueuing transaction committed. Never throws. */
  deliver(ids: readonly number[]): Promise<void>;
  /** `enqueue` outside any transaction, then `deliver`; answers the outbox row as it ends up. */
  send(mail: OutgoingMail): Promise<OutboxMessage>;
}

/** The mailer without SMTP: messages stay in the outbox for an admin to read. */
export class OutboxMailer implements Mailer {
  constructor(
    protected readonly db: Kysely<Database>,
    protected readonly outbox: MailOutboxStore,
  ) {}

  async enqueue(db: Db, mail: OutgoingMail): Promise<number> {
    const id = newId();
    await this.outbox.insert(db, {
      id,
      organizationId: mail.organizationId,
      to: mail.to,
      subject: mail.subject,
      textBody: mail.text,
      htmlBody: mail.html ?? null,
      createdAt: nowIso(),
      sentAt: null,
      error: null,
    });
    return id;
  }

  async deliver(_ids: readonly number[]): Promise<void> {
    // Nothing to do: the outbox is the destination.
  }

  async send(mail: OutgoingMail): Promise<OutboxMessage> {
    const id = await this.enqueue(this.db, mail);
    await this.deliver([id]);
    return (await this.outbox.findById(this.db, id))!;
  }
}

/** Delivers through SMTP (`SMTP_URL`, nodemailer), recording the outcome of each message in the outbox. */
export class SmtpMailer extends OutboxMailer {
  private readonly transport: Mail;

  constructor(
    db: Kysely<Database>,
    outbox: MailOutboxStore,
    smtpUrl: string,
    private readonly from: string,
  ) {
    super(db, outbox);
    // Short timeouts: delivery happens while a request waits for it.
    const { createTransport } = requireWhenUsed('nodemailer') as typeof nodemailer;
    this.transport = createTransport({
      url: smtpUrl,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    });
  }

  override async deliver(ids: readonly number[]): Promise<void> {
    for (const id of ids) {
      const message = await this.outbox.findById(this.db, id);
      if (!message || message.sentAt) continue;
      try {
        await this.transport.sendMail({
          from: this.from,
          to: message.to,
          subject: message.subject,
          text: message.textBody,
          ...(message.htmlBody ? { html: message.htmlBody } : {}),
        });
        await this.outbox.markSent(this.db, id, nowIso());
      } catch (err) {
        await this.outbox.markFailed(this.db, id, err instanceof Error ? err.message : String(err));
      }
    }
  }

  /** Closes pooled SMTP connections, if any. */
  close(): void {
    this.transport.close();
  }
}
