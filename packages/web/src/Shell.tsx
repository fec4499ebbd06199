import { Anchor, AppShell, Burger, Button, Group, NavLink, Select, Text } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, Outlet, useLocation, useMatch } from 'react-router-dom';
import { api, call, setSession } from './api.js';
import { useAuth } from './auth.js';

export function Shell() {
  const [opened, { toggle, close }] = useDisclosure();
  const { signOut } = useAuth();
  const location = useLocation();
  const queryClient = useQueryClient();
  const projectMatch = useMatch('/projects/:projectId/*');
  const projectId = projectMatch?.params.projectId;
  const me = useQuery({ queryKey: ['me'], queryFn: () => call(() => api.GET('/api/v1/auth/me')) });

  const switchOrganization = async (organizationId: string | null) => {
    if (!organizationId || organizationId === me.data?.activeOrganizationId) return;
    setSession(await call(() => api.POST('/api/v1/auth/switch-organization', { body: { organizationId } })));
    queryClient.clear();
  };

  return (
    <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <Anchor component={Link} to="/" fw={700} size="xl" c="inherit" underline="never">Switchyard</Anchor>
          </Group>
          <Group wrap="nowrap" gap="xs">
            {me.data && me.data.memberships.length > 1 && (
              <Select aria-label="Organisation" size="xs" w={180} value={me.data.activeOrganizationId}
                data={me.data.memberships.map((m) => ({ value: m.organizationId, label: m.organizationName }))}
                onChange={(v) => void switchOrganization(v)} allowDeselect={false} />
            )}
            <Text size="sm" visibleFrom="sm">{me.data?.user.email}</Text>
            <Button variant="default" size="xs" onClick={() => void signOut()}>Log out</Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" onClick={close}>
        <NavLink component={Link} to="/" label="Projects" active={location.pathname === '/'} />
        {projectId && (
          <>
            <NavLink component={Link} to={`/projects/${projectId}`} label="Flags" active={location.pathname === `/projects/${projectId}`} />
            <NavLink component={Link} to={`/projects/${projectId}/segments`} label="Segments" active={location.pathname.endsWith('/segments')} />
            <NavLink component={Link} to={`/projects/${projectId}/api-keys`} label="API keys" active={location.pathname.endsWith('/api-keys')} />
            <NavLink component={Link} to={`/projects/${projectId}/audit`} label="Audit log" active={location.pathname.endsWith('/audit')} />
            <NavLink component={Link} to={`/projects/${projectId}/playground`} label="Playground" active={location.pathname.endsWith('/playground')} />
            <NavLink component={Link} to={`/projects/${projectId}/settings`} label="Settings, import, export" active={location.pathname.endsWith('/settings')} />
          </>
        )}
        <NavLink component={Link} to="/organisation" label="Organisation" active={location.pathname === '/organisation'} />
        <NavLink component={Link} to="/usage" label="Usage and billing" active={location.pathname === '/usage'} />
        <NavLink component={Link} to="/notifications" label="Notifications" active={location.pathname === '/notifications'} />
      </AppShell.Navbar>
      <AppShell.Main><Outlet /></AppShell.Main>
    </AppShell>
  );
}
