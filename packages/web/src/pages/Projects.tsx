import { ActionIcon, Badge, Button, Card, ColorInput, Group, Modal, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { api, call, type Project } from '../api.js';
import { ConfirmDelete, FormError, QueryState, fieldErrors } from '../ui.js';

export function ProjectsPage() {
  const projects = useQuery({ queryKey: ['projects'], queryFn: () => call(() => api.GET('/api/v1/projects')) });
  const [creating, { open, close }] = useDisclosure();
  const [deleting, setDeleting] = useState<Project | null>(null);
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Projects</Title>
        <Button onClick={open}>New project</Button>
      </Group>
      <QueryState query={projects} isEmpty={(d) => d.length === 0} empty="No projects yet: create one.">
        {(list) => (
          <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
            {list.map((p) => (
              <Card key={p.id} withBorder style={{ borderLeft: `6px solid ${p.color ?? '#868e96'}` }}>
                <Group justify="space-between" wrap="nowrap">
                  <Text fw={600} component={Link} to={`/projects/${p.id}`}>{p.name}</Text>
                  <ActionIcon variant="subtle" color="red" aria-label={`Delete project ${p.name}`} onClick={() => setDeleting(p)}>×</ActionIcon>
                </Group>
                <Text size="sm" c="dimmed">{p.key}</Text>
                <Badge variant="light" mt="xs">{p.flagCount} flags</Badge>
              </Card>
            ))}
          </SimpleGrid>
        )}
      </QueryState>
      <Modal opened={creating} onClose={close} title="New project"><ProjectForm onDone={close} /></Modal>
      <DeleteProject project={deleting} onClose={() => setDeleting(null)} />
    </Stack>
  );
}

function ProjectForm({ onDone }: { onDone: () => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [key, setKey] = useState('');
  const [color, setColor] = useState('');
  const create = useMutation({
    mutationFn: () => call(() => api.POST('/api/v1/projects', { body: { name, ...(key ? { key } : {}), color: color || null } })),
    onSuccess: () => { void queryClient.invalidateQueries({ queryKey: ['projects'] }); onDone(); },
  });
  const errors = fieldErrors(create.error);
  return (
    <form noValidate onSubmit={(e: FormEvent) => { e.preventDefault(); create.mutate(); }}><Stack>
      <TextInput label="Name" required data-autofocus value={name} onChange={(e) => setName(e.currentTarget.value)} error={errors.name} />
      <TextInput label="Key" description="Optional; derived from the name" value={key} onChange={(e) => setKey(e.currentTarget.value)} error={errors.key} />
      <ColorInput label="Colour" value={color} onChange={setColor} error={errors.color} format="hex" />
      <FormError error={create.error} />
      <Button type="submit" loading={create.isPending}>Create project</Button>
    </Stack></form>
  );
}

function DeleteProject({ project, onClose }: { project: Project | null; onClose: () => void }) {
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: (id: string) => call(() => api.DELETE('/api/v1/projects/{project_id}', { params: { path: { project_id: id } } })),
    onSuccess: () => { void queryClient.invalidateQueries({ queryKey: ['projects'] }); onClose(); },
  });
  return (
    <ConfirmDelete opened={project !== null} title="Delete project?" onCancel={onClose} onConfirm={() => project && remove.mutate(project.id)} pending={remove.isPending}>
      <Text>This deletes <b>{project?.name}</b> with its flags, environments and API keys.</Text>
      <FormError error={remove.error} />
    </ConfirmDelete>
  );
}
