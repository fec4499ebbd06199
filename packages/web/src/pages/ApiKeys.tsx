import { Alert, Button, Code, CopyButton, Group, Modal, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useParams } from 'react-router-dom';
import { api, call } from '../api.js';
import { FormError, QueryState, fieldErrors } from '../ui.js';
import { useEnvironments } from './Flags.js';

export default function ApiKeysPage() {
  const { projectId = '' } = useParams();
  const queryClient = useQueryClient();
  const environments = useEnvironments(projectId);
  const keys = useQuery({
    queryKey: ['project', projectId, 'api-keys'],
    queryFn: () => call(() => api.GET('/api/v1/projects/{project_id}/api-keys', { params: { path: { project_id: projectId } } })),
  });
  const [name, setName] = useState('');
  const [environment, setEnvironment] = useState<string | null>(null);
  const [scope, setScope] = useState<'server' | 'sdk' | 'stream'>('server');
  // The secret is only in the create answer: kept in state just long enough to copy it.
  const [secret, setSecret] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: () => call(() => api.POST('/api/v1/projects/{project_id}/api-keys', {
      params: { path: { project_id: projectId } }, body: { name, environment: environment ?? '', scope },
    })),
    onSuccess: (k) => { setSecret(k.key); setName(''); void queryClient.invalidateQueries({ queryKey: ['project', projectId, 'api-keys'] }); },
  });
  const revoke = useMutation({
    mutationFn: (keyId: string) => call(() => api.POST('/api/v1/projects/{project_id}/api-keys/{key_id}/revoke', { params: { path: { project_id: projectId, key_id: keyId } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['project', projectId, 'api-keys'] }),
  });
  const errors = fieldErrors(create.error);
  return (
    <Stack>
      <Title order={2}>API keys</Title>
      <form noValidate onSubmit={(e: FormEvent) => { e.preventDefault(); create.mutate(); }}>
        <Group align="flex-start">
          <TextInput label="Key name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={errors.name} />
          <Select label="Environment" required data={(environments.data ?? []).map((e) => ({ value: e.key, label: e.name }))} value={environment} onChange={setEnvironment} error={errors.environment} />
          <Select label="Scope" data={['server', 'sdk', 'stream']} value={scope} allowDeselect={false} onChange={(s) => s && setScope(s as typeof scope)} error={errors.scope} />
          <Button type="submit" mt={25} loading={create.isPending}>Create key</Button>
        </Group>
        <FormError error={create.error} />
      </form>
      <QueryState query={keys} isEmpty={(d) => d.length === 0} empty="No API keys yet.">
        {(list) => (
          <Table.ScrollContainer minWidth={500}>
            <Table>
              <Table.Thead><Table.Tr><Table.Th>Name</Table.Th><Table.Th>Environment</Table.Th><Table.Th>Scope</Table.Th><Table.Th>Prefix</Table.Th><Table.Th>Last used</Table.Th><Table.Th /></Table.Tr></Table.Thead>
              <Table.Tbody>
                {list.map((k) => (
                  <Table.Tr key={k.id}>
                    <Table.Td>{k.name}</Table.Td><Table.Td>{k.environment}</Table.Td><Table.Td>{k.scope}</Table.Td>
                    <Table.Td><Code data-testid="key-prefix">{k.prefix}…</Code></Table.Td>
                    <Table.Td>{k.lastUsedAt ? new Date(k.lastUsedAt).toLocaleString() : 'never'}</Table.Td>
                    <Table.Td>{k.revokedAt ? <Text size="sm" c="dimmed">revoked</Text> : <Button size="xs" variant="subtle" color="red" onClick={() => revoke.mutate(k.id)}>Revoke</Button>}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </QueryState>
      <Modal opened={secret !== null} onClose={() => setSecret(null)} title="Your new API key">
        <Stack>
          <Alert color="yellow">This is the only time the key is shown. Copy it now; afterwards only its prefix is listed.</Alert>
          <Code block data-testid="new-api-key">{secret}</Code>
          <CopyButton value={secret ?? ''}>{({ copied, copy }) => <Button onClick={copy}>{copied ? 'Copied' : 'Copy key'}</Button>}</CopyButton>
        </Stack>
      </Modal>
    </Stack>
  );
}
