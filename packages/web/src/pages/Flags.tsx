import { Badge, Button, Group, Modal, NumberInput, Select, Stack, Switch, Table, TagsInput, Text, TextInput, Textarea, Title } from '@mantine/core';
import { useDebouncedValue, useDisclosure } from '@mantine/hooks';
import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { api, call, type Environment, type Flag } from '../api.js';
import { useLiveProject } from '../live.js';
import { FormError, QueryState, fieldErrors } from '../ui.js';

export function useEnvironments(projectId: string) {
  return useQuery({
    queryKey: ['project', projectId, 'environments'],
    queryFn: () => call(() => api.GET('/api/v1/projects/{project_id}/environments', { params: { path: { project_id: projectId } } })),
  });
}

export default function FlagsPage() {
  const { projectId = '' } = useParams();
  const project = useQuery({ queryKey: ['project', projectId], queryFn: () => call(() => api.GET('/api/v1/projects/{project_id}', { params: { path: { project_id: projectId } } })) });
  const environments = useEnvironments(projectId);
  useLiveProject(projectId, environments.data);
  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search, 250);
  const [tag, setTag] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [creating, { open, close }] = useDisclosure();
  const filter = { ...(debounced ? { search: debounced } : {}), ...(tag ? { tag } : {}), ...(status ? { status: status as Flag['status'] } : {}) };
  // One list per environment: the list's `enabled` is per environment.
  const perEnvironment = useQueries({
    queries: (environments.data ?? []).map((env) => ({
      queryKey: ['project', projectId, 'flags', env.key, filter],
      queryFn: () => call(() => api.GET('/api/v1/projects/{project_id}/flags', { params: { path: { project_id: projectId }, query: { ...filter, environment: env.key, limit: '200' } } })),
    })),
  });
  const first = perEnvironment[0];
  const allTags = [...new Set((first?.data ?? []).flatMap((f) => f.tags))];

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{project.data?.name ?? 'Flags'}</Title>
        <Button onClick={open}>New flag</Button>
      </Group>
      <Group align="flex-end">
        <TextInput label="Search" placeholder="Key or name" value={search} onChange={(e) => setSearch(e.currentTarget.value)} />
        <Select label="Tag" clearable data={allTags} value={tag} onChange={setTag} w={160} />
        <Select label="Status" clearable data={['active', 'inactive', 'archived']} value={status} onChange={setStatus} w={160} />
      </Group>
      <QueryState query={environments}>
        {(envs) => first === undefined ? <Text c="dimmed">This project has no environments.</Text> : (
          <QueryState query={first} isEmpty={(d) => d.length === 0} empty="No flags match.">
            {(flags) => (
              <Table.ScrollContainer minWidth={500}>
                <Table striped highlightOnHover>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Flag</Table.Th><Table.Th>Type</Table.Th>
                      {envs.map((e) => <Table.Th key={e.id}>{e.name}</Table.Th>)}
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {flags.map((f) => (
                      <Table.Tr key={f.key}>
                        <Table.Td>
                          <Text component={Link} to={`/projects/${projectId}/flags/${encodeURIComponent(f.key)}`} fw={600}>{f.name}</Text>
                          <Text size="xs" c="dimmed">{f.key} {f.tags.map((t) => <Badge key={t} size="xs" variant="outline" ml={4}>{t}</Badge>)}
                            {f.status === 'archived' && <Badge size="xs" color="gray" ml={4}>archived</Badge>}</Text>
                        </Table.Td>
                        <Table.Td>{f.type}</Table.Td>
                        {envs.map((e, i) => {
                          const row = perEnvironment[i]?.data?.find((x) => x.key === f.key);
                          return <Table.Td key={e.id}><FlagSwitch projectId={projectId} flagKey={f.key} environment={e} enabled={row?.enabled ?? false} /></Table.Td>;
                        })}
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            )}
          </QueryState>
        )}
      </QueryState>
      <Modal opened={creating} onClose={close} title="New flag" size="lg"><FlagForm projectId={projectId} onDone={close} /></Modal>
    </Stack>
  );
}

export function FlagSwitch({ projectId, flagKey, environment, enabled }: { projectId: string; flagKey: string; environment: Environment; enabled: boolean }) {
  const queryClient = useQueryClient();
  const flip = useMutation({
    mutationFn: (on: boolean) => call(() => api.POST(on
      ? '/api/v1/projects/{project_id}/flags/{flag_key}/environments/{environment}/enable'
      : '/api/v1/projects/{project_id}/flags/{flag_key}/environments/{environment}/disable',
    { params: { path: { project_id: projectId, flag_key: flagKey, environment: environment.key } } })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['project', projectId] }),
  });
  // Flips in place: shows the intended state while the request runs.
  const shown = flip.isPending && flip.variables !== undefined ? flip.variables : enabled;
  return (
    <Switch checked={shown} onChange={(e) => flip.mutate(e.currentTarget.checked)} disabled={flip.isPending}
      aria-label={`${flagKey} in ${environment.name}`} error={flip.error?.message} />
  );
}

