import { ActionIcon, Alert, Badge, Button, Code, Group, Modal, MultiSelect, NumberInput, Paper, SegmentedControl, Select, Stack, Switch, Table, Tabs, TagsInput, Text, TextInput, Title } from '@mantine/core';
import { DndContext, KeyboardSensor, PointerSensor, closestCenter, useSensor, useSensors, type DragEndEvent } from '@dnd-kit/core';
import { SortableContext, arrayMove, sortableKeyboardCoordinates, useSortable, verticalListSortingStrategy } from '@dnd-kit/sortable';
import { CSS } from '@dnd-kit/utilities';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import { useNavigate, useParams } from 'react-router-dom';
import { api, call, type Flag, type FlagEnvironment, type Rule } from '../api.js';
import { useLiveProject } from '../live.js';
import { ConfirmDelete, FormError, QueryState, fieldErrors } from '../ui.js';
import { ConditionRows, blankCondition, checkConditions, conditionErrorsByRow, describeCondition, fromCondition, toConditions, type ConditionDraft } from '../conditions.js';
import { Variations } from './FlagVariations.js';
import { useEnvironments } from './Flags.js';

type Serve = Rule['serve'];

export default function FlagPage() {
  const { projectId = '', flagKey = '' } = useParams();
  const environments = useEnvironments(projectId);
  useLiveProject(projectId, environments.data);
  const flag = useQuery({
    queryKey: ['project', projectId, 'flag', flagKey],
    queryFn: () => call(() => api.GET('/api/v1/projects/{project_id}/flags/{flag_key}', { params: { path: { project_id: projectId, flag_key: flagKey } } })),
  });
  const [environment, setEnvironment] = useState<string | null>(null);
  const envKey = environment ?? environments.data?.find((e) => e.key === 'production')?.key ?? environments.data?.[0]?.key ?? null;
  return (
    <QueryState query={flag}>
      {(f) => (
        <Stack>
          <FlagHeader projectId={projectId} flag={f} />
          <Tabs defaultValue="targeting">
            <Tabs.List>
              <Tabs.Tab value="targeting">Targeting</Tabs.Tab>
              <Tabs.Tab value="variations">Variations</Tabs.Tab>
              <Tabs.Tab value="history">History</Tabs.Tab>
            </Tabs.List>
            <Tabs.Panel value="targeting" pt="md">
              <QueryState query={environments}>
                {(envs) => (
                  <Stack>
                    <SegmentedControl aria-label="Environment" value={envKey ?? ''} onChange={setEnvironment}
                      data={envs.map((e) => ({ value: e.key, label: e.name }))} />
                    {envKey && <Targeting projectId={projectId} flag={f} environment={envKey} />}
                  </Stack>
                )}
              </QueryState>
            </Tabs.Panel>
            <Tabs.Panel value="variations" pt="md"><Variations projectId={projectId} flag={f} /></Tabs.Panel>
            <Tabs.Panel value="history" pt="md"><History projectId={projectId} flagKey={flagKey} /></Tabs.Panel>
          </Tabs>
        </Stack>
      )}
    </QueryState>
  );
}

function FlagHeader({ projectId, flag }: { projectId: string; flag: Flag }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [confirm, setConfirm] = useState(false);
  const [editing, setEditing] = useState(false);
  const path = { project_id: projectId, flag_key: flag.key };
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['project', projectId] });
  const archive = useMutation({
    mutationFn: () => call(() => flag.status === 'archived'
      ? api.POST('/api/v1/projects/{project_id}/flags/{flag_key}/restore', { params: { path } })
      : api.POST('/api/v1/projects/{project_id}/flags/{flag_key}/archive', { params: { path } })),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: () => call(() => api.DELETE('/api/v1/projects/{project_id}/flags/{flag_key}', { params: { path } })),
    onSuccess: () => { void refresh(); navigate(`/projects/${projectId}`); },
  });
  return (
    <Group justify="space-between">
      <div>
        <Title order={2}>{flag.name}</Title>
        <Text size="sm" c="dimmed">{flag.key} · {flag.type} · {flag.status}</Text>
      </div>
      <Group>
        <Button variant="default" onClick={() => setEditing(true)}>Edit</Button>
        <Button variant="default" loading={archive.isPending} onClick={() => archive.mutate()}>{flag.status === 'archived' ? 'Restore' : 'Archive'}</Button>
        <Button color="red" variant="light" onClick={() => setConfirm(true)}>Delete</Button>
      </Group>
      <FormError error={archive.error} />
      <Modal opened={editing} onClose={() => setEditing(false)} title="Edit flag"><EditFlag projectId={projectId} flag={flag} onDone={() => setEditing(false)} /></Modal>
      <ConfirmDelete opened={confirm} title="Delete flag?" onCancel={() => setConfirm(false)} onConfirm={() => remove.mutate()} pending={remove.isPending}>
        <Text>Delete <b>{flag.key}</b> in every environment? SDKs asking for it get their default.</Text>
        <FormError error={remove.error} />
      </ConfirmDelete>
    </Group>
  );
}

