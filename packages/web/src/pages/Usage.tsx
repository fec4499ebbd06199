import { BarChart } from '@mantine/charts';
import '@mantine/charts/styles.css';
import { Alert, Button, Group, Paper, Progress, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call } from '../api.js';
import { FormError, QueryState } from '../ui.js';

// Its own chunk (with recharts): loaded when the usage page opens, never on the first page.
export default function UsagePage() {
  const usage = useQuery({ queryKey: ['usage'], queryFn: () => call(() => api.GET('/api/v1/usage')) });
  return (
    <Stack>
      <Title order={2}>Usage</Title>
      <QueryState query={usage}>
        {(u) => (
          <Stack>
            <Text size="sm" c="dimmed">Plan <b>{u.plan}</b>, {new Date(u.period.from).toLocaleDateString()} – {new Date(u.period.to).toLocaleDateString()}</Text>
            <SimpleGrid cols={{ base: 1, sm: 2, lg: 5 }}>
              {(['evaluations', 'flags', 'projects', 'members', 'apiKeys'] as const).map((k) => {
                const { used, limit } = u[k];
                return (
                  <Paper withBorder p="sm" key={k}>
                    <Text size="sm" fw={600}>{k === 'apiKeys' ? 'API keys' : k[0]!.toUpperCase() + k.slice(1)}</Text>
                    <Text size="lg">{used.toLocaleString()}{limit !== null && ` / ${limit.toLocaleString()}`}</Text>
                    {limit !== null && <Progress value={Math.min(100, (used / Math.max(1, limit)) * 100)} aria-label={`${k} used of the plan's limit`} />}
                    {limit === null && <Text size="xs" c="dimmed">no limit</Text>}
                  </Paper>
                );
              })}
            </SimpleGrid>
            <Paper withBorder p="md">
              <Title order={4} mb="sm">Evaluations per day</Title>
              {u.evaluations.byDay.length === 0 ? <Text c="dimmed">No evaluations in this period.</Text>
                : <BarChart h={240} data={u.evaluations.byDay} dataKey="day" series={[{ name: 'count', label: 'Evaluations', color: 'blue.6' }]} />}
            </Paper>
            <Paper withBorder p="md">
              <Title order={4} mb="sm">By flag</Title>
              {u.evaluations.byFlag.length === 0 ? <Text c="dimmed">No evaluations in this period.</Text> : (
                <Table><Table.Tbody>
                  {u.evaluations.byFlag.map((f) => <Table.Tr key={`${f.projectId}/${f.flagKey}`}><Table.Td>{f.projectKey}</Table.Td><Table.Td>{f.flagKey}</Table.Td><Table.Td>{f.count.toLocaleString()}</Table.Td></Table.Tr>)}
                </Table.Tbody></Table>
              )}
            </Paper>
            <Billing />
          </Stack>
        )}
      </QueryState>
    </Stack>
  );
}

function Billing() {
  const subscription = useQuery({ queryKey: ['billing'], queryFn: () => call(() => api.GET('/api/v1/billing/subscription')), retry: false });
  const me = useQuery({ queryKey: ['me'], queryFn: () => call(() => api.GET('/api/v1/auth/me')) });
  const [planId, setPlanId] = useState('pro');
  const here = `${location.origin}/app/usage`;
  const checkout = useMutation({
    mutationFn: () => call(() => api.POST('/api/v1/billing/checkout', {
      params: { header: { 'x-tenant-id': me.data?.activeOrganizationId ?? '' } },
      body: { type: 'subscription', planId, successUrl: here, cancelUrl: here },
    })),
    onSuccess: (r) => { const url = (r as { url?: string }).url; if (url) location.assign(url); },
  });
  const portal = useMutation({
    mutationFn: () => call(() => api.POST('/api/v1/billing/portal', { body: { returnUrl: here } })),
    onSuccess: (r) => location.assign(r.url),
  });
  // Billing off (self-hosted default): the API answers an error and the section says so.
  if (subscription.isError) return <Alert title="Billing">Billing is not enabled on this server.</Alert>;
  if (!subscription.data) return null;
  const s = subscription.data;
  return (
    <Paper withBorder p="md">
      <Title order={4}>Billing</Title>
      <Text size="sm">Plan {s.plan}, {s.status}{s.currentPeriodEnd && `, renews ${new Date(s.currentPeriodEnd).toLocaleDateString()}`}</Text>
      <Group mt="sm" align="flex-end">
        <TextInput label="Upgrade to plan" value={planId} onChange={(e) => setPlanId(e.currentTarget.value)} />
        <Button loading={checkout.isPending} onClick={() => checkout.mutate()}>Upgrade (checkout)</Button>
        <Button variant="default" loading={portal.isPending} onClick={() => portal.mutate()}>Billing portal</Button>
      </Group>
      <FormError error={checkout.error ?? portal.error} />
    </Paper>
  );
}
