import { Alert, Badge, Button, Checkbox, Code, CopyButton, Group, Modal, MultiSelect, Paper, Select, SimpleGrid, Stack, Table, Tabs, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { paths } from '@switchyard/contracts';
import { api, call, type Ok } from '../api.js';
import { ConfirmDelete, FormError, QueryState, fieldErrors } from '../ui.js';

export default function OrganisationPage() {
  return (
    <Stack>
      <Title order={2}>Organisation</Title>
      <Tabs defaultValue="members">
        <Tabs.List>
          <Tabs.Tab value="members">Members</Tabs.Tab>
          <Tabs.Tab value="invitations">Invitations</Tabs.Tab>
          <Tabs.Tab value="roles">Roles</Tabs.Tab>
          <Tabs.Tab value="oauth">OAuth clients</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="members" pt="md"><Members /></Tabs.Panel>
        <Tabs.Panel value="invitations" pt="md"><Invitations /></Tabs.Panel>
        <Tabs.Panel value="roles" pt="md"><Roles /></Tabs.Panel>
        <Tabs.Panel value="oauth" pt="md"><OAuthClients /></Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

const useRoles = () => useQuery({ queryKey: ['roles'], queryFn: () => call(() => api.GET('/api/v1/roles')) });

function Members() {
  const queryClient = useQueryClient();
  const members = useQuery({ queryKey: ['members'], queryFn: () => call(() => api.GET('/api/v1/members')) });
  const roles = useRoles();
  const change = useMutation({
    mutationFn: (v: { userId: string; role: string }) => call(() => api.PATCH('/api/v1/members/{userId}', { params: { path: { userId: v.userId } }, body: { role: v.role } })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['members'] }),
  });
  const remove = useMutation({
    mutationFn: (userId: string) => call(() => api.DELETE('/api/v1/members/{userId}', { params: { path: { userId } } })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['members'] }),
  });
  return (
    <QueryState query={members} isEmpty={(d) => d.length === 0} empty="No members.">
      {(list) => (
        <Stack>
          <FormError error={change.error ?? remove.error} />
          <Table.ScrollContainer minWidth={500}>
            <Table>
              <Table.Tbody>
                {list.map((m) => (
                  <Table.Tr key={m.userId}>
                    <Table.Td>{m.name ?? m.email}<Text size="xs" c="dimmed">{m.email}</Text></Table.Td>
                    <Table.Td><Select aria-label={`Role of ${m.email}`} data={(roles.data ?? []).map((r) => ({ value: r.key, label: r.builtIn ? r.name : `${r.name} (custom)` }))} value={m.role} allowDeselect={false} onChange={(role) => role && change.mutate({ userId: m.userId, role })} /></Table.Td>
                    <Table.Td><Button size="xs" variant="subtle" color="red" onClick={() => remove.mutate(m.userId)}>Remove</Button></Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </Stack>
      )}
    </QueryState>
  );
}

function Invitations() {
  const queryClient = useQueryClient();
  const invitations = useQuery({ queryKey: ['invitations'], queryFn: () => call(() => api.GET('/api/v1/invitations')) });
  const roles = useRoles();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<string | null>('member');
  const invite = useMutation({
    mutationFn: () => call(() => api.POST('/api/v1/invitations', { body: { email, role: role ?? '' } })),
    onSuccess: () => { setEmail(''); void queryClient.invalidateQueries({ queryKey: ['invitations'] }); },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => call(() => api.DELETE('/api/v1/invitations/{invitationId}', { params: { path: { invitationId: id } } })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['invitations'] }),
  });
  const errors = fieldErrors(invite.error);
  return (
    <Stack>
      <form noValidate onSubmit={(e: FormEvent) => { e.preventDefault(); invite.mutate(); }}>
        <Group align="flex-start">
          <TextInput label="Email to invite" type="email" value={email} onChange={(e) => setEmail(e.currentTarget.value)} error={errors.email} />
          <Select label="Role" data={(roles.data ?? []).map((r) => r.key)} value={role} onChange={setRole} error={errors.role} />
          <Button type="submit" mt={25} loading={invite.isPending}>Invite</Button>
        </Group>
        <FormError error={invite.error} />
      </form>
      <QueryState query={invitations} isEmpty={(d) => d.length === 0} empty="No invitations.">
        {(list) => (
          <Table.ScrollContainer minWidth={500}>
            <Table>
              <Table.Tbody>
                {list.map((i) => (
                  <Table.Tr key={i.id}>
                    <Table.Td>{i.email}</Table.Td><Table.Td>{i.role}</Table.Td><Table.Td><Badge variant="light">{i.status}</Badge></Table.Td>
                    <Table.Td>{i.status === 'pending' && <Button size="xs" variant="subtle" color="red" onClick={() => revoke.mutate(i.id)}>Revoke</Button>}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
    </Stack>
  );
}

type Role = Ok<'/api/v1/roles', 'get'>[number];
type Permission = NonNullable<paths['/api/v1/roles']['post']['requestBody']>['content']['application/json']['permissions'][number];

/**
 * The permission vocabulary, with what each grants. The API lists it only as its schema's enum, so
 * it is kept here as a record over the contract's type: a permission added to (or dropped from)
 * the server fails the typecheck until it is added (or dropped) here too.
 */
const permissionHelp: Record<Permission, string> = {
  'organization:read': 'see the organisation',
  'organization:write': 'rename and configure it',
  'organization:delete': 'delete it',
  'members:read': 'see members',
  'members:write': 'change and remove members',
  'roles:read': 'see roles',
  'roles:write': 'create and change custom roles',
  'invitations:read': 'see invitations',
  'invitations:write': 'invite and revoke',
  'projects:read': 'see projects and environments',
  'projects:write': 'create and change projects',
  'environments:write': 'create and change environments',
  'flags:read': 'see flags and segments',
  'flags:write': 'change flags, rules and targeting',
  'flags:evaluate': 'evaluate flags',
  'segments:write': 'create and change segments',
  'api_keys:read': 'see API keys',
  'api_keys:write': 'create and revoke API keys',
  'audit:read': 'read the audit log',
  'billing:read': 'see the plan and invoices',
  'billing:write': 'change the plan',
  'usage:read': 'see usage',
  'exports:write': 'export and import',
  'mail:read': 'read the mail outbox',
};
const vocabulary = Object.keys(permissionHelp) as Permission[];

function Roles() {
  const queryClient = useQueryClient();
  const roles = useRoles();
  const [editing, setEditing] = useState<Role | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Role | null>(null);
  const remove = useMutation({
    mutationFn: (r: Role) => call(() => api.DELETE('/api/v1/roles/{role}', { params: { path: { role: r.id ?? r.key } } })),
    onSuccess: () => { setDeleting(null); void queryClient.invalidateQueries({ queryKey: ['roles'] }); },
  });
  return (
    <Stack>
      <Group justify="space-between">
        <Text size="sm" c="dimmed">Built-in roles are fixed. A custom role grants the permissions chosen, never more than you hold yourself.</Text>
        <Button onClick={() => setEditing('new')}>New role</Button>
      </Group>
      <QueryState query={roles}>
        {(list) => (
          <Stack>
            {list.map((r) => (
              <Paper withBorder p="sm" key={r.key} data-testid="role">
                <Group justify="space-between" align="flex-start" wrap="nowrap">
                  <div style={{ minWidth: 0 }}>
                    <Group gap="xs"><Text fw={600}>{r.name}</Text><Code>{r.key}</Code>
                      <Badge size="xs" variant="outline">{r.builtIn ? 'built in' : 'custom'}</Badge></Group>
                    {r.description && <Text size="sm">{r.description}</Text>}
                    <Text size="xs" c="dimmed" style={{ overflowWrap: 'anywhere' }}>{r.permissions.join(', ') || 'no permissions'}</Text>
                  </div>
                  {!r.builtIn && (
                    <Group gap={4} wrap="nowrap">
                      <Button size="xs" variant="subtle" aria-label={`Edit role ${r.key}`} onClick={() => setEditing(r)}>Edit</Button>
                      <Button size="xs" variant="subtle" color="red" aria-label={`Delete role ${r.key}`} onClick={() => { remove.reset(); setDeleting(r); }}>Delete</Button>
                    </Group>
                  )}
                </Group>
              </Paper>
            ))}
          </Stack>
        )}
      </QueryState>
      <Modal opened={editing !== null} onClose={() => setEditing(null)} title={editing === 'new' ? 'New custom role' : `Edit role ${editing?.key ?? ''}`} size="lg">
        {editing !== null && <RoleForm role={editing === 'new' ? null : editing} onDone={() => setEditing(null)} />}
      </Modal>
      <ConfirmDelete opened={deleting !== null} title="Delete role?" label="Delete role" onCancel={() => setDeleting(null)} onConfirm={() => deleting && remove.mutate(deleting)} pending={remove.isPending}>
        <Text>Delete the role <b>{deleting?.name}</b>? The API refuses while a member or a pending invitation holds it.</Text>
        <FormError error={remove.error} />
      </ConfirmDelete>
    </Stack>
  );
}

const roleKeyPattern = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

function RoleForm({ role, onDone }: { role: Role | null; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [key, setKey] = useState('');
  const [name, setName] = useState(role?.name ?? '');
  const [description, setDescription] = useState(role?.description ?? '');
  const [chosen, setChosen] = useState<string[]>(role?.permissions ?? []);
  const [local, setLocal] = useState<Record<string, string>>({});
  const save = useMutation({
    mutationFn: () => {
      const permissions = chosen as Permission[];
      return role
        ? call(() => api.PATCH('/api/v1/roles/{role}', { params: { path: { role: role.id ?? role.key } }, body: { name, description: description || null, permissions } }))
        : call(() => api.POST('/api/v1/roles', { body: { key, name, description: description || null, permissions } }));
    },
    onSuccess: () => { void queryClient.invalidateQueries({ queryKey: ['roles'] }); onDone(); },
  });
  const api422 = fieldErrors(save.error);
  const errors = { ...api422, ...local };
  const permissionError = errors.permissions ?? Object.entries(errors).find(([k]) => k.startsWith('permissions.'))?.[1];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    // The same checks as the API's, so the common mistakes are said before a round trip.
    const found: Record<string, string> = {};
    if (!role && (!roleKeyPattern.test(key) || key.length > 64)) found.key = 'must be kebab-case (a-z, 0-9, -), start with a letter, at most 64 characters';
    if (name.trim() === '') found.name = 'required';
    setLocal(found);
    if (Object.keys(found).length === 0) save.mutate();
  };
  return (
    <form noValidate onSubmit={submit} aria-label={role ? `Edit role ${role.key}` : 'New custom role'}>
      <Stack>
        {role
          ? <Text size="sm">Key <Code>{role.key}</Code> (never changes)</Text>
          : <TextInput label="Role key" description="kebab-case, e.g. release-manager" value={key} onChange={(e) => setKey(e.currentTarget.value)} error={errors.key} />}
        <TextInput label="Role name" value={name} onChange={(e) => setName(e.currentTarget.value)} error={errors.name} />
        <TextInput label="Role description" value={description} onChange={(e) => setDescription(e.currentTarget.value)} error={errors.description} />
        <Checkbox.Group label="Permissions" value={chosen} onChange={setChosen} error={permissionError}>
          <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="xs" mt="xs">
            {vocabulary.map((p) => <Checkbox key={p} value={p} label={p} description={permissionHelp[p]} />)}
          </SimpleGrid>
        </Checkbox.Group>
        <FormError error={save.error} />
        <Button type="submit" loading={save.isPending}>{role ? 'Save role' : 'Create role'}</Button>
      </Stack>
    </form>
  );
}

function OAuthClients() {
  const queryClient = useQueryClient();
  const clients = useQuery({ queryKey: ['oauth-clients'], queryFn: () => call(() => api.GET('/api/v1/oauth/clients')) });
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['flags:read']);
  const [secret, setSecret] = useState<{ id: string; secret: string } | null>(null);
  const create = useMutation({
    mutationFn: () => call(() => api.POST('/api/v1/oauth/clients', { body: { name, scopes } })),
    onSuccess: (c) => { setSecret({ id: c.clientId, secret: c.clientSecret }); setName(''); void queryClient.invalidateQueries({ queryKey: ['oauth-clients'] }); },
  });
  const revoke = useMutation({
    mutationFn: (clientId: string) => call(() => api.DELETE('/api/v1/oauth/clients/{clientId}', { params: { path: { clientId } } })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['oauth-clients'] }),
  });
  const errors = fieldErrors(create.error);
  return (
    <Stack>
      <form noValidate onSubmit={(e: FormEvent) => { e.preventDefault(); create.mutate(); }}>
        <Group align="flex-start">
          <TextInput label="Client name" value={name} onChange={(e) => setName(e.currentTarget.value)} error={errors.name} />
          <MultiSelect label="Scopes" data={['flags:read', 'flags:write', 'flags:evaluate', 'projects:read', 'projects:write']} value={scopes} onChange={setScopes} error={errors.scopes} searchable />
          <Button type="submit" mt={25} loading={create.isPending}>Create client</Button>
        </Group>
        <FormError error={create.error} />
      </form>
      <QueryState query={clients} isEmpty={(d) => d.length === 0} empty="No OAuth clients.">
        {(list) => (
          <Table><Table.Tbody>
            {list.map((c) => (
              <Table.Tr key={c.clientId}>
                <Table.Td>{c.name}</Table.Td><Table.Td><Code>{c.clientId}</Code></Table.Td><Table.Td>{c.scopes.join(', ')}</Table.Td>
                <Table.Td>{c.revokedAt ? 'revoked' : <Button size="xs" variant="subtle" color="red" onClick={() => revoke.mutate(c.clientId)}>Revoke</Button>}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody></Table>
        )}
      </QueryState>
      <Modal opened={secret !== null} onClose={() => setSecret(null)} title="Client secret">
        <Stack>
          <Alert color="yellow">Shown once. Copy the secret now.</Alert>
          <Text size="sm">Client id <Code>{secret?.id}</Code></Text>
          <Code block>{secret?.secret}</Code>
          <CopyButton value={secret?.secret ?? ''}>{({ copied, copy }) => <Button onClick={copy}>{copied ? 'Copied' : 'Copy secret'}</Button>}</CopyButton>
        </Stack>
      </Modal>
    </Stack>
  );
}