function EditFlag({ projectId, flag, onDone }: { projectId: string; flag: Flag; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(flag.name);
  const [description, setDescription] = useState(flag.description ?? '');
  const [tags, setTags] = useState(flag.tags);
  const [defaultVariation, setDefaultVariation] = useState<string | null>(flag.defaultVariation);
  const save = useMutation({
    mutationFn: () => call(() => api.PATCH('/api/v1/projects/{project_id}/flags/{flag_key}', {
      params: { path: { project_id: projectId, flag_key: flag.key } },
      body: { name, description: description || null, tags, ...(defaultVariation ? { defaultVariation } : {}) },
    })),
    onSuccess: () => { void queryClient.invalidateQueries({ queryKey: ['project', projectId] }); onDone(); },
  });
  const errors = fieldErrors(save.error);
  return (
    <form noValidate onSubmit={(e: FormEvent) => { e.preventDefault(); save.mutate(); }}>
      <Stack>
        <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} error={errors.name} />
        <TextInput label="Description" value={description} onChange={(e) => setDescription(e.currentTarget.value)} error={errors.description} />
        <TagsInput label="Tags" value={tags} onChange={setTags} error={errors.tags} />
        <Select label="Default variation" data={flag.variations.map((v) => v.key)} value={defaultVariation} onChange={setDefaultVariation} error={errors.defaultVariation} />
        <FormError error={save.error} />
        <Button type="submit" loading={save.isPending}>Save</Button>
      </Stack>
    </form>
  );
}

function Targeting({ projectId, flag, environment }: { projectId: string; flag: Flag; environment: string }) {
  const config = useQuery({
    queryKey: ['project', projectId, 'flag', flag.key, 'env', environment],
    queryFn: () => call(() => api.GET('/api/v1/projects/{project_id}/flags/{flag_key}/environments/{environment}', { params: { path: { project_id: projectId, flag_key: flag.key, environment } } })),
  });
  return (
    <QueryState query={config}>
      {(c) => (
        <Stack>
          <Settings projectId={projectId} flag={flag} config={c} />
          <Rules projectId={projectId} flag={flag} config={c} />
        </Stack>
      )}
    </QueryState>
  );
}

/** Before/after of a change, shown before it is saved. */
function Diff({ before, after }: { before: unknown; after: unknown }) {
  const a = JSON.stringify(before, null, 2).split('\n');
  const b = JSON.stringify(after, null, 2).split('\n');
  return (
    <Code block aria-label="Changes">
      {b.map((line, i) => a[i] === line ? `  ${line}\n` : `${a[i] !== undefined ? `- ${a[i]}\n` : ''}+ ${line}\n`).join('')}
      {a.slice(b.length).map((line) => `- ${line}\n`).join('')}
    </Code>
  );
}

