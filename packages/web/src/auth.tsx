import { createContext, useContext, useEffect, useState, useSyncExternalStore, type ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router-dom';
import { Center, Loader } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { api, call, getAccessToken, onSessionChange, refreshSession, setSession, type SignedIn } from './api.js';

interface Auth { signedIn: boolean; restoring: boolean; signIn(s: SignedIn): void; signOut(): Promise<void> }
const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const token = useSyncExternalStore(onSessionChange, getAccessToken);
  // A reload keeps the refresh token only: exchange it before deciding the user is signed out.
  const [restoring, setRestoring] = useState(() => token === null);
  const queryClient = useQueryClient();
  useEffect(() => {
    if (!restoring) return;
    void refreshSession().finally(() => setRestoring(false));
  }, [restoring]);
  const value: Auth = {
    signedIn: token !== null,
    restoring,
    signIn: (s) => { queryClient.clear(); setSession(s); },
    signOut: async () => {
      await call(() => api.POST('/api/v1/auth/logout')).catch(() => undefined);
      setSession(null);
      queryClient.clear();
    },
  };
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const a = useContext(AuthContext);
  if (!a) throw new Error('useAuth outside AuthProvider');
  return a;
}

export function RequireAuth({ children }: { children: ReactNode }) {
  const { signedIn, restoring } = useAuth();
  const location = useLocation();
  if (restoring) return <Center h={200}><Loader aria-label="Loading" /></Center>;
  if (!signedIn) return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  return <>{children}</>;
}
