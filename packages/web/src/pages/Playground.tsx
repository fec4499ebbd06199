import { Alert, Badge, Button, Code, Group, JsonInput, List, Paper, Select, Stack, Table, Text, Title, VisuallyHidden } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useParams } from 'react-router-dom';
import { api, call, type Ok, type Rule } from '../api.js';
import { FormError, QueryState, fieldErrors } from '../ui.js';
import { useEnvironments } from './Flags.js';

type Run = Ok<'/api/v1/projects/{project_id}/environments/{environment_key}/evaluate', 'post'>;
type Result = Run['results'][number];
type Explanation = NonNullable<Result['explanation']>;
type RuleStep = Explanation['rules'][number];

/** The context must be a JSON object, as the API says; checked here first so a typo is not a round trip. */
function parseContext(text: string): { context?: Record<string, unknown>; error?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { error: 'Not valid JSON' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { error: 'Must be a JSON object, e.g. {"targetingKey": "user-1"}' };
  return { context: parsed as Record<string, unknown> };
}

/** Every field error the API gave about the context (`context`, `context.targetingKey`, …), as one message. */
function contextError(errors: Record<string, string>): string | undefined {
  const mine = Object.entries(errors).filter(([field]) => field === 'context' || field.startsWith('context.') || field.startsWith('context['));
  return mine.length === 0 ? undefined : mine.map(([field, message]) => (field === 'context' ? message : `${field.slice('context.'.length)}: ${message}`)).join('; ');
}

/**
 * Evaluates every flag of one environment for a context with the signed-in user's own session
 * (POST /api/v1/projects/{project}/environments/{environment}/evaluate; nothing counted in usage),
 * and explains one flag at a time: which rule matched and, condition by condition, why the others
 * did not.
 */
export default function PlaygroundPage() {
  const { projectId = '' } = useParams();
  const environments = useEnvironments(projectId);
  const [chosenEnv, setChosenEnv] = useState<string | null>(null);
  const envKey = chosenEnv ?? environments.data?.find((e) => e.key === 'production')?.key ?? environments.data?.[0]?.key ?? null;
  const [text, setText] = useState('{\n  "targetingKey": "user-1",\n  "plan": "pro"\n}');
  const [localError, setLocalError] = useState<string | undefined>();
  const [explained, setExplained] = useState<string | null>(null);

  const run = useMutation({
    mutationFn: (input: { environment: string; context: Record<string, unknown>; explain?: string }) =>
      call(() => api.POST('/api/v1/projects/{project_id}/environments/{environment_key}/evaluate', {
        params: { path: { project_id: projectId, environment_key: input.environment } },
        body: { context: input.context, ...(input.explain !== undefined ? { explain: input.explain } : {}) },
      })),
  });
  const submit = (explain?: string) => {
    const { context, error } = parseContext(text);
    setLocalError(error);
    if (context === undefined || envKey === null) return;
    setExplained(explain ?? null);
    run.mutate({ environment: envKey, context, ...(explain !== undefined ? { explain } : {}) });
  };
  const errors = fieldErrors(run.error);
  const ctxError = localError ?? contextError(errors);
  const results = run.data?.results;
  const explanation = results?.find((r) => r.flagKey === explained && r.explanation !== undefined);

  return (
    <Stack>
      <Title order={2}>Playground</Title>
      <Text size="sm" c="dimmed">Try a context against an environment with your own sign-in. Runs here are not counted in usage.</Text>
      <QueryState query={environments} isEmpty={(d) => d.length === 0} empty="This project has no environments yet.">
        {(list) => (
          <form noValidate onSubmit={(e: FormEvent) => { e.preventDefault(); submit(); }}>
            <Stack>
              <Select
                label="Environment"
                data={list.map((e) => ({ value: e.key, label: e.name }))}
                value={envKey}
                onChange={(v) => { setChosenEnv(v); run.reset(); }}
                allowDeselect={false}
                w={{ base: '100%', sm: 280 }}
              />
              <JsonInput label="Context" description="targetingKey plus any attributes, as your SDK sends them" autosize minRows={4} maxRows={16} value={text} onChange={setText} error={ctxError} validationError="Not valid JSON" spellCheck={false} />
              <FormError error={run.error && !ctxError && !errors.explain ? run.error : null} />
              {errors.explain && <Alert color="red" role="alert">{errors.explain}</Alert>}
              <Group><Button type="submit" loading={run.isPending && explained === null}>Evaluate every flag</Button></Group>
            </Stack>
          </form>
        )}
      </QueryState>
      {results && (results.length === 0 ? <Text c="dimmed">No flags in this environment yet.</Text> : (
        <Table.ScrollContainer minWidth={560}>
          <Table aria-label="Results">
            <Table.Thead><Table.Tr><Table.Th>Flag</Table.Th><Table.Th>Value</Table.Th><Table.Th>Variation</Table.Th><Table.Th>Reason</Table.Th><Table.Th>Rule</Table.Th><Table.Th><VisuallyHidden>Explain</VisuallyHidden></Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {results.map((r) => (
                <Table.Tr key={r.flagKey} bg={r.flagKey === explained ? 'var(--mantine-color-blue-light)' : undefined}>
                  <Table.Td>{r.flagKey}</Table.Td>
                  <Table.Td><Code>{JSON.stringify(r.value)}</Code></Table.Td>
                  <Table.Td>{r.variation ?? '—'}</Table.Td>
                  <Table.Td><Badge variant="light" color={r.errorCode ? 'red' : undefined} title={r.errorMessage}>{r.reason}</Badge></Table.Td>
                  <Table.Td><Text size="xs" ff="monospace">{r.ruleId ?? '—'}</Text></Table.Td>
                  <Table.Td>
                    <Button size="xs" variant="light" aria-label={`Explain ${r.flagKey}`} aria-pressed={r.flagKey === explained}
                      loading={run.isPending && explained === r.flagKey} disabled={r.errorCode === 'PARSE_ERROR'} onClick={() => submit(r.flagKey)}>Explain</Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      ))}
      {explanation && envKey && <ExplanationPanel projectId={projectId} environment={envKey} result={explanation} />}
    </Stack>
  );
}

const decided: Record<Explanation['decidedBy'], string> = {
  OFF: 'The flag is off in this environment: its off variation is served.',
  PREREQUISITE: 'A prerequisite did not resolve as required: the off variation is served.',
  TARGET: 'The targeting key is an individual target.',
  EXPRESSION: 'The flag’s targeting expression (JSONLogic) decided; there is no per-rule breakdown.',
  RULE: 'A rule matched.',
  DEFAULT: 'No rule served: the default is served.',
  ERROR: 'The flag could not be evaluated.',
};

function operand(value: unknown): string {
  return value === undefined ? '' : JSON.stringify(value);
}

/** One flag's steps, with the rule definitions from the flag's environment configuration. */
function ExplanationPanel({ projectId, environment, result }: { projectId: string; environment: string; result: Result }) {
  const e = result.explanation!;
  const config = useQuery({
    queryKey: ['project', projectId, 'flag', result.flagKey, 'env', environment],
    queryFn: () => call(() => api.GET('/api/v1/projects/{project_id}/flags/{flag_key}/environments/{environment}', {
      params: { path: { project_id: projectId, flag_key: result.flagKey, environment } },
    })),
  });
  return (
    <Paper withBorder p="md" aria-label={`Explanation of ${result.flagKey}`} role="region">
      <Stack gap="sm">
        <Title order={3}>Why {result.flagKey} is {result.variation ?? 'unset'}</Title>
        <Text>{decided[e.decidedBy]}{result.errorMessage ? ` ${result.errorMessage}` : ''}</Text>
        {e.prerequisites.length > 0 && (
          <div>
            <Text fw={600}>Prerequisites</Text>
            <List size="sm">
              {e.prerequisites.map((p) => (
                <List.Item key={p.flagKey}>
                  <Badge size="xs" color={p.passed ? 'green' : 'red'} mr={6}>{p.passed ? 'passed' : 'failed'}</Badge>
                  {p.flagKey} must serve <Code>{p.requiredVariation}</Code>; {p.enabled ? <>it served <Code>{p.variation ?? 'nothing'}</Code></> : 'it is off'}
                </List.Item>
              ))}
            </List>
          </div>
        )}
        {e.target && <Text size="sm">Individual targets: {e.target.matched ? `“${e.target.targetingKey}” is targeted.` : 'the targeting key is not among them.'}</Text>}
        {e.rules.length > 0 && (
          <QueryState query={config}>
            {(c) => (
              <Stack gap="xs">
                <Text fw={600}>Rules, in order</Text>
                {e.rules.map((step) => <RuleStepView key={step.ruleId} step={step} rule={c.rules.find((r) => r.id === step.ruleId)} />)}
              </Stack>
            )}
          </QueryState>
        )}
        {(e.decidedBy === 'DEFAULT' || e.defaultServe.rollout) && (
          <Text size="sm">Default serve: {e.defaultServe.served ? 'served' : 'not reached'}{e.defaultServe.rollout ? ` (rollout bucket ${e.defaultServe.rollout.bucket ?? 'none: the bucketing attribute is missing'} of ${e.defaultServe.rollout.totalWeight})` : ''}.</Text>
        )}
      </Stack>
    </Paper>
  );
}

const statusLabel: Record<RuleStep['status'], { label: string; color: string }> = {
  MATCHED: { label: 'matched', color: 'green' },
  NOT_MATCHED: { label: 'not matched', color: 'red' },
  NOT_EVALUATED: { label: 'not evaluated', color: 'gray' },
};

function RuleStepView({ step, rule }: { step: RuleStep; rule: Rule | undefined }) {
  const s = statusLabel[step.status];
  return (
    <Paper withBorder p="xs" data-rule={step.ruleId} role="group" aria-label={`Rule ${step.index + 1}: ${s.label}`}>
      <Group gap="xs" wrap="wrap">
        <Text size="sm" fw={600}>Rule {step.index + 1}</Text>
        <Badge size="sm" color={s.color}>{s.label}</Badge>
        {rule?.description && <Text size="sm">{rule.description}</Text>}
        <Text size="xs" c="dimmed" ff="monospace">{step.ruleId}</Text>
      </Group>
      {step.status === 'NOT_EVALUATED' && <Text size="xs" c="dimmed">An earlier rule decided.</Text>}
      {step.status !== 'NOT_EVALUATED' && (step.conditions.length > 0 || step.segments.length > 0) && (
        <List size="sm" mt={4}>
          {step.conditions.map((c) => {
            const def = rule?.conditions[c.index];
            return (
              <List.Item key={c.index} data-held={String(c.held)}>
                <Badge size="xs" variant="light" color={c.held === true ? 'green' : c.held === false ? 'red' : 'gray'} mr={6}>{c.held === true ? 'held' : c.held === false ? 'did not hold' : 'unknown'}</Badge>
                {def ? <Code>{[def.attribute, def.operator, operand(def.value)].filter(Boolean).join(' ')}</Code> : <>condition {c.index + 1}</>}
                {c.segments && ` (${c.segments.map((m) => `${m.segment}: ${m.member ? 'in' : 'not in'}`).join(', ')})`}
              </List.Item>
            );
          })}
          {step.segments.map((m) => (
            <List.Item key={`segment-${m.segment}`} data-held={String(m.member)}>
              <Badge size="xs" variant="light" color={m.member ? 'green' : 'red'} mr={6}>{m.member ? 'held' : 'did not hold'}</Badge>
              in segment <Code>{m.segment}</Code>
            </List.Item>
          ))}
        </List>
      )}
      {step.status === 'MATCHED' && step.conditions.length === 0 && step.segments.length === 0 && <Text size="xs">No conditions: it matches everyone.</Text>}
      {step.rollout && (
        <Text size="xs">Rollout: bucket {step.rollout.bucket ?? 'none (the bucketing attribute is missing, so the default serve applies)'} of {step.rollout.totalWeight}{step.rollout.variation ? `, variation ${step.rollout.variation}` : ''}.</Text>
      )}
    </Paper>
  );
}