function Settings({ projectId, flag, config }: { projectId: string; flag: Flag; config: FlagEnvironment }) {
  const queryClient = useQueryClient();
  const initial = {
    enabled: config.enabled,
    offVariation: config.offVariation,
    targets: config.targets,
    prerequisites: config.prerequisites,
  };
  const [draft, setDraft] = useState(initial);
  const [reviewing, setReviewing] = useState(false);
  const variations = flag.variations.map((v) => v.key);
  const save = useMutation({
    mutationFn: () => call(() => api.PUT('/api/v1/projects/{project_id}/flags/{flag_key}/environments/{environment}', {
      params: { path: { project_id: projectId, flag_key: flag.key, environment: config.environment } }, body: draft,
    })),
    onSuccess: () => { setReviewing(false); void queryClient.invalidateQueries({ queryKey: ['project', projectId] }); },
  });
  const errors = fieldErrors(save.error);
  const targetFor = (variation: string) => draft.targets.find((t) => t.variation === variation)?.values.join(', ') ?? '';
  const setTarget = (variation: string, text: string) => {
    const values = text.split(',').map((s) => s.trim()).filter(Boolean);
    const others = draft.targets.filter((t) => t.variation !== variation);
    setDraft({ ...draft, targets: values.length ? [...others, { variation, values }] : others });
  };
  const changed = JSON.stringify(draft) !== JSON.stringify(initial);
  return (
    <Paper withBorder p="md">
      <Stack>
        <Group>
          <Switch label={`Enabled in ${config.environment}`} checked={draft.enabled} onChange={(e) => setDraft({ ...draft, enabled: e.currentTarget.checked })} />
          <Select label="Off variation" data={variations} value={draft.offVariation} clearable onChange={(v) => setDraft({ ...draft, offVariation: v })} error={errors.offVariation} w={200} />
        </Group>
        <Text fw={600} size="sm">Individual targets</Text>
        {variations.map((v) => (
          <TextInput key={v} label={`Serve ${v} to`} placeholder="targeting keys, comma-separated" value={targetFor(v)} onChange={(e) => setTarget(v, e.currentTarget.value)} />
        ))}
        <Prerequisites projectId={projectId} value={draft.prerequisites} onChange={(prerequisites) => setDraft({ ...draft, prerequisites })} />
        <Text c="red" size="sm">{errors.targets ?? errors.prerequisites}</Text>
        <Group>
          <Button disabled={!changed} onClick={() => setReviewing(true)}>Review changes</Button>
          {changed && <Button variant="subtle" onClick={() => setDraft(initial)}>Discard</Button>}
        </Group>
      </Stack>
      <Modal opened={reviewing} onClose={() => setReviewing(false)} title="Save these changes?" size="lg">
        <Stack>
          <Diff before={initial} after={draft} />
          <FormError error={save.error} />
          <Button loading={save.isPending} onClick={() => save.mutate()}>Save</Button>
        </Stack>
      </Modal>
    </Paper>
  );
}

function Prerequisites({ projectId, value, onChange }: { projectId: string; value: FlagEnvironment['prerequisites']; onChange: (v: FlagEnvironment['prerequisites']) => void }) {
  const flags = useQuery({
    queryKey: ['project', projectId, 'flags', 'all'],
    queryFn: () => call(() => api.GET('/api/v1/projects/{project_id}/flags', { params: { path: { project_id: projectId }, query: { limit: '200' } } })),
  });
  const [flag, setFlag] = useState<string | null>(null);
  const [variation, setVariation] = useState<string | null>(null);
  const chosen = flags.data?.find((f) => f.key === flag);
  return (
    <Stack gap="xs">
      <Text fw={600} size="sm">Prerequisites</Text>
      {value.map((p, i) => (
        <Group key={p.flag}>
          <Text size="sm">{p.flag} is {p.variation}</Text>
          <ActionIcon variant="subtle" color="red" aria-label={`Remove prerequisite ${p.flag}`} onClick={() => onChange(value.filter((_, j) => j !== i))}>×</ActionIcon>
        </Group>
      ))}
      <Group align="flex-end">
        <Select label="Prerequisite flag" data={(flags.data ?? []).map((f) => f.key)} value={flag} onChange={setFlag} searchable w={200} />
        <Select label="Must serve" data={(chosen?.variations ?? []).map((v) => v.key)} value={variation} onChange={setVariation} w={160} />
        <Button variant="default" disabled={!flag || !variation} onClick={() => { onChange([...value, { flag: flag!, variation: variation! }]); setFlag(null); setVariation(null); }}>Add</Button>
      </Group>
    </Stack>
  );
}

