import { Alert, Button, Center, Group, Loader, Modal, Stack, Text } from '@mantine/core';
import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { ApiError } from './api.js';

/** A delete confirmation, the same everywhere: what goes (and the API's refusal, as children), Cancel, the red button. */
export function ConfirmDelete({ opened, title, onCancel, onConfirm, pending, label = 'Delete', children }: {
  opened: boolean; title: string; onCancel: () => void; onConfirm: () => void; pending: boolean; label?: string; children: ReactNode;
}) {
  return (
    <Modal opened={opened} onClose={onCancel} title={title}>
      <Stack>
        {children}
        <Group justify="flex-end">
          <Button variant="default" onClick={onCancel}>Cancel</Button>
          <Button color="red" loading={pending} onClick={onConfirm}>{label}</Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/** Loading, error and empty states of one query, the same everywhere. */
export function QueryState<T>({ query, empty, isEmpty, children }: {
  query: UseQueryResult<T>; empty?: ReactNode; isEmpty?: (d: T) => boolean; children: (d: T) => ReactNode;
}) {
  if (query.isPending) return <Center h={120}><Loader aria-label="Loading" /></Center>;
  if (query.isError) return <Alert color="red" title="Could not load" role="alert">{query.error.message}</Alert>;
  if (isEmpty?.(query.data)) return <Text c="dimmed">{empty}</Text>;
  return <>{children(query.data)}</>;
}

/**
 * The API's field errors beside the fields; the rest as one message. Schema errors name nested
 * fields `conditions.0.value` and the engine's `conditions[0].value`: both are also given in the
 * dotted form, so a form looks a row's field up one way.
 */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  const errors = { ...error.fieldErrors };
  for (const [field, message] of Object.entries(error.fieldErrors)) {
    const dotted = field.replace(/\[(\d+)\]/g, '.$1');
    if (dotted !== field) errors[dotted] = errors[dotted] ? `${errors[dotted]}; ${message}` : message;
  }
  return errors;
}
export function FormError({ error }: { error: unknown }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  return <Alert color="red" role="alert">{message}</Alert>;
}
