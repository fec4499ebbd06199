import '@mantine/core/styles.css';
import { StrictMode, Suspense, lazy } from 'react';
import { createRoot } from 'react-dom/client';
import { MantineProvider, Loader, Center } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { BrowserRouter, Navigate, Route, Routes } from 'react-router-dom';
import { AuthProvider, RequireAuth } from './auth.js';
import { Shell } from './Shell.js';
import { LoginPage, SignupPage } from './pages/Auth.js';
import { ProjectsPage } from './pages/Projects.js';

// Pages past the first one load on demand: the first page's bundle stays small.
const FlagsPage = lazy(() => import('./pages/Flags.js'));
const FlagPage = lazy(() => import('./pages/Flag.js'));
const ApiKeysPage = lazy(() => import('./pages/ApiKeys.js'));
const AuditPage = lazy(() => import('./pages/Audit.js'));

const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: 1, staleTime: 10_000, refetchOnWindowFocus: false } },
});

const loading = <Center h={200}><Loader aria-label="Loading" /></Center>;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider defaultColorScheme="light">
      <QueryClientProvider client={queryClient}>
        <BrowserRouter basename="/app">
          <AuthProvider>
            <Suspense fallback={loading}>
              <Routes>
                <Route path="/login" element={<LoginPage />} />
                <Route path="/signup" element={<SignupPage />} />
                <Route element={<RequireAuth><Shell /></RequireAuth>}>
                  <Route index element={<ProjectsPage />} />
                  <Route path="projects/:projectId" element={<FlagsPage />} />
                  <Route path="projects/:projectId/flags/:flagKey" element={<FlagPage />} />
                  <Route path="projects/:projectId/api-keys" element={<ApiKeysPage />} />
                  <Route path="projects/:projectId/audit" element={<AuditPage />} />
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
