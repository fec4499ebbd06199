import { fetchEventSource } from '@microsoft/fetch-event-source';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { getAccessToken, refreshSession, type Environment } from './api.js';

class Retry extends Error {}

/**
 * Follows /api/v1/stream for each environment of the project and refreshes the project's queries
 * when a change arrives, so edits by someone else (or through the API) show without a reload.
 * fetch-based SSE because EventSource cannot send the bearer token.
 */
export function useLiveProject(projectId: string, environments: Environment[] | undefined): void {
  const queryClient = useQueryClient();
  // Browsers allow 6 HTTP/1.1 connections per origin: at most 4 streams, so requests still get through
  // (the first environments in the project's order; the rest refresh when their queries do).
  const keys = (environments ?? []).slice(0, 4).map((e) => e.key).join(',');
  useEffect(() => {
    if (!keys) return;
    const controller = new AbortController();
    for (const environment of keys.split(',')) {
      const url = `/api/v1/stream?${new URLSearchParams({ project: projectId, environment })}`;
      const open = () => fetchEventSource(url, {
        signal: controller.signal,
        headers: { Authorization: `Bearer ${getAccessToken() ?? ''}` },
        openWhenHidden: true,
        async onopen(response) {
          if (response.status === 401 && await refreshSession()) throw new Retry();
          if (!response.ok) throw new Error(`stream answered ${response.status}`);
        },
        onmessage(message) {
          // The first `put` is the state we already fetched; later events are changes.
          if (message.event === 'put' || message.event === 'patch' || message.event === 'delete') {
            void queryClient.invalidateQueries({ queryKey: ['project', projectId] });
          }
        },
        onerror(err) {
          if (err instanceof Retry) return 1000;
          return 5000; // keep trying; a restarting server or a flaky network comes back
        },
      }).catch(() => undefined);
      void open();
    }
    return () => controller.abort();
  }, [projectId, keys, queryClient]);
}
