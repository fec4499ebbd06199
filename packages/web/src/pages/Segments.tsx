import { ActionIcon, Button, Group, Paper, Stack, TagsInput, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useParams } from 'react-router-dom';
import { api, call } from '../api.js';
import { FormError, QueryState, fieldErrors } from '../ui.js';

export default function SegmentsPage() {
  const { projectId = '' } = useParams();
  const queryClient = useQueryClient();
  const segments = useQuery({
    queryKey: ['project', projectId, 'segments'],
    queryFn: () => call(() => api.GET('/api/v1/projects/{project_id}/segments', { params: { path: { project_id: projectId } } })),
  });
  const [form, setForm] = useState({ key: '', name: '', included: [] as string[], excluded: [] as string[], attribute: '', value: '' });
  const create = useMutation({
    mutationFn: () => call(() => api.POST('/api/v1/projects/{project_id}/segments', {
      params: { path: { project_id: projectId } },
      body: {
        key: form.key, name: form.name || form.key, included: form.included, excluded: form.excluded,
        conditions: form.attribute ? [{ attribute: form.attribute, operator: 'EQUALS', value: form.value }] : [],
      },
    })),
    onSuccess: () => { setForm({ key: '', name: '', included: [], excluded: [], attribute: '', value: '' }); void queryClient.invalidateQueries({ queryKey: ['project', projectId, 'segments'] }); },
  });
  const remove = useMutation({
    mutationFn: (segment: string) => call(() => api.DELETE('/api/v1/projects/{project_id}/segments/{segment}', { params: { path: { project_id: projectId, segment } } })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['project', projectId, 'segments'] }),
  });
  const errors = fieldErrors(create.error);
  return (
    <Stack>
      <Title order={2}>Segments</Title>
      <QueryState query={segments} isEmpty={(d) => d.length === 0} empty="No segments yet.">
        {(list) => (
          <Stack>
            {list.map((s) => (
              <Paper withBorder p="sm" key={s.id}>
                <Group justify="space-between">
                  <div>
                    <Text fw={600}>{s.name} <Text span size="xs" c="dimmed">{s.key}</Text></Text>
                    <Text size="xs">{s.conditions.map((c) => `${c.attribute ?? ''} ${c.operator} ${JSON.stringify(c.value ?? '')}`).join(' and ') || 'no conditions'}
                      {' · '}included {s.included.length}, excluded {s.excluded.length}</Text>
                  </div>
                  <ActionIcon variant="subtle" color="red" aria-label={`Delete segment ${s.key}`} onClick={() => remove.mutate(s.key)}>×</ActionIcon>
                </Group>
              </Paper>
            ))}
            <FormError error={remove.error} />
          </Stack>
        )}
      </QueryState>
      <Paper withBorder p="md">
        <form noValidate onSubmit={(e: FormEvent) => { e.preventDefault(); create.mutate(); }}>
          <Stack>
            <Title order={4}>New segment</Title>
            <Group grow align="flex-start">
              <TextInput label="Segment key" value={form.key} onChange={(e) => setForm({ ...form, key: e.currentTarget.value })} error={errors.key} />
              <TextInput label="Segment name" value={form.name} onChange={(e) => setForm({ ...form, name: e.currentTarget.value })} error={errors.name} />
            </Group>
            <Group grow align="flex-start">
              <TextInput label="Attribute" value={form.attribute} onChange={(e) => setForm({ ...form, attribute: e.currentTarget.value })} error={errors.conditions} />
              <TextInput label="Equals" value={form.value} onChange={(e) => setForm({ ...form, value: e.currentTarget.value })} />
            </Group>
            <TagsInput label="Always included (targeting keys)" value={form.included} onChange={(included) => setForm({ ...form, included })} error={errors.included} />
            <TagsInput label="Always excluded (targeting keys)" value={form.excluded} onChange={(excluded) => setForm({ ...form, excluded })} error={errors.excluded} />
            <FormError error={create.error} />
            <Button type="submit" loading={create.isPending}>Create segment</Button>
          </Stack>
        </form>
      </Paper>
    </Stack>
  );
}
