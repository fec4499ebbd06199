import { ActionIcon, Button, Checkbox, Group, NumberInput, Paper, Select, SimpleGrid, Stack, TagsInput, Text, TextInput } from '@mantine/core';
import type { Rule } from './api.js';

/** A condition as the API takes it (rules and segments share the shape). */
export type Condition = Rule['conditions'][number];

const stringOperators = ['EQUALS', 'NOT_EQUALS', 'IN', 'NOT_IN', 'CONTAINS', 'NOT_CONTAINS', 'STARTS_WITH', 'ENDS_WITH', 'MATCHES', 'EXISTS', 'NOT_EXISTS'];
const numberOperators = ['EQUALS', 'NOT_EQUALS', 'IN', 'NOT_IN', 'GREATER_THAN', 'GREATER_THAN_OR_EQUAL', 'LESS_THAN', 'LESS_THAN_OR_EQUAL', 'EXISTS', 'NOT_EXISTS'];
const versionOperators = ['SEMVER_EQUAL', 'SEMVER_GREATER_THAN', 'SEMVER_GREATER_THAN_OR_EQUAL', 'SEMVER_LESS_THAN', 'SEMVER_LESS_THAN_OR_EQUAL', 'EXISTS', 'NOT_EXISTS'];
const dateOperators = ['BEFORE', 'AFTER', 'EXISTS', 'NOT_EXISTS'];
// The engine's CONTAINS on a list attribute asks for an element; IN asks whether any element is listed.
const listAttributeOperators = ['CONTAINS', 'NOT_CONTAINS', 'IN', 'NOT_IN', 'EXISTS', 'NOT_EXISTS'];
const booleanOperators = ['EQUALS', 'NOT_EQUALS', 'EXISTS', 'NOT_EXISTS'];
/**
 * The operators that fit the kind of values an attribute holds. IN_SEGMENT/NOT_IN_SEGMENT are left
 * out: a rule names its segments in its own field, and a segment may not contain them.
 */
export const operatorsFor: Record<string, string[]> = {
  text: stringOperators, number: numberOperators, version: versionOperators, date: dateOperators, list: listAttributeOperators, boolean: booleanOperators,
};
export const valueKinds = [
  { value: 'text', label: 'text' }, { value: 'number', label: 'numbers' }, { value: 'version', label: 'versions' }, { value: 'date', label: 'dates' },
  { value: 'list', label: 'a list' }, { value: 'boolean', label: 'true/false' },
];
const listOperators = new Set(['IN', 'NOT_IN']);
const valueless = new Set(['EXISTS', 'NOT_EXISTS']);

/** One condition row as the form holds it: `value` for one operand, `values` for IN/NOT_IN. */
export interface ConditionDraft { attribute: string; kind: string; operator: string; value: string; values: string[]; ignoreCase: boolean }

export const blankCondition: ConditionDraft = { attribute: '', kind: 'text', operator: 'EQUALS', value: '', values: [], ignoreCase: false };

/** A row without an attribute is an unused row: it is not sent. */
const inUse = (d: ConditionDraft) => d.attribute.trim() !== '';

export function toCondition(d: ConditionDraft): Condition {
  if (valueless.has(d.operator)) return { attribute: d.attribute, operator: d.operator };
  const one = (s: string): string | number | boolean => d.kind === 'number' && s.trim() !== '' && !Number.isNaN(Number(s)) ? Number(s)
    : d.kind === 'boolean' ? s !== 'false' : s;
  const value = listOperators.has(d.operator) ? d.values.map((s) => one(s.trim())).filter((s) => s !== '') : one(d.value);
  return { attribute: d.attribute, operator: d.operator, value, ...(d.kind === 'text' && d.ignoreCase ? { ignoreCase: true } : {}) };
}

/** The conditions to send: the rows in use, in order. */
export function toConditions(drafts: ConditionDraft[]): Condition[] {
  return drafts.filter(inUse).map(toCondition);
}

/** A stored condition back into a row, guessing the kind of values from the operator and operand. */
export function fromCondition(c: Condition): ConditionDraft {
  const op = c.operator;
  const operand = c.value as unknown;
  const numeric = typeof operand === 'number' || (Array.isArray(operand) && operand.length > 0 && operand.every((v) => typeof v === 'number'));
  const kind = op.startsWith('SEMVER_') ? 'version'
    : op === 'BEFORE' || op === 'AFTER' ? 'date'
      : op.startsWith('GREATER_') || op.startsWith('LESS_') || numeric ? 'number'
        : typeof operand === 'boolean' ? 'boolean' : 'text';
  return {
    attribute: c.attribute ?? '', kind, operator: op,
    value: Array.isArray(operand) || operand === undefined || operand === null ? '' : String(operand),
    values: Array.isArray(operand) ? operand.map(String) : [],
    ignoreCase: c.ignoreCase === true,
  };
}

export function describeCondition(c: Condition): string {
  return `${c.attribute ?? ''} ${c.operator} ${JSON.stringify(c.value ?? '')}`;
}

/**
 * What the form checks before sending, as the engine would refuse it: an operand where the
 * operator needs one. Keys are `conditions.<row>.<field>` (row = index among all rows).
 */
