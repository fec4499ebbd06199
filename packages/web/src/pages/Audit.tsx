import { Accordion, Code, Group, SimpleGrid, Stack, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useParams } from 'react-router-dom';
import { api, call } from '../api.js';
import { useLiveProject } from '../live.js';
import { QueryState } from '../ui.js';
import { useEnvironments } from './Flags.js';

export default function AuditPage() {
  const { projectId = '' } = useParams();
  useLiveProject(projectId, useEnvironments(projectId).data);
  const [flag, setFlag] = useState('');
  const [debounced] = useDebouncedValue(flag, 250);
  const log = useQuery({
    queryKey: ['project', projectId, 'audit', debounced],
    queryFn: () => call(() => api.GET('/api/v1/projects/{project_id}/audit-log', { params: { path: { project_id: projectId }, query: { limit: '100', ...(debounced ? { flag: debounced } : {}) } } })),
  });
  return (
    <Stack>
      <Title order={2}>Audit log</Title>
      <TextInput label="Flag key" value={flag} onChange={(e) => setFlag(e.currentTarget.value)} w={240} />
      <QueryState query={log} isEmpty={(d) => d.length === 0} empty="Nothing recorded yet.">
        {(entries) => (
          <Accordion variant="separated">
            {entries.map((e) => (
              <Accordion.Item key={e.id} value={e.id} data-testid="audit-entry">
                <Accordion.Control>
                  <Group justify="space-between" wrap="nowrap">
                    <Text size="sm"><b>{e.action}</b> {e.resourceType} {e.resourceId ?? ''}</Text>
                    <Text size="xs" c="dimmed">{e.userName ?? e.actorType} · {new Date(e.timestamp).toLocaleString()}</Text>
                  </Group>
                </Accordion.Control>
                <Accordion.Panel>
                  <SimpleGrid cols={{ base: 1, sm: 2 }}>
                    <div><Text size="xs" fw={600}>Before</Text><Code block>{JSON.stringify(e.before, null, 2)}</Code></div>
                    <div><Text size="xs" fw={600}>After</Text><Code block>{JSON.stringify(e.after, null, 2)}</Code></div>
                  </SimpleGrid>
                </Accordion.Panel>
              </Accordion.Item>
            ))}
          </Accordion>
        )}
      </QueryState>
    </Stack>
  );
}