function describeServe(serve: Serve): string {
  if (serve.variation) return `serve ${serve.variation}`;
  return `rollout ${(serve.rollout?.variations ?? []).map((v) => `${v.variation} ${v.weight}%`).join(' / ')}`;
}

function SortableRule({ rule, onEdit, onDelete, editor }: { rule: Rule; onEdit: () => void; onDelete: () => void; editor: ReactNode }) {
  const { attributes, listeners, setNodeRef, transform, transition } = useSortable({ id: rule.id });
  return (
    <Paper withBorder p="sm" ref={setNodeRef} style={{ transform: CSS.Transform.toString(transform), transition }} data-testid="rule">
      <Group justify="space-between" wrap="nowrap" align="flex-start">
        <Group wrap="nowrap" align="flex-start" style={{ minWidth: 0 }}>
          <ActionIcon variant="subtle" aria-label={`Drag rule ${rule.description ?? rule.id} (space, then arrow keys)`} {...attributes} {...listeners}>⋮⋮</ActionIcon>
          <div style={{ minWidth: 0, overflowWrap: 'anywhere' }}>
            <Text size="sm">{rule.conditions.map(describeCondition).join(' and ') || 'everyone'}
              {rule.segments.length > 0 && ` in segments ${rule.segments.join(', ')}`}</Text>
            <Badge variant="light">{describeServe(rule.serve)}</Badge>
          </div>
        </Group>
        <Group gap={4} wrap="nowrap">
          <Button size="xs" variant="subtle" aria-label={`Edit rule ${rule.priority}`} disabled={editor !== null} onClick={onEdit}>Edit</Button>
          <ActionIcon variant="subtle" color="red" aria-label={`Delete rule ${rule.id}`} onClick={onDelete}>×</ActionIcon>
        </Group>
      </Group>
      {editor}
    </Paper>
  );
}

function Rules({ projectId, flag, config }: { projectId: string; flag: Flag; config: FlagEnvironment }) {
  const queryClient = useQueryClient();
  const [order, setOrder] = useState<string[] | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const rules = order ? order.map((id) => config.rules.find((r) => r.id === id)!).filter(Boolean) : config.rules;
  const sensors = useSensors(useSensor(PointerSensor), useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }));
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['project', projectId] });
  const reorder = useMutation({
    mutationFn: (ruleIds: string[]) => call(() => api.PUT('/api/v1/projects/{project_id}/rules/order', {
      params: { path: { project_id: projectId } }, body: { flag: flag.key, environment: config.environment, ruleIds },
    })),
    onSuccess: async () => { await refresh(); setOrder(null); },
  });
  const remove = useMutation({
    mutationFn: (ruleId: string) => call(() => api.DELETE('/api/v1/projects/{project_id}/rules/{rule_id}', { params: { path: { project_id: projectId, rule_id: ruleId } } })),
    onSuccess: refresh,
  });
  const onDragEnd = ({ active, over }: DragEndEvent) => {
    if (!over || active.id === over.id) return;
    const ids = rules.map((r) => r.id);
    setOrder(arrayMove(ids, ids.indexOf(String(active.id)), ids.indexOf(String(over.id))));
  };
  return (
    <Paper withBorder p="md">
      <Stack>
        <Title order={4}>Rules</Title>
        {rules.length === 0 && <Text c="dimmed">No rules: everyone gets the default.</Text>}
        <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={onDragEnd}>
          <SortableContext items={rules.map((r) => r.id)} strategy={verticalListSortingStrategy}>
            {rules.map((r) => (
              <SortableRule key={r.id} rule={r} onEdit={() => setEditing(r.id)} onDelete={() => remove.mutate(r.id)}
                editor={editing === r.id
                  ? <RuleForm projectId={projectId} flag={flag} environment={config.environment} rule={r} version={config.version} onDone={() => setEditing(null)} />
                  : null} />
            ))}
          </SortableContext>
        </DndContext>
        {order && (
          <Alert title="New order, not saved yet">
            <Diff before={config.rules.map((r) => r.description ?? r.id)} after={rules.map((r) => r.description ?? r.id)} />
            <Group mt="xs">
              <Button loading={reorder.isPending} onClick={() => reorder.mutate(order)}>Save order</Button>
              <Button variant="subtle" onClick={() => setOrder(null)}>Discard</Button>
            </Group>
            <FormError error={reorder.error} />
          </Alert>
        )}
        <FormError error={remove.error} />
        <RuleForm projectId={projectId} flag={flag} environment={config.environment} />
      </Stack>
    </Paper>
  );
}

