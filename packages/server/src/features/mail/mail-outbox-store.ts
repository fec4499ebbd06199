import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** A message in the outbox: every mail the server means to send, delivered or not. */
export interface OutboxMessage {
  id: number;
  organizationId: number | null;
  to: string;
  subject: string;
  textBody: string;
  htmlBody: string | null;
  createdAt: string;
  /** When SMTP accepted it; null while undelivered (always, without SMTP). */
  sentAt: string | null;
  /** Why the last delivery attempt failed. */
  error: string | null;
}

/** Reads and writes the `mail_outbox` table. */
export interface MailOutboxStore {
  insert(db: Db, message: OutboxMessage): Promise<void>;
  findById(db: Db, id: number): Promise<OutboxMessage | null>;
  markSent(db: Db, id: number, sentAt: string): Promise<void>;
  markFailed(db: Db, id: number, error: string): Promise<void>;
  /** Newest first. */
  listByOrganization(db: Db, organizationId: number, page: { limit: number; offset: number }): Promise<OutboxMessage[]>;
  countByOrganization(db: Db, organizationId: number): Promise<number>;
}

type Row = Database['mail_outbox'];

function toMessage(r: Row): OutboxMessage {
  return {
    id: r.id,
    organizationId: r.organization_id,
    to: r.to_address,
    subject: r.subject,
    textBody: r.text_body,
    htmlBody: r.html_body,
    createdAt: r.created_at,
    sentAt: r.sent_at,
    error: r.error,
  };
}

/** Kysely implementation of `MailOutboxStore`. */
export class KyselyMailOutboxStore implements MailOutboxStore {
  async insert(db: Db, m: OutboxMessage): Promise<void> {
    await db
      .insertInto('mail_outbox')
      .values({
        id: m.id,
        organization_id: m.organizationId,
        to_address: m.to,
        subject: m.subject,
        text_body: m.textBody,
        html_body: m.htmlBody,
        created_at: m.createdAt,
        sent_at: m.sentAt,
        error: m.error,
      })
      .execute();
  }

  async findById(db: Db, id: number): Promise<OutboxMessage | null> {
    const row = await db.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toMessage(row) : null;
  }

  async markSent(db: Db, id: number, sentAt: string): Promise<void> {
    await db.updateTable('mail_outbox').set({ sent_at: sentAt, error: null }).where('id', '=', id).execute();
  }

  async markFailed(db: Db, id: number, error: string): Promise<void> {
    await db.updateTable('mail_outbox').set({ error: error.slice(0, 2000) }).where('id', '=', id).execute();
  }

  async listByOrganization(db: Db, organizationId: number, page: { limit: number; offset: number }): Promise<OutboxMessage[]> {
    const rows = await db
      .selectFrom('mail_outbox')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(page.limit)
      .offset(page.offset)
      .execute();
    return rows.map(toMessage);
  }

  async countByOrganization(db: Db, organizationId: number): Promise<number> {
    const row = await db
      .selectFrom('mail_outbox')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('organization_id', '=', organizationId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