export function checkConditions(drafts: ConditionDraft[]): Record<string, string> {
  const errors: Record<string, string> = {};
  drafts.forEach((d, i) => {
    if (!inUse(d) || valueless.has(d.operator)) return;
    if (listOperators.has(d.operator)) {
      if (d.values.every((v) => v.trim() === '')) errors[`conditions.${i}.value`] = 'add at least one value';
    } else if (d.value.trim() === '') errors[`conditions.${i}.value`] = 'required';
    else if (d.kind === 'number' && !Number.isFinite(Number(d.value))) errors[`conditions.${i}.value`] = 'must be a number';
  });
  return errors;
}

/**
 * The API numbers conditions among those sent, which skips unused rows: its
 * `conditions.<sent>.<field>` errors are moved onto the row they belong to.
 */
export function conditionErrorsByRow(drafts: ConditionDraft[], apiErrors: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const rowOf: number[] = [];
  drafts.forEach((d, i) => { if (inUse(d)) rowOf.push(i); });
  for (const [path, message] of Object.entries(apiErrors)) {
    // Both spellings: the schema's `conditions.0.value` and the engine's `conditions[0].value`.
    const m = /^conditions(?:\.(\d+)|\[(\d+)\])\.?(.*)$/.exec(path);
    if (!m) continue;
    const row = rowOf[Number(m[1] ?? m[2])];
    if (row !== undefined) out[`conditions.${row}.${m[3] || 'value'}`] = message;
  }
  return out;
}

/**
 * The condition rows of a rule or a segment: attribute, kind of values, an operator from the list
 * fitting that kind, and the operand the operator needs (a list for IN/NOT_IN, a number for
 * numbers, none for EXISTS/NOT_EXISTS). `errors` are keyed `conditions.<row>.<field>`.
 */
export function ConditionRows({ value, onChange, errors = {}, idPrefix = 'Condition' }: {
  value: ConditionDraft[]; onChange: (v: ConditionDraft[]) => void; errors?: Record<string, string>; idPrefix?: string;
}) {
  const set = (i: number, patch: Partial<ConditionDraft>) => onChange(value.map((c, j) => j === i ? { ...c, ...patch } : c));
  return (
    <Stack gap="xs">
      {value.length === 0 && <Text size="sm" c="dimmed">No conditions.</Text>}
      {value.map((c, i) => {
        const name = `${idPrefix} ${i + 1}`;
        const valueError = errors[`conditions.${i}.value`];
        return (
          <Paper withBorder p="xs" key={i} data-testid="condition-row">
            <Group align="flex-start" wrap="nowrap" gap="xs">
              <SimpleGrid cols={{ base: 1, sm: 2, md: 4 }} spacing="xs" style={{ flex: 1 }}>
                <TextInput label={`${name} attribute`} placeholder="email, plan, version…" value={c.attribute}
                  onChange={(e) => set(i, { attribute: e.currentTarget.value })} error={errors[`conditions.${i}.attribute`]} />
                <Select label={`${name} kind of values`} data={valueKinds} value={c.kind} allowDeselect={false}
                  onChange={(k) => k && set(i, {
                    kind: k, operator: operatorsFor[k]!.includes(c.operator) ? c.operator : operatorsFor[k]![0]!,
                    ...(k === 'boolean' && c.value !== 'false' ? { value: 'true' } : {}),
                  })} />
                <Select label={`${name} operator`} data={operatorsFor[c.kind]!} value={c.operator} allowDeselect={false}
                  onChange={(o) => o && set(i, { operator: o })} error={errors[`conditions.${i}.operator`]} />
                {valueless.has(c.operator) ? <TextInput label={`${name} value`} disabled value="" placeholder="no value" />
                  : listOperators.has(c.operator) ? (
                    <TagsInput label={`${name} value`} description="Enter or comma after each" value={c.values}
                      onChange={(values) => set(i, { values })} error={valueError} />
                  ) : c.kind === 'boolean' ? (
                    <Select label={`${name} value`} data={['true', 'false']} value={c.value === 'false' ? 'false' : 'true'} allowDeselect={false}
                      onChange={(v) => v && set(i, { value: v })} error={valueError} />
                  ) : c.kind === 'number' ? (
                    <NumberInput label={`${name} value`} value={c.value} onChange={(n) => set(i, { value: String(n) })} error={valueError} />
                  ) : (
                    <TextInput label={`${name} value`} value={c.value} error={valueError}
                      placeholder={c.kind === 'version' ? '2.0.0' : c.kind === 'date' ? '2026-01-31T00:00:00Z' : c.operator === 'MATCHES' ? 'regular expression' : undefined}
                      onChange={(e) => set(i, { value: e.currentTarget.value })} />
                  )}
              </SimpleGrid>
              <ActionIcon variant="subtle" color="red" mt={24} aria-label={`Remove ${name.toLowerCase()}`} onClick={() => onChange(value.filter((_, j) => j !== i))}>×</ActionIcon>
            </Group>
            {c.kind === 'text' && !valueless.has(c.operator) && (
              <Checkbox mt="xs" size="xs" label={`${name}: ignore case`} checked={c.ignoreCase} onChange={(e) => set(i, { ignoreCase: e.currentTarget.checked })} />
            )}
          </Paper>
        );
      })}
      <Group>
        <Button variant="default" size="xs" onClick={() => onChange([...value, blankCondition])}>Add condition</Button>
      </Group>
    </Stack>
  );
}