/**
 * The rule editor: empty to add a rule, or prefilled from `rule` to change it in place (PATCH, with
 * the configuration's version as If-Match, so a change someone made meanwhile is refused, not lost).
 */
function RuleForm({ projectId, flag, environment, rule, version, onDone }: {
  projectId: string; flag: Flag; environment: string; rule?: Rule; version?: number; onDone?: () => void;
}) {
  const queryClient = useQueryClient();
  const variations = flag.variations.map((v) => v.key);
  const segments = useQuery({
    queryKey: ['project', projectId, 'segments'],
    queryFn: () => call(() => api.GET('/api/v1/projects/{project_id}/segments', { params: { path: { project_id: projectId } } })),
  });
  const rollout = rule?.serve.rollout;
  // Segment-membership conditions (IN_SEGMENT, set through the API) have no row in the editor: they
  // are sent back as they are, after the rows, so the API's `conditions.N` still numbers the rows.
  const membership = (rule?.conditions ?? []).filter((c) => c.operator === 'IN_SEGMENT' || c.operator === 'NOT_IN_SEGMENT');
  const editable = (rule?.conditions ?? []).filter((c) => !membership.includes(c));
  const [conditions, setConditions] = useState<ConditionDraft[]>(() => editable.length ? editable.map(fromCondition) : [blankCondition]);
  const [segmentKeys, setSegmentKeys] = useState<string[]>(rule?.segments ?? []);
  const [mode, setMode] = useState<'variation' | 'rollout'>(rollout ? 'rollout' : 'variation');
  const [variation, setVariation] = useState<string | null>(rule?.serve.variation ?? variations[0] ?? null);
  const [weights, setWeights] = useState<Record<string, number>>(() => rollout
    ? Object.fromEntries(variations.map((v) => [v, rollout.variations.find((x) => x.variation === v)?.weight ?? 0]))
    : Object.fromEntries(variations.map((v, i) => [v, i === 0 ? 100 : 0])));
  const [description, setDescription] = useState(rule?.description ?? '');
  const [reviewing, setReviewing] = useState(false);
  const total = Object.values(weights).reduce((a, b) => a + b, 0);
  const serve: Serve = mode === 'variation'
    ? { variation: variation ?? '' }
    : {
      rollout: {
        variations: variations.map((v) => ({ variation: v, weight: weights[v] ?? 0 })),
        // A stored rollout keeps its bucketing: changing it would reshuffle who gets what.
        ...(rollout?.bucketBy !== undefined ? { bucketBy: rollout.bucketBy } : {}),
        ...(rollout?.salt !== undefined ? { salt: rollout.salt } : {}),
      },
    };
  const changes = { description: description || null, conditions: [...toConditions(conditions), ...membership], segments: segmentKeys, serve };
  const body = { flag: flag.key, environment, ...changes };
  const save = useMutation({
    mutationFn: () => rule
      ? call(() => api.PATCH('/api/v1/projects/{project_id}/rules/{rule_id}', {
        params: { path: { project_id: projectId, rule_id: rule.id }, header: version !== undefined ? { 'if-match': `"${version}"` } : {} },
        body: changes,
      }))
      : call(() => api.POST('/api/v1/projects/{project_id}/rules', { params: { path: { project_id: projectId } }, body })),
    onSuccess: () => {
      setReviewing(false);
      if (!rule) { setConditions([blankCondition]); setSegmentKeys([]); setDescription(''); }
      void queryClient.invalidateQueries({ queryKey: ['project', projectId] });
      onDone?.();
    },
  });
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const errors = fieldErrors(save.error);
  const conditionErrors = { ...conditionErrorsByRow(conditions, errors), ...localErrors };
  const rolloutInvalid = mode === 'rollout' && total !== 100;
  // The API names a refused split on the list (`serve.rollout.variations`) or on one entry of it.
  const rolloutError = errors['serve.rollout.variations'] ?? errors['serve.rollout'] ?? errors.serve;
  const weightError = (i: number) => errors[`serve.rollout.variations.${i}.weight`] ?? errors[`serve.rollout.variations.${i}.variation`] ?? errors[`serve.rollout.variations.${i}`];
  const segmentError = errors.segments ?? Object.entries(errors).find(([k]) => k.startsWith('segments.'))?.[1];
  const title = rule ? `Edit rule ${rule.priority}` : 'Add a rule';
  const before = rule ? { description: rule.description, conditions: rule.conditions, segments: rule.segments, serve: rule.serve } : {};
  return (
    <form noValidate aria-label={title} onSubmit={(e: FormEvent) => {
      e.preventDefault();
      const local = checkConditions(conditions);
      setLocalErrors(local);
      if (!rolloutInvalid && Object.keys(local).length === 0) setReviewing(true);
    }}><Stack mt={rule ? 'sm' : 0}>
      <Title order={5}>{title}</Title>
      <TextInput label="Rule description" value={description} onChange={(e) => setDescription(e.currentTarget.value)} error={errors.description} />
      <ConditionRows value={conditions} onChange={(v) => { setConditions(v); setLocalErrors({}); }} errors={conditionErrors} />
      {membership.length > 0 && <Text size="sm" c="dimmed">Kept as they are: {membership.map(describeCondition).join(' and ')}</Text>}
      {errors.conditions && <Text size="sm" c="red">{errors.conditions}</Text>}
      <MultiSelect label="In segments" data={[...new Set([...(segments.data ?? []).map((s) => s.key), ...segmentKeys])]} value={segmentKeys} onChange={setSegmentKeys} error={segmentError} />
      <SegmentedControl aria-label="Serve" value={mode} onChange={(v) => setMode(v as 'variation' | 'rollout')} data={[{ value: 'variation', label: 'A variation' }, { value: 'rollout', label: 'A rollout' }]} />
      {mode === 'variation'
        ? <Select label="Serve variation" data={variations} value={variation} onChange={setVariation} allowDeselect={false} error={errors['serve.variation'] ?? errors.serve} />
        : (
          <Table>
            <Table.Tbody>
              {variations.map((v, i) => (
                <Table.Tr key={v}>
                  <Table.Td>{v}</Table.Td>
                  <Table.Td><NumberInput aria-label={`Weight of ${v} (%)`} min={0} max={100} suffix="%" value={weights[v] ?? 0}
                    onChange={(n) => setWeights({ ...weights, [v]: Number(n) || 0 })} error={weightError(i)} /></Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
            <Table.Caption c={rolloutInvalid || rolloutError ? 'red' : undefined} aria-live="polite">
              Total {total}%{rolloutInvalid ? ' — weights must total 100%' : ''}{rolloutError ? ` — ${rolloutError}` : ''}
            </Table.Caption>
          </Table>
        )}
      <Group>
        <Button type="submit" disabled={rolloutInvalid}>{rule ? 'Review rule changes' : 'Review rule'}</Button>
        {onDone && <Button variant="subtle" onClick={onDone}>Cancel</Button>}
      </Group>
      <FormError error={save.error} />
      <Modal opened={reviewing} onClose={() => setReviewing(false)} title={rule ? 'Change this rule?' : 'Add this rule?'} size="lg">
        <Stack>
          <Diff before={before} after={rule ? changes : body} />
          <FormError error={save.error} />
          <Button loading={save.isPending} onClick={() => save.mutate()}>{rule ? 'Save changes' : 'Save rule'}</Button>
        </Stack>
      </Modal>
    </Stack></form>
  );
}

function History({ projectId, flagKey }: { projectId: string; flagKey: string }) {
  const history = useQuery({
    queryKey: ['project', projectId, 'flag', flagKey, 'history'],
    queryFn: () => call(() => api.GET('/api/v1/projects/{project_id}/flags/{flag_key}/history', { params: { path: { project_id: projectId, flag_key: flagKey } } })),
  });
  return (
    <QueryState query={history} isEmpty={(d) => (Array.isArray(d) ? d.length : 1) === 0} empty="No history yet.">
      {(entries) => <Code block>{JSON.stringify(entries, null, 2)}</Code>}
    </QueryState>
  );
}
