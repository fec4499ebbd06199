import { ActionIcon, Button, ColorInput, FileButton, Group, Paper, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useParams } from 'react-router-dom';
import { api, call, type Environment, type Project } from '../api.js';
import { ConfirmDelete, FormError, QueryState, fieldErrors } from '../ui.js';
import { useEnvironments } from './Flags.js';

export default function SettingsPage() {
  const { projectId = '' } = useParams();
  const project = useQuery({ queryKey: ['project', projectId], queryFn: () => call(() => api.GET('/api/v1/projects/{project_id}', { params: { path: { project_id: projectId } } })) });
  const environments = useEnvironments(projectId);
  return (
    <Stack>
      <Title order={2}>Project settings</Title>
      <QueryState query={project}>{(p) => <ProjectForm project={p} />}</QueryState>
      <QueryState query={environments}>{(envs) => <Environments projectId={projectId} environments={envs} />}</QueryState>
      <QueryState query={environments}>{(envs) => <Flagd projectId={projectId} environments={envs} />}</QueryState>
    </Stack>
  );
}

function ProjectForm({ project }: { project: Project }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(project.name);
  const [color, setColor] = useState(project.color ?? '');
  const save = useMutation({
    mutationFn: () => call(() => api.PATCH('/api/v1/projects/{project_id}', { params: { path: { project_id: project.id } }, body: { name, color: color || null } })),
    onSuccess: () => { void queryClient.invalidateQueries({ queryKey: ['project', project.id] }); void queryClient.invalidateQueries({ queryKey: ['projects'] }); },
  });
  const errors = fieldErrors(save.error);
  return (
    <Paper withBorder p="md">
      <form noValidate onSubmit={(e: FormEvent) => { e.preventDefault(); save.mutate(); }}>
        <Group align="flex-start">
          <TextInput label="Project name" value={name} onChange={(e) => setName(e.currentTarget.value)} error={errors.name} />
          <ColorInput label="Project colour" value={color} onChange={setColor} error={errors.color} format="hex" />
          <Button type="submit" mt={25} loading={save.isPending}>Save</Button>
        </Group>
        <FormError error={save.error} />
      </form>
    </Paper>
  );
}

function Environments({ projectId, environments }: { projectId: string; environments: Environment[] }) {
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['project', projectId] });
  const [key, setKey] = useState('');
  const [deleting, setDeleting] = useState<Environment | null>(null);
  const create = useMutation({
    mutationFn: () => call(() => api.POST('/api/v1/projects/{project_id}/environments', { params: { path: { project_id: projectId } }, body: { key } })),
    onSuccess: () => { setKey(''); void refresh(); },
  });
  const update = useMutation({
    mutationFn: (v: { env: Environment; name: string; color: string | null }) => call(() => api.PATCH('/api/v1/projects/{project_id}/environments/{environment_id}', {
      params: { path: { project_id: projectId, environment_id: v.env.id } }, body: { name: v.name, color: v.color },
    })),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (env: Environment) => call(() => api.DELETE('/api/v1/projects/{project_id}/environments/{environment_id}', { params: { path: { project_id: projectId, environment_id: env.id } } })),
    onSuccess: () => { setDeleting(null); void refresh(); },
  });
  const errors = fieldErrors(create.error);
  return (
    <Paper withBorder p="md">
      <Stack>
        <Title order={4}>Environments</Title>
        <Table.ScrollContainer minWidth={400}>
          <Table>
            <Table.Tbody>
              {environments.map((env) => (
                <Table.Tr key={env.id}>
                  <Table.Td><TextInput aria-label={`Name of ${env.key}`} defaultValue={env.name} onBlur={(e) => e.currentTarget.value !== env.name && update.mutate({ env, name: e.currentTarget.value, color: env.color })} /></Table.Td>
                  <Table.Td><ColorInput aria-label={`Colour of ${env.key}`} defaultValue={env.color ?? ''} format="hex" onChangeEnd={(c) => update.mutate({ env, name: env.name, color: c || null })} /></Table.Td>
                  <Table.Td><ActionIcon variant="subtle" color="red" aria-label={`Delete environment ${env.name}`} onClick={() => setDeleting(env)}>×</ActionIcon></Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        <FormError error={update.error} />
        <form noValidate onSubmit={(e: FormEvent) => { e.preventDefault(); create.mutate(); }}>
          <Group align="flex-start">
            <TextInput label="New environment key" value={key} onChange={(e) => setKey(e.currentTarget.value)} error={errors.key} />
            <Button type="submit" mt={25} loading={create.isPending}>Add environment</Button>
          </Group>
          <FormError error={create.error} />
        </form>
      </Stack>
      <ConfirmDelete opened={deleting !== null} title="Delete environment?" onCancel={() => setDeleting(null)} onConfirm={() => deleting && remove.mutate(deleting)} pending={remove.isPending}>
        <Text>Delete <b>{deleting?.name}</b> with its targeting and API keys?</Text>
        <FormError error={remove.error} />
      </ConfirmDelete>
    </Paper>
  );
}

function Flagd({ projectId, environments }: { projectId: string; environments: Environment[] }) {
  const queryClient = useQueryClient();
  const [environment, setEnvironment] = useState<string | null>(environments[0]?.key ?? null);
  const path = { project_id: projectId, environment: environment ?? '' };
  const exportIt = useMutation({
    mutationFn: () => call(() => api.GET('/api/v1/projects/{project_id}/environments/{environment}/flagd', { params: { path } })),
    onSuccess: (doc) => {
      const url = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' }));
      const a = document.createElement('a');
      a.href = url; a.download = `${environment}.flagd.json`; a.click();
      URL.revokeObjectURL(url);
    },
  });
  const importIt = useMutation({
    mutationFn: async ({ file, dryRun }: { file: File; dryRun: boolean }) => {
      const body = JSON.parse(await file.text()) as { flags: Record<string, unknown> };
      return call(() => api.POST('/api/v1/projects/{project_id}/environments/{environment}/flagd', { params: { path, query: { dryRun: dryRun ? 'true' : 'false' } }, body }));
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['project', projectId] }),
  });
  const [file, setFile] = useState<File | null>(null);
  return (
    <Paper withBorder p="md">
      <Stack>
        <Title order={4}>flagd import and export</Title>
        <Select label="Environment" data={environments.map((e) => ({ value: e.key, label: e.name }))} value={environment} onChange={setEnvironment} w={220} />
        <Group>
          <Button variant="default" disabled={!environment} loading={exportIt.isPending} onClick={() => exportIt.mutate()}>Export environment</Button>
          <FileButton onChange={setFile} accept="application/json">{(props) => <Button variant="default" {...props}>Choose flagd file</Button>}</FileButton>
          {file && <Text size="sm">{file.name}</Text>}
          <Button disabled={!file || !environment} variant="light" onClick={() => file && importIt.mutate({ file, dryRun: true })}>Preview import</Button>
          <Button disabled={!file || !environment} onClick={() => file && importIt.mutate({ file, dryRun: false })}>Import</Button>
        </Group>
        {importIt.data && (
          <Text size="sm" data-testid="import-summary">{importIt.data.dryRun ? 'Would be: ' : 'Done: '}
            {importIt.data.summary.created} created, {importIt.data.summary.replaced} replaced, {importIt.data.summary.unchanged} unchanged</Text>
        )}
        <FormError error={exportIt.error ?? importIt.error} />
      </Stack>
    </Paper>
  );
}
