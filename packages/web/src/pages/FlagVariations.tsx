import { Button, Code, Group, Modal, NumberInput, Stack, Table, Text, TextInput, Textarea } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, call, type Flag } from '../api.js';
import { ConfirmDelete, FormError, fieldErrors } from '../ui.js';

type Variation = Flag['variations'][number];

/** How a value is typed in: text as it is, numbers as numbers, JSON as a document. */
function valueText(flag: Flag, value: unknown): string {
  if (flag.type === 'string') return typeof value === 'string' ? value : '';
  if (flag.type === 'json') return JSON.stringify(value ?? null, null, 2);
  return value === undefined || value === null ? '' : String(value);
}

/** The typed value, or the reason it is not one (said beside the field, as the API would). */
function parseValue(flag: Flag, text: string): { value: unknown } | { problem: string } {
  if (flag.type === 'number') {
    const n = Number(text);
    return text.trim() === '' || !Number.isFinite(n) ? { problem: 'must be a number' } : { value: n };
  }
  if (flag.type === 'json') {
    try { return { value: JSON.parse(text) as unknown }; } catch (e) { return { problem: `not valid JSON: ${(e as Error).message}` }; }
  }
  return { value: text };
}

/**
 * A flag's variations: key, name, value, description; add, edit, delete. A boolean flag's on/off
 * are fixed (only their name and description change): a third boolean value could never differ.
 */
export function Variations({ projectId, flag }: { projectId: string; flag: Flag }) {
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Variation | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Variation | null>(null);
  const fixed = flag.type === 'boolean';
  const remove = useMutation({
    mutationFn: (v: Variation) => call(() => api.DELETE('/api/v1/projects/{project_id}/flags/{flag_key}/variations/{variation_id}', {
      params: { path: { project_id: projectId, flag_key: flag.key, variation_id: v.id } },
    })),
    onSuccess: () => { setDeleting(null); void queryClient.invalidateQueries({ queryKey: ['project', projectId] }); },
  });
  return (
    <Stack>
      <Group justify="space-between">
        <Text size="sm" c="dimmed">{fixed ? "A boolean flag's on and off values are fixed; their names and descriptions can change." : `Values of type ${flag.type}.`}</Text>
        {!fixed && <Button onClick={() => setEditing('new')}>Add variation</Button>}
      </Group>
      <Table.ScrollContainer minWidth={560}>
        <Table aria-label="Variations">
          <Table.Thead>
            <Table.Tr><Table.Th>Key</Table.Th><Table.Th>Name</Table.Th><Table.Th>Value</Table.Th><Table.Th>Description</Table.Th><Table.Th /></Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {flag.variations.map((v) => (
              <Table.Tr key={v.id} data-testid="variation">
                <Table.Td><Code>{v.key}</Code>{v.key === flag.defaultVariation && <Text size="xs" c="dimmed">default</Text>}</Table.Td>
                <Table.Td>{v.name}</Table.Td>
                <Table.Td><Code style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>{JSON.stringify(v.value)}</Code></Table.Td>
                <Table.Td>{v.description}</Table.Td>
                <Table.Td>
                  <Group gap={4} wrap="nowrap" justify="flex-end">
                    <Button size="xs" variant="subtle" aria-label={`Edit variation ${v.key}`} onClick={() => setEditing(v)}>Edit</Button>
                    {!fixed && <Button size="xs" variant="subtle" color="red" aria-label={`Delete variation ${v.key}`} onClick={() => { remove.reset(); setDeleting(v); }}>Delete</Button>}
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Modal opened={editing !== null} onClose={() => setEditing(null)} title={editing === 'new' ? 'Add a variation' : `Edit variation ${editing?.key ?? ''}`}>
        {editing !== null && <VariationForm projectId={projectId} flag={flag} variation={editing === 'new' ? null : editing} onDone={() => setEditing(null)} />}
      </Modal>
      <ConfirmDelete opened={deleting !== null} title="Delete variation?" label="Delete variation" onCancel={() => setDeleting(null)} onConfirm={() => deleting && remove.mutate(deleting)} pending={remove.isPending}>
        <Text>Delete <b>{deleting?.key}</b>? The API refuses while a rule, target, prerequisite or default still serves it.</Text>
        <FormError error={remove.error} />
      </ConfirmDelete>
    </Stack>
  );
}

function VariationForm({ projectId, flag, variation, onDone }: { projectId: string; flag: Flag; variation: Variation | null; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [key, setKey] = useState('');
  const [name, setName] = useState(variation?.name ?? '');
  const [text, setText] = useState(() => variation ? valueText(flag, variation.value) : flag.type === 'json' ? '{}' : '');
  const [description, setDescription] = useState(variation?.description ?? '');
  const [problem, setProblem] = useState<string | null>(null);
  const fixedValue = flag.type === 'boolean';
  const save = useMutation({
    mutationFn: (value: unknown) => {
      const path = { project_id: projectId, flag_key: flag.key };
      if (variation) {
        return call(() => api.PATCH('/api/v1/projects/{project_id}/flags/{flag_key}/variations/{variation_id}', {
          params: { path: { ...path, variation_id: variation.id } },
          body: { name: name || variation.name, description: description || null, ...(fixedValue ? {} : { value }) },
        }));
      }
      return call(() => api.POST('/api/v1/projects/{project_id}/flags/{flag_key}/variations', {
        params: { path },
        body: { value, ...(key ? { key } : {}), ...(name ? { name } : {}), description: description || null },
      }));
    },
    onSuccess: () => { void queryClient.invalidateQueries({ queryKey: ['project', projectId] }); onDone(); },
  });
  const errors = fieldErrors(save.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (fixedValue) { save.mutate(undefined); return; }
    const parsed = parseValue(flag, text);
    if ('problem' in parsed) { setProblem(parsed.problem); return; }
    setProblem(null);
    save.mutate(parsed.value);
  };
  const valueError = problem ?? errors.value;
  return (
    <form noValidate onSubmit={submit} aria-label={variation ? `Edit variation ${variation.key}` : 'Add a variation'}>
      <Stack>
        {variation
          ? <Text size="sm">Key <Code>{variation.key}</Code> (never changes: rules and SDKs use it)</Text>
          : <TextInput label="Variation key" description="Default: the name in kebab-case" value={key} onChange={(e) => setKey(e.currentTarget.value)} error={errors.key} />}
        <TextInput label="Variation name" value={name} onChange={(e) => setName(e.currentTarget.value)} error={errors.name} />
        {fixedValue
          ? <Text size="sm">Value <Code>{JSON.stringify(variation?.value)}</Code></Text>
          : flag.type === 'number'
            ? <NumberInput label="Variation value" value={text} onChange={(n) => { setText(String(n)); setProblem(null); }} error={valueError} />
            : flag.type === 'json'
              ? <Textarea label="Variation value (JSON)" autosize minRows={4} styles={{ input: { fontFamily: 'monospace' } }} value={text}
                onChange={(e) => { setText(e.currentTarget.value); setProblem(null); }} error={valueError} />
              : <TextInput label="Variation value" value={text} onChange={(e) => setText(e.currentTarget.value)} error={valueError} />}
        <TextInput label="Variation description" value={description} onChange={(e) => setDescription(e.currentTarget.value)} error={errors.description} />
        <FormError error={save.error} />
        <Button type="submit" loading={save.isPending}>{variation ? 'Save variation' : 'Add variation'}</Button>
      </Stack>
    </form>
  );
}
