import { Badge, Button, Group, Paper, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call } from '../api.js';
import { FormError, QueryState } from '../ui.js';

export default function NotificationsPage() {
  const queryClient = useQueryClient();
  const list = useQuery({ queryKey: ['notifications'], queryFn: () => call(() => api.GET('/api/v1/notifications')), refetchInterval: 30_000 });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['notifications'] });
  const read = useMutation({ mutationFn: (id: string) => call(() => api.PATCH('/api/v1/notifications/{id}/read', { params: { path: { id } } })), onSettled: refresh });
  const readAll = useMutation({ mutationFn: () => call(() => api.PATCH('/api/v1/notifications/read-all')), onSettled: refresh });
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Notifications</Title>
        <Button variant="default" onClick={() => readAll.mutate()} loading={readAll.isPending}>Mark all read</Button>
      </Group>
      <FormError error={read.error ?? readAll.error} />
      <QueryState query={list} isEmpty={(d) => d.notifications.length === 0} empty="No notifications.">
        {(d) => d.notifications.map((n) => (
          <Paper withBorder p="sm" key={n.id}>
            <Group justify="space-between">
              <div>
                <Text fw={n.read ? 400 : 700}>{n.title} {!n.read && <Badge size="xs">new</Badge>}</Text>
                {n.body && <Text size="sm">{n.body}</Text>}
                <Text size="xs" c="dimmed">{new Date(n.createdAt).toLocaleString()}</Text>
              </div>
              {!n.read && <Button size="xs" variant="subtle" onClick={() => read.mutate(n.id)}>Mark read</Button>}
            </Group>
          </Paper>
        ))}
      </QueryState>
    </Stack>
  );
}
