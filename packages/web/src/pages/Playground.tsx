import { Badge, Button, JsonInput, PasswordInput, Stack, Table, Text, Title } from '@mantine/core';
import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { FormError } from '../ui.js';

interface Result { flagKey: string; value: unknown; variation: string | null; reason: string; ruleId?: string; errorCode?: string }

/**
 * Evaluates every flag for a context through POST /api/v1/evaluate, which takes an API key (it is
 * the SDKs' endpoint): the key entered here stays in this page's memory.
 */
export default function PlaygroundPage() {
  const [key, setKey] = useState('');
  const [context, setContext] = useState('{\n  "targetingKey": "user-1",\n  "plan": "pro"\n}');
  const run = useMutation({
    mutationFn: async () => {
      const parsed = JSON.parse(context) as Record<string, unknown>;
      const res = await fetch('/api/v1/evaluate', { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify({ context: parsed }) });
      const body = await res.json() as { results?: Result[]; message?: string };
      if (!res.ok) throw new Error(body.message ?? `evaluate answered ${res.status}`);
      return body.results ?? [];
    },
  });
  return (
    <Stack>
      <Title order={2}>Playground</Title>
      <form noValidate onSubmit={(e: FormEvent) => { e.preventDefault(); run.mutate(); }}>
        <Stack>
          <PasswordInput label="Server API key of the environment" value={key} onChange={(e) => setKey(e.currentTarget.value)} />
          <JsonInput label="Context" autosize minRows={4} validationError="Not valid JSON" value={context} onChange={setContext} />
          <FormError error={run.error} />
          <Button type="submit" loading={run.isPending} disabled={!key}>Evaluate every flag</Button>
        </Stack>
      </form>
      {run.data && (run.data.length === 0 ? <Text c="dimmed">No flags in this environment.</Text> : (
        <Table.ScrollContainer minWidth={500}>
          <Table>
            <Table.Thead><Table.Tr><Table.Th>Flag</Table.Th><Table.Th>Value</Table.Th><Table.Th>Variation</Table.Th><Table.Th>Reason</Table.Th><Table.Th>Rule</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {run.data.map((r) => (
                <Table.Tr key={r.flagKey}>
                  <Table.Td>{r.flagKey}</Table.Td><Table.Td><code>{JSON.stringify(r.value)}</code></Table.Td><Table.Td>{r.variation ?? '—'}</Table.Td>
                  <Table.Td><Badge variant="light" color={r.errorCode ? 'red' : undefined}>{r.reason}</Badge></Table.Td><Table.Td>{r.ruleId ?? '—'}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      ))}
    </Stack>
  );
}