type Variation = { key: string; value: string };
const defaults: Record<string, Variation[]> = {
  boolean: [{ key: 'on', value: 'true' }, { key: 'off', value: 'false' }],
  string: [{ key: 'a', value: 'a' }, { key: 'b', value: 'b' }],
  number: [{ key: 'low', value: '0' }, { key: 'high', value: '1' }],
  json: [{ key: 'default', value: '{}' }],
};

function FlagForm({ projectId, onDone }: { projectId: string; onDone: () => void }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [form, setForm] = useState({ key: '', name: '', type: 'boolean', description: '', tags: [] as string[] });
  const [variations, setVariations] = useState<Variation[]>(defaults.boolean!);
  const [parseError, setParseError] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: () => {
      const parsed = variations.map((v) => ({ key: v.key, value: parseValue(form.type, v.value) }));
      return call(() => api.POST('/api/v1/projects/{project_id}/flags', {
        params: { path: { project_id: projectId } },
        body: { key: form.key, name: form.name || form.key, type: form.type, description: form.description || null, tags: form.tags, variations: parsed },
      }));
    },
    onSuccess: (flag) => { void queryClient.invalidateQueries({ queryKey: ['project', projectId] }); onDone(); navigate(`/projects/${projectId}/flags/${encodeURIComponent(flag.key)}`); },
  });
  const errors = fieldErrors(create.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    try { variations.forEach((v) => parseValue(form.type, v.value)); setParseError(null); } catch (err) { setParseError((err as Error).message); return; }
    create.mutate();
  };
  return (
    <form noValidate onSubmit={submit}><Stack>
      <TextInput label="Key" required data-autofocus value={form.key} onChange={(e) => setForm({ ...form, key: e.currentTarget.value })} error={errors.key} />
      <TextInput label="Name" value={form.name} onChange={(e) => setForm({ ...form, name: e.currentTarget.value })} error={errors.name} />
      <Select label="Type" data={['boolean', 'string', 'number', 'json']} value={form.type} allowDeselect={false}
        onChange={(t) => { if (t) { setForm({ ...form, type: t }); setVariations(defaults[t]!); } }} error={errors.type} />
      <Textarea label="Description" value={form.description} onChange={(e) => setForm({ ...form, description: e.currentTarget.value })} error={errors.description} />
      <TagsInput label="Tags" value={form.tags} onChange={(tags) => setForm({ ...form, tags })} error={errors.tags} />
      <Text fw={600} size="sm">Variations</Text>
      {variations.map((v, i) => (
        <Group key={i} grow align="flex-start">
          <TextInput label={`Variation ${i + 1} key`} value={v.key} onChange={(e) => setVariations(variations.map((x, j) => j === i ? { ...x, key: e.currentTarget.value } : x))} error={errors[`variations.${i}.key`] ?? errors[`variations/${i}/key`]} />
          {form.type === 'number'
            ? <NumberInput label={`Variation ${i + 1} value`} value={v.value} onChange={(n) => setVariations(variations.map((x, j) => j === i ? { ...x, value: String(n) } : x))} />
            : <TextInput label={`Variation ${i + 1} value`} value={v.value} readOnly={form.type === 'boolean'} onChange={(e) => setVariations(variations.map((x, j) => j === i ? { ...x, value: e.currentTarget.value } : x))} />}
        </Group>
      ))}
      {form.type !== 'boolean' && (
        <Group>
          <Button variant="default" size="xs" onClick={() => setVariations([...variations, { key: `v${variations.length + 1}`, value: form.type === 'json' ? '{}' : '' }])}>Add variation</Button>
          {variations.length > 1 && <Button variant="subtle" size="xs" color="red" onClick={() => setVariations(variations.slice(0, -1))}>Remove last</Button>}
        </Group>
      )}
      <Text c="red" size="sm">{parseError ?? errors.variations}</Text>
      <FormError error={create.error} />
      <Button type="submit" loading={create.isPending}>Create flag</Button>
    </Stack></form>
  );
}

function parseValue(type: string, raw: string): unknown {
  if (type === 'boolean') return raw === 'true';
  if (type === 'number') { const n = Number(raw); if (raw.trim() === '' || Number.isNaN(n)) throw new Error(`"${raw}" is not a number`); return n; }
  if (type === 'json') { try { return JSON.parse(raw); } catch { throw new Error(`"${raw}" is not valid JSON`); } }
  return raw;
}

