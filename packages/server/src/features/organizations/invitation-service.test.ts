import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from '../../domain/errors.js';
import { createServiceFixture, userActor, type ServiceFixture } from '../../testing/access-fixtures.js';
import { testDialects } from '../../testing/test-database.js';

describe.each(testDialects())('InvitationService on %s', (dialect) => {
  let f: ServiceFixture;
  beforeAll(async () => {
    f = await createServiceFixture(dialect, { SWITCHYARD_PUBLIC_URL: 'https://flags.example.com' });
  });
  afterAll(async () => f.destroy());

  /** The token in the newest invitation mail to `email`. */
  const tokenMailedTo = async (email: string): Promise<string> => {
    const mail = await f.db.selectFrom('mail_outbox').selectAll().where('to_address', '=', email).orderBy('created_at', 'desc').orderBy('id', 'desc').executeTakeFirstOrThrow();
    const m = /https:\/\/flags\.example\.com\/invitations\/accept\?token=([A-Za-z0-9_-]+)/.exec(mail.text_body);
    expect(m, mail.text_body).not.toBeNull();
    return m![1]!;
  };

  it('creates a pending invitation, stores only the token hash, audits it and mails the link', async () => {
    const owner = await f.newOwner();
    const inv = await f.services.invitations.create(owner.actor, owner.organizationId, { email: ' New.Person@Example.com ', role: 'developer' });
    expect(inv).toMatchObject({ email: 'new.person@example.com', role: 'developer', status: 'pending', invitedBy: owner.userId });
    expect(Date.parse(inv.expiresAt) - Date.parse(inv.createdAt)).toBe(7 * 24 * 3600 * 1000);
    const token = await tokenMailedTo('new.person@example.com');
    const row = await f.db.selectFrom('invitations').selectAll().where('id', '=', inv.id).executeTakeFirstOrThrow();
    expect(row.token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(token);
    const mail = await f.db.selectFrom('mail_outbox').selectAll().where('to_address', '=', 'new.person@example.com').executeTakeFirstOrThrow();
    expect(mail).toMatchObject({ organization_id: owner.organizationId, sent_at: null, error: null });
    expect(mail.subject).toContain(`Org of ${owner.email}`);
    const audit = await f.db.selectFrom('audit_events').selectAll().where('action', '=', 'invitation.created').where('resource_id', '=', String(inv.id)).execute();
    expect(audit).toHaveLength(1);
  });

  it('refuses to invite an existing member (409), twice (409), with an unknown role (422) or a bad email (422)', async () => {
    const owner = await f.newOwner();
    const member = await f.newUser();
    await f.addMember(owner.organizationId, member.userId, 'viewer');
    await expect(f.services.invitations.create(owner.actor, owner.organizationId, { email: member.email.toUpperCase(), role: 'viewer' })).rejects.toMatchObject({ code: 'already_member' });
    await f.services.invitations.create(owner.actor, owner.organizationId, { email: 'twice@example.com', role: 'viewer' });
    await expect(f.services.invitations.create(owner.actor, owner.organizationId, { email: 'twice@example.com', role: 'viewer' })).rejects.toMatchObject({ code: 'invitation_pending' });
    await expect(f.services.invitations.create(owner.actor, owner.organizationId, { email: 'x@example.com', role: 'wizard' })).rejects.toMatchObject({ fields: { role: expect.any(String) } });
    await expect(f.services.invitations.create(owner.actor, owner.organizationId, { email: 'not-an-email', role: 'viewer' })).rejects.toMatchObject({ fields: { email: expect.any(String) } });
  });

  it('needs invitations:write, hides other organisations, and grants no more than the inviter holds', async () => {
    const owner = await f.newOwner();
    const other = await f.newOwner();
    const viewer = await f.newUser();
    await f.addMember(owner.organizationId, viewer.userId, 'viewer');
    await expect(f.services.invitations.create(userActor(viewer.userId), owner.organizationId, { email: 'a@example.com', role: 'viewer' })).rejects.toBeInstanceOf(ForbiddenError);
    await expect(f.services.invitations.create(other.actor, owner.organizationId, { email: 'a@example.com', role: 'viewer' })).rejects.toBeInstanceOf(NotFoundError);
    await f.services.roles.create(owner.actor, owner.organizationId, { key: 'recruiter', name: 'Recruiter', permissions: ['invitations:read', 'invitations:write', 'flags:read'] });
    const r = await f.newUser();
    await f.addMember(owner.organizationId, r.userId, 'recruiter');
    await expect(f.services.invitations.create(userActor(r.userId), owner.organizationId, { email: 'b@example.com', role: 'admin' })).rejects.toMatchObject({ code: 'permission_escalation' });
    const inv = await f.services.invitations.create(userActor(r.userId), owner.organizationId, { email: 'b@example.com', role: 'recruiter' });
    await expect(f.services.invitations.get(other.actor, other.organizationId, inv.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('creates the account on accept without a login, joins it in the role and signs it in', async () => {
    const owner = await f.newOwner();
    await f.services.invitations.create(owner.actor, owner.organizationId, { email: 'fresh@example.com', role: 'developer' });
    const token = await tokenMailedTo('fresh@example.com');
    await expect(f.services.invitations.accept(null, { token })).rejects.toMatchObject({ fields: { password: expect.any(String) } });
    await expect(f.services.invitations.accept(null, { token, password: 'short' })).rejects.toBeInstanceOf(ValidationError);
    const result = await f.services.invitations.accept(null, { token, password: 'password123', name: 'Fresh' });
    expect(result.membership).toMatchObject({ organizationId: owner.organizationId, role: 'developer' });
    expect(result.signedIn).toMatchObject({ activeOrganizationId: owner.organizationId, user: { email: 'fresh@example.com', name: 'Fresh', emailVerified: true } });
    expect(result.signedIn!.accessToken).toEqual(expect.any(String));
    const inv = await f.db.selectFrom('invitations').selectAll().where('email', '=', 'fresh@example.com').executeTakeFirstOrThrow();
    expect(inv).toMatchObject({ status: 'accepted', accepted_by: result.membership.userId });
    const actions = (await f.db.selectFrom('audit_events').select('action').where('organization_id', '=', owner.organizationId).execute()).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['invitation.accepted', 'member.added']));
    // Single use.
    await expect(f.services.invitations.accept(null, { token, password: 'password123' })).rejects.toMatchObject({ code: 'invitation_used' });
  });

  it('joins a signed-in user whose email matches, and refuses a different email or an anonymous caller with an account', async () => {
    const owner = await f.newOwner();
    const invitee = await f.newUser();
    const someoneElse = await f.newUser();
    await f.services.invitations.create(owner.actor, owner.organizationId, { email: invitee.email, role: 'viewer' });
    const token = await tokenMailedTo(invitee.email);
    await expect(f.services.invitations.accept(someoneElse.actor, { token })).rejects.toMatchObject({ code: 'invitation_email_mismatch' });
    await expect(f.services.invitations.accept(null, { token, password: 'password123' })).rejects.toBeInstanceOf(UnauthorizedError);
    const result = await f.services.invitations.accept(invitee.actor, { token });
    expect(result.membership).toMatchObject({ userId: invitee.userId, role: 'viewer' });
    // No Switchyard session behind this actor, so no tokens can be issued for it.
    expect(result.signedIn).toBeNull();
    await expect(f.services.access.require(invitee.actor, owner.organizationId, 'flags:read')).resolves.toMatchObject({ role: 'viewer' });
  });

  it('refuses expired tokens (404 invitation_expired), unknown and revoked ones (404 invitation_not_found)', async () => {
    const owner = await f.newOwner();
    const inv = await f.services.invitations.create(owner.actor, owner.organizationId, { email: 'late@example.com', role: 'viewer' });
    const token = await tokenMailedTo('late@example.com');
    await f.db.updateTable('invitations').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', inv.id).execute();
    const err = await f.services.invitations.accept(null, { token, password: 'password123' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).code).toBe('invitation_expired');
    expect((await f.services.invitations.get(owner.actor, owner.organizationId, inv.id)).status).toBe('expired');
    await expect(f.services.invitations.list(owner.actor, owner.organizationId, { status: 'expired' })).resolves.toMatchObject({ total: 1 });
    await expect(f.services.invitations.accept(null, { token: 'nope' })).rejects.toMatchObject({ code: 'invitation_not_found' });

    const inv2 = await f.services.invitations.create(owner.actor, owner.organizationId, { email: 'revoked@example.com', role: 'viewer' });
    const token2 = await tokenMailedTo('revoked@example.com');
    const revoked = await f.services.invitations.revoke(owner.actor, owner.organizationId, inv2.id);
    expect(revoked.status).toBe('revoked');
    await expect(f.services.invitations.revoke(owner.actor, owner.organizationId, inv2.id)).rejects.toBeInstanceOf(ConflictError);
    await expect(f.services.invitations.accept(null, { token: token2, password: 'password123' })).rejects.toMatchObject({ code: 'invitation_not_found' });
  });

  it('resends with a new token and expiry; the old token stops working', async () => {
    const owner = await f.newOwner();
    const inv = await f.services.invitations.create(owner.actor, owner.organizationId, { email: 'again@example.com', role: 'viewer' });
    const first = await tokenMailedTo('again@example.com');
    await f.db.updateTable('invitations').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', inv.id).execute();
    const resent = await f.services.invitations.resend(owner.actor, owner.organizationId, inv.id);
    expect(resent.status).toBe('pending');
    const second = await tokenMailedTo('again@example.com');
    expect(second).not.toBe(first);
    expect(await f.db.selectFrom('mail_outbox').select('id').where('to_address', '=', 'again@example.com').execute()).toHaveLength(2);
    await expect(f.services.invitations.accept(null, { token: first, password: 'password123' })).rejects.toMatchObject({ code: 'invitation_not_found' });
    await expect(f.services.invitations.accept(null, { token: second, password: 'password123' })).resolves.toMatchObject({ membership: { role: 'viewer' } });
    await expect(f.services.invitations.resend(owner.actor, owner.organizationId, inv.id)).rejects.toMatchObject({ code: 'invitation_not_pending' });
  });

  it('accepts a token exactly once under concurrent accepts', async () => {
    const owner = await f.newOwner();
    const invitee = await f.newUser();
    await f.services.invitations.create(owner.actor, owner.organizationId, { email: invitee.email, role: 'viewer' });
    const token = await tokenMailedTo(invitee.email);
    const results = await Promise.allSettled([f.services.invitations.accept(invitee.actor, { token }), f.services.invitations.accept(invitee.actor, { token })]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const memberships = await f.db.selectFrom('memberships').select('id').where('organization_id', '=', owner.organizationId).where('user_id', '=', invitee.userId).execute();
    expect(memberships).toHaveLength(1);
  });

  it('lists invitations newest first with a status filter', async () => {
    const owner = await f.newOwner();
    const a = await f.services.invitations.create(owner.actor, owner.organizationId, { email: 'l1@example.com', role: 'viewer' });
    await new Promise((r) => setTimeout(r, 5));
    const b = await f.services.invitations.create(owner.actor, owner.organizationId, { email: 'l2@example.com', role: 'viewer' });
    await f.services.invitations.revoke(owner.actor, owner.organizationId, a.id);
    const all = await f.services.invitations.list(owner.actor, owner.organizationId);
    expect(all.total).toBe(2);
    expect(all.items.map((i) => i.id)).toEqual([b.id, a.id]);
    const pending = await f.services.invitations.list(owner.actor, owner.organizationId, { status: 'pending' });
    expect(pending.items.map((i) => i.id)).toEqual([b.id]);
  });

  it('addOrInvite adds an existing account at once and invites an unknown email', async () => {
    const owner = await f.newOwner();
    const known = await f.newUser();
    const added = await f.services.invitations.addOrInvite(owner.actor, owner.organizationId, { email: known.email.toUpperCase(), role: 'developer' });
    expect(added).toMatchObject({ kind: 'member', member: { userId: known.userId, email: known.email, role: 'developer' } });
    await expect(f.services.access.require(known.actor, owner.organizationId, 'flags:write')).resolves.toMatchObject({ role: 'developer' });
    await expect(f.services.invitations.addOrInvite(owner.actor, owner.organizationId, { email: known.email, role: 'viewer' })).rejects.toMatchObject({ code: 'already_member' });
    const invited = await f.services.invitations.addOrInvite(owner.actor, owner.organizationId, { email: 'nobody-yet@example.com', role: 'viewer' });
    expect(invited).toMatchObject({ kind: 'invitation', invitation: { email: 'nobody-yet@example.com', status: 'pending' } });
    const viewer = await f.newUser();
    await f.addMember(owner.organizationId, viewer.userId, 'viewer');
    const stranger = await f.newUser();
    await expect(f.services.invitations.addOrInvite(userActor(viewer.userId), owner.organizationId, { email: stranger.email, role: 'viewer' })).rejects.toBeInstanceOf(ForbiddenError);
    const actions = (await f.db.selectFrom('audit_events').select(['action', 'resource_id']).where('organization_id', '=', owner.organizationId).execute());
    expect(actions).toContainEqual({ action: 'member.added', resource_id: String(known.userId) });
  });
});
