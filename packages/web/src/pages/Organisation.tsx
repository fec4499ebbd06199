import { Alert, Badge, Button, Code, CopyButton, Group, Modal, MultiSelect, Paper, Select, Stack, Table, Tabs, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, call } from '../api.js';
import { FormError, QueryState, fieldErrors } from '../ui.js';

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
                    <Table.Td><Select aria-label={`Role of ${m.email}`} data={(roles.data ?? []).map((r) => r.key)} value={m.role} allowDeselect={false} onChange={(role) => role && change.mutate({ userId: m.userId, role })} /></Table.Td>
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

function Roles() {
  const roles = useRoles();
  return (
    <QueryState query={roles}>
      {(list) => (
        <Stack>
          {list.map((r) => (
            <Paper withBorder p="sm" key={r.key}>
              <Group><Text fw={600}>{r.name}</Text>{r.builtIn && <Badge size="xs" variant="outline">built in</Badge>}</Group>
              <Text size="xs" c="dimmed">{r.permissions.join(', ')}</Text>
            </Paper>
          ))}
        </Stack>
      )}
    </QueryState>
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
