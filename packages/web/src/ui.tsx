import { Alert, Center, Loader, Text } from '@mantine/core';
import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { ApiError } from './api.js';

/** Loading, error and empty states of one query, the same everywhere. */
export function QueryState<T>({ query, empty, isEmpty, children }: {
  query: UseQueryResult<T>; empty?: ReactNode; isEmpty?: (d: T) => boolean; children: (d: T) => ReactNode;
}) {
  if (query.isPending) return <Center h={120}><Loader aria-label="Loading" /></Center>;
  if (query.isError) return <Alert color="red" title="Could not load" role="alert">{query.error.message}</Alert>;
  if (isEmpty?.(query.data)) return <Text c="dimmed">{empty}</Text>;
  return <>{children(query.data)}</>;
}

/** The API's field errors beside the fields; the rest as one message. */
export function fieldErrors(error: unknown): Record<string, string> {
  return error instanceof ApiError ? error.fieldErrors : {};
}
export function FormError({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  return <Alert color="red" role="alert">{message}</Alert>;
}
