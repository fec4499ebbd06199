import { BarChart } from '@mantine/charts';
import '@mantine/charts/styles.css';
import { Alert, Button, Group, Paper, Progress, Select, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call, type Ok } from '../api.js';
import { FormError, QueryState } from '../ui.js';

type Usage = Ok<'/api/v1/usage', 'get'>;
type FlagUsage = Ok<'/api/v1/projects/{project_id}/flags/{flag_key}/usage', 'get'>;
type VariationCount = FlagUsage['variations'][number];

const palette = ['blue.6', 'teal.6', 'orange.6', 'grape.6', 'red.6', 'cyan.6', 'lime.7', 'pink.6', 'indigo.6', 'yellow.7'];
/** Evaluations that served no variation (errors) come back as null; the chart needs a key and a name. */
const seriesKey = (v: VariationCount['variation']) => v ?? '(none)';
const variationLabel = (v: VariationCount['variation']) => v ?? 'no variation (errors)';
const flagId = (f: { projectId: string; flagKey: string }) => `${f.projectId}/${f.flagKey}`;

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
            <FlagVariations usage={u} />
            <Paper withBorder p="md">
              <Title order={4} mb="sm">By flag and variation</Title>
              {u.evaluations.byFlagVariation.length === 0 ? <Text c="dimmed">No evaluations in this period.</Text> : (
                <Table.ScrollContainer minWidth={300}>
                  <Table data-testid="usage-by-flag">
                    <Table.Thead><Table.Tr><Table.Th>Project</Table.Th><Table.Th>Flag</Table.Th><Table.Th>Evaluations</Table.Th><Table.Th>Per variation</Table.Th></Table.Tr></Table.Thead>
                    <Table.Tbody>
                      {u.evaluations.byFlagVariation.map((f) => (
                        <Table.Tr key={flagId(f)}>
                          <Table.Td>{f.projectKey}</Table.Td>
                          <Table.Td>{f.flagKey}</Table.Td>
                          <Table.Td>{f.count.toLocaleString()}</Table.Td>
                          <Table.Td>
                            <Text size="sm">{f.variations.map((v) => `${variationLabel(v.variation)}: ${v.count.toLocaleString()}`).join(' · ')}</Text>
                          </Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
              )}
            </Paper>
            <Billing />
          </Stack>
        )}
      </QueryState>
    </Stack>
  );
}

/** One flag's evaluations per day, stacked by the variation served, for a flag chosen among those with usage. */
function FlagVariations({ usage }: { usage: Usage }) {
  const flags = usage.evaluations.byFlagVariation;
  const [chosen, setChosen] = useState<string | null>(null);
  const flag = flags.find((f) => flagId(f) === chosen) ?? flags[0];
  const { from, to } = usage.period;
  const report = useQuery({
    queryKey: ['usage', 'flag', flag?.projectId, flag?.flagKey, from, to],
    enabled: flag !== undefined,
    queryFn: () => call(() => api.GET('/api/v1/projects/{project_id}/flags/{flag_key}/usage', {
      params: { path: { project_id: flag!.projectId, flag_key: flag!.flagKey }, query: { from, to } },
    })),
  });
  return (
    <Paper withBorder p="md">
      <Stack>
        <Title order={4}>Evaluations per variation</Title>
        {flag === undefined ? <Text c="dimmed">No flag was evaluated in this period.</Text> : (
          <>
            <Select label="Flag" description="Flags evaluated in this period" data={flags.map((f) => ({ value: flagId(f), label: `${f.projectKey} / ${f.flagKey}` }))}
              value={flagId(flag)} onChange={setChosen} allowDeselect={false} searchable maw={400} />
            <QueryState query={report}>
              {(r) => {
                const series = r.variations.map((v, i) => ({ name: seriesKey(v.variation), label: variationLabel(v.variation), color: v.variation === null ? 'red.8' : palette[i % palette.length]! }));
                const data = r.byDay.map((d) => ({ day: d.day, ...Object.fromEntries(d.variations.map((v) => [seriesKey(v.variation), v.count])) }));
                return (
                  <Stack>
                    <div role="figure" aria-label={`Evaluations of ${r.flagKey} per day, stacked by variation`} data-testid="flag-variation-chart">
                      <BarChart h={260} data={data} dataKey="day" type="stacked" series={series} withLegend legendProps={{ verticalAlign: 'bottom' }} />
                    </div>
                    <Table.ScrollContainer minWidth={300}>
                      <Table data-testid="flag-variation-totals">
                        <Table.Caption>{r.used.toLocaleString()} evaluations of {r.flagKey} from {r.period.from} to {r.period.to}</Table.Caption>
                        <Table.Thead><Table.Tr><Table.Th>Variation</Table.Th><Table.Th>Evaluations</Table.Th><Table.Th>Share</Table.Th></Table.Tr></Table.Thead>
                        <Table.Tbody>
                          {r.variations.map((v) => (
                            <Table.Tr key={seriesKey(v.variation)}>
                              <Table.Td>{variationLabel(v.variation)}</Table.Td>
                              <Table.Td>{v.count.toLocaleString()}</Table.Td>
                              <Table.Td>{r.used === 0 ? '–' : `${Math.round((v.count / r.used) * 1000) / 10}%`}</Table.Td>
                            </Table.Tr>
                          ))}
                        </Table.Tbody>
                      </Table>
                    </Table.ScrollContainer>
                  </Stack>
                );
              }}
            </QueryState>
          </>
        )}
      </Stack>
    </Paper>
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
