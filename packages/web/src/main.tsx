import '@mantine/core/styles.css';
import { StrictMode, Suspense, lazy } from 'react';
import { createRoot } from 'react-dom/client';
import { MantineProvider, Loader, Center } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router-dom';
import { AuthProvider, RequireAuth } from './auth.js';
import { Shell } from './Shell.js';
import { AcceptInvitationPage, ForgotPasswordPage, LoginPage, ResetPasswordPage, SignupPage } from './pages/Auth.js';
import { ProjectsPage } from './pages/Projects.js';
import { cssVariablesResolver, theme } from './theme.js';

// Pages past the first one load on demand: the first page's bundle stays small.
const FlagsPage = lazy(() => import('./pages/Flags.js'));
const FlagPage = lazy(() => import('./pages/Flag.js'));
const ApiKeysPage = lazy(() => import('./pages/ApiKeys.js'));
const AuditPage = lazy(() => import('./pages/Audit.js'));
const SegmentsPage = lazy(() => import('./pages/Segments.js'));
const SettingsPage = lazy(() => import('./pages/Settings.js'));
const OrganisationPage = lazy(() => import('./pages/Organisation.js'));
const PlaygroundPage = lazy(() => import('./pages/Playground.js'));
const UsagePage = lazy(() => import('./pages/Usage.js'));
const NotificationsPage = lazy(() => import('./pages/Notifications.js'));

const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: 1, staleTime: 10_000, refetchOnWindowFocus: false } },
});

const loading = <Center h={200}><Loader aria-label="Loading" /></Center>;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider defaultColorScheme="light" theme={theme} cssVariablesResolver={cssVariablesResolver}>
      <QueryClientProvider client={queryClient}>
        <BrowserRouter basename="/app">
          <AuthProvider>
            <Suspense fallback={loading}>
              <Routes>
                <Route path="/login" element={<LoginPage />} />
                <Route path="/signup" element={<SignupPage />} />
                <Route path="/forgot-password" element={<ForgotPasswordPage />} />
                <Route path="/reset-password" element={<ResetPasswordPage />} />
                <Route path="/invitations/accept" element={<AcceptInvitationPage />} />
                <Route element={<RequireAuth><Shell /></RequireAuth>}>
                  <Route index element={<ProjectsPage />} />
                  <Route path="projects/:projectId" element={<FlagsPage />} />
                  <Route path="projects/:projectId/flags/:flagKey" element={<FlagPage />} />
                  <Route path="projects/:projectId/api-keys" element={<ApiKeysPage />} />
                  <Route path="projects/:projectId/audit" element={<AuditPage />} />
                  <Route path="projects/:projectId/segments" element={<SegmentsPage />} />
                  <Route path="projects/:projectId/settings" element={<SettingsPage />} />
                  <Route path="projects/:projectId/playground" element={<PlaygroundPage />} />
                  <Route path="organisation" element={<OrganisationPage />} />
                  <Route path="usage" element={<UsagePage />} />
                  <Route path="notifications" element={<NotificationsPage />} />
                </Route>
                <Route path="*" element={<Navigate to="/" replace />} />
              </Routes>
            </Suspense>
          </AuthProvider>
        </BrowserRouter>
      </QueryClientProvider>
    </MantineProvider>
  </StrictMode>,
);
