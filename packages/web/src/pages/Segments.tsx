import { Alert, Button, Group, List, Paper, SimpleGrid, Stack, TagsInput, Text, TextInput, Textarea, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router-dom';
import { ApiError, api, call, type Ok } from '../api.js';
import { ConditionRows, checkConditions, conditionErrorsByRow, describeCondition, fromCondition, toConditions, type ConditionDraft } from '../conditions.js';
import { ConfirmDelete, FormError, QueryState, fieldErrors } from '../ui.js';

type Segment = Ok<'/api/v1/projects/{project_id}/segments/{segment}', 'get'>;

interface SegmentDraft { key: string; name: string; description: string; conditions: ConditionDraft[]; included: string[]; excluded: string[] }

const emptyDraft: SegmentDraft = { key: '', name: '', description: '', conditions: [], included: [], excluded: [] };
const keyPattern = /^[A-Za-z0-9._-]{1,200}$/;

function draftOf(s: Segment): SegmentDraft {
  return { key: s.key, name: s.name, description: s.description ?? '', conditions: s.conditions.map(fromCondition), included: s.included, excluded: s.excluded };
}

/** What the API would refuse for the shape of it; the engine's judgement of the conditions comes back as field errors. */
function checkDraft(d: SegmentDraft, creating: boolean): Record<string, string> {
  const errors = checkConditions(d.conditions);
  if (creating && !keyPattern.test(d.key)) errors.key = d.key === '' ? 'required' : '1 to 200 of A-Z a-z 0-9 . _ -';
  const name = (d.name || (creating ? d.key : '')).trim();
  if (name === '' || name.length > 200) errors.name = 'must be 1 to 200 characters';
  if (d.description.length > 2000) errors.description = 'must be at most 2000 characters';
  for (const list of ['included', 'excluded'] as const) {
    if (d[list].some((k) => k.length > 1000)) errors[list] = 'each key at most 1000 characters';
  }
  return errors;
}

const segmentsKey = (projectId: string) => ['project', projectId, 'segments'];

export default function SegmentsPage() {
  const { projectId = '' } = useParams();
  const segments = useQuery({
    queryKey: segmentsKey(projectId),
    queryFn: () => call(() => api.GET('/api/v1/projects/{project_id}/segments', { params: { path: { project_id: projectId } } })),
  });
  const [editing, setEditing] = useState<string | null>(null);
  return (
    <Stack>
      <Title order={2}>Segments</Title>
      <QueryState query={segments} isEmpty={(d) => d.length === 0} empty="No segments yet.">
        {(list) => (
          <Stack>
            {list.map((s) => editing === s.key
              ? <EditSegment key={s.id} projectId={projectId} segment={s} onDone={() => setEditing(null)} />
              : <SegmentRow key={s.id} projectId={projectId} segment={s} onEdit={() => setEditing(s.key)} />)}
          </Stack>
        )}
      </QueryState>
      <CreateSegment projectId={projectId} />
    </Stack>
  );
}

function SegmentRow({ projectId, segment: s, onEdit }: { projectId: string; segment: Segment; onEdit: () => void }) {
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const remove = useMutation({
    mutationFn: () => call(() => api.DELETE('/api/v1/projects/{project_id}/segments/{segment}', {
      params: { path: { project_id: projectId, segment: s.key }, header: { 'if-match': `"${s.version}"` } },
    })),
    onSuccess: () => { setConfirming(false); void queryClient.invalidateQueries({ queryKey: segmentsKey(projectId) }); },
  });
  return (
    <Paper withBorder p="sm" data-testid="segment">
      <Group justify="space-between" align="flex-start">
        <div style={{ minWidth: 0, flex: 1 }}>
          <Text fw={600}>{s.name} <Text span size="xs" c="dimmed">{s.key}</Text></Text>
          {s.description && <Text size="sm" c="dimmed">{s.description}</Text>}
          <Text size="xs" style={{ overflowWrap: 'anywhere' }}>{s.conditions.map(describeCondition).join(' and ') || 'no conditions'}
            {' · '}included {s.included.length}, excluded {s.excluded.length}</Text>
        </div>
        <Group gap="xs">
          <Button size="xs" variant="default" onClick={onEdit} aria-label={`Edit segment ${s.key}`}>Edit</Button>
          <Button size="xs" variant="subtle" color="red" onClick={() => { remove.reset(); setConfirming(true); }} aria-label={`Delete segment ${s.key}`}>Delete</Button>
        </Group>
      </Group>
      <ConfirmDelete opened={confirming} title={`Delete segment ${s.key}?`} label="Delete segment" onCancel={() => setConfirming(false)} onConfirm={() => remove.mutate()} pending={remove.isPending}>
        <Text size="sm">Rules cannot use it afterwards. A segment that a rule still uses is not deleted.</Text>
        <InUseError error={remove.error} projectId={projectId} />
      </ConfirmDelete>
    </Paper>
  );
}

/** The API's refusal; for `segment_in_use`, its message and a link to each flag whose rules use the segment. */
function InUseError({ error, projectId }: { error: unknown; projectId: string }) {
  if (!(error instanceof ApiError) || error.problem.code !== 'segment_in_use') return <FormError error={error} />;
  const rules = ((error.problem as { details?: { rules?: Array<{ ruleId: string; flagKey: string; environment: string }> } }).details?.rules) ?? [];
  return (
    <Alert color="red" role="alert" title="The segment is in use">
      <Text size="sm">{error.message}</Text>
      <List size="sm" mt="xs">
        {rules.map((r) => (
          <List.Item key={r.ruleId}>
            <Link to={`/projects/${projectId}/flags/${encodeURIComponent(r.flagKey)}`}>{r.flagKey}</Link> in {r.environment} ({r.ruleId})
          </List.Item>
        ))}
      </List>
    </Alert>
  );
}

function CreateSegment({ projectId }: { projectId: string }) {
  const queryClient = useQueryClient();
  const create = useMutation({
    mutationFn: (d: SegmentDraft) => call(() => api.POST('/api/v1/projects/{project_id}/segments', {
      params: { path: { project_id: projectId } },
      body: {
        key: d.key, name: (d.name || d.key).trim(), description: d.description || null,
        conditions: toConditions(d.conditions), included: d.included, excluded: d.excluded,
      },
    })),
    onSuccess: () => { void queryClient.invalidateQueries({ queryKey: segmentsKey(projectId) }); },
  });
  return (
    <Paper withBorder p="md">
      <SegmentForm title="New segment" submit="Create segment" creating initial={emptyDraft} mutation={create} resetOnSuccess />
    </Paper>
  );
}

function EditSegment({ projectId, segment, onDone }: { projectId: string; segment: Segment; onDone: () => void }) {
  const queryClient = useQueryClient();
  const update = useMutation({
    // If-Match: a change someone made since the list was read is refused (412), not overwritten.
    mutationFn: (d: SegmentDraft) => call(() => api.PATCH('/api/v1/projects/{project_id}/segments/{segment}', {
      params: { path: { project_id: projectId, segment: segment.key }, header: { 'if-match': `"${segment.version}"` } },
      body: { name: d.name.trim(), description: d.description || null, conditions: toConditions(d.conditions), included: d.included, excluded: d.excluded },
    })),
    onSuccess: async () => { await queryClient.invalidateQueries({ queryKey: segmentsKey(projectId) }); onDone(); },
  });
  return (
    <Paper withBorder p="md" data-testid="segment-editor">
      <SegmentForm title={`Edit segment ${segment.key}`} submit="Save segment" initial={draftOf(segment)} mutation={update} onCancel={onDone} />
    </Paper>
  );
}

function SegmentForm({ title, submit, initial, creating = false, mutation, onCancel, resetOnSuccess = false }: {
  title: string; submit: string; initial: SegmentDraft; creating?: boolean; onCancel?: () => void; resetOnSuccess?: boolean;
  mutation: { mutate: (d: SegmentDraft, o?: { onSuccess?: () => void }) => void; isPending: boolean; error: unknown; reset: () => void };
}) {
  const [draft, setDraft] = useState<SegmentDraft>(initial);
  const [local, setLocal] = useState<Record<string, string>>({});
  const apiErrors = fieldErrors(mutation.error);
  const errors = { ...apiErrors, ...conditionErrorsByRow(draft.conditions, apiErrors), ...local };
  const set = (patch: Partial<SegmentDraft>) => { setDraft({ ...draft, ...patch }); setLocal({}); };
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const found = checkDraft(draft, creating);
    setLocal(found);
    if (Object.keys(found).length > 0) return;
    mutation.mutate(draft, { onSuccess: () => { if (resetOnSuccess) setDraft(initial); } });
  };
  return (
    <form noValidate onSubmit={onSubmit} aria-label={title}>
      <Stack>
        <Title order={4}>{title}</Title>
        <SimpleGrid cols={{ base: 1, sm: creating ? 2 : 1 }}>
          {creating && <TextInput label="Segment key" required description="Rules name it; it never changes" value={draft.key}
            onChange={(e) => set({ key: e.currentTarget.value })} error={errors.key} />}
          <TextInput label="Segment name" description={creating ? 'Default: the key' : undefined} value={draft.name}
            onChange={(e) => set({ name: e.currentTarget.value })} error={errors.name} />
        </SimpleGrid>
        <Textarea label="Segment description" autosize minRows={1} value={draft.description} onChange={(e) => set({ description: e.currentTarget.value })} error={errors.description} />
        <div>
          <Text size="sm" fw={500}>Conditions</Text>
          <Text size="xs" c="dimmed" mb={4}>A context is in the segment when every condition holds (after the included and excluded keys).</Text>
          <ConditionRows value={draft.conditions} onChange={(conditions) => set({ conditions })} errors={errors} />
          {errors.conditions && <Text size="sm" c="red" mt={4}>{errors.conditions}</Text>}
        </div>
        <TagsInput label="Always included (targeting keys)" value={draft.included} onChange={(included) => set({ included })} error={errors.included} />
        <TagsInput label="Always excluded (targeting keys)" value={draft.excluded} onChange={(excluded) => set({ excluded })} error={errors.excluded} />
        <FormError error={mutation.error} />
        <Group>
          <Button type="submit" loading={mutation.isPending}>{submit}</Button>
          {onCancel && <Button variant="default" onClick={() => { mutation.reset(); onCancel(); }}>Cancel</Button>}
        </Group>
      </Stack>
    </form>
  );
}
