import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/api.js';
import { checkConditions, conditionErrorsByRow, fromCondition, operatorsFor, toCondition, toConditions, type Condition } from '../../src/conditions.js';
import { fieldErrors } from '../../src/ui.js';

describe('the rule editor round trip', () => {
  it('reads every stored condition back into a row that sends the same condition', () => {
    const stored: Condition[] = [
      { attribute: 'email', operator: 'ENDS_WITH', value: '@example.com', ignoreCase: true },
      { attribute: 'plan', operator: 'IN', value: ['pro', 'team'] },
      { attribute: 'seats', operator: 'GREATER_THAN_OR_EQUAL', value: 10 },
      { attribute: 'age', operator: 'IN', value: [18, 21] },
      { attribute: 'app.version', operator: 'SEMVER_GREATER_THAN', value: '2.1.0' },
      { attribute: 'signedUpAt', operator: 'BEFORE', value: '2026-01-31T00:00:00Z' },
      { attribute: 'beta', operator: 'EQUALS', value: false },
      { attribute: 'country', operator: 'EXISTS' },
    ];
    expect(stored.map((c) => toCondition(fromCondition(c)))).toEqual(stored);
  });

  it('offers the operators the engine applies to each kind of value', () => {
    expect(operatorsFor.boolean).toEqual(['EQUALS', 'NOT_EQUALS', 'EXISTS', 'NOT_EXISTS']);
    expect(operatorsFor.list).toEqual(expect.arrayContaining(['CONTAINS', 'NOT_CONTAINS', 'IN', 'NOT_IN']));
    expect(operatorsFor.list).not.toContain('STARTS_WITH');
    expect(operatorsFor.version!.every((o) => o.startsWith('SEMVER_') || o.endsWith('EXISTS'))).toBe(true);
    expect(operatorsFor.date).toEqual(['BEFORE', 'AFTER', 'EXISTS', 'NOT_EXISTS']);
    expect(operatorsFor.number).not.toContain('MATCHES');
  });

  it('sends true/false as booleans and refuses a number that is not one before sending', () => {
    const base = { attribute: 'beta', kind: 'boolean', operator: 'EQUALS', value: 'true', values: [], ignoreCase: false };
    expect(toCondition(base)).toEqual({ attribute: 'beta', operator: 'EQUALS', value: true });
    expect(toCondition({ ...base, value: 'false' })).toEqual({ attribute: 'beta', operator: 'EQUALS', value: false });
    expect(checkConditions([{ ...base, kind: 'number', operator: 'GREATER_THAN', value: 'ten' }])).toEqual({ 'conditions.0.value': 'must be a number' });
  });

  it("puts the API's nested errors beside the row and the rollout weight they name", () => {
    const error = new ApiError(422, {
      status: 422,
      errors: { 'conditions[0].value': 'must be a semantic version such as "1.2.3"', 'serve.rollout.variations[1].variation': 'unknown variation' },
    });
    const errors = fieldErrors(error);
    expect(errors['serve.rollout.variations.1.variation']).toBe('unknown variation');
    // Row 0 is empty (not sent), so the API's first condition is the form's second row.
    const rows = [
      { attribute: '', kind: 'text', operator: 'EQUALS', value: '', values: [], ignoreCase: false },
      { attribute: 'v', kind: 'version', operator: 'SEMVER_EQUAL', value: 'x', values: [], ignoreCase: false },
    ];
    expect(toConditions(rows)).toHaveLength(1);
    expect(conditionErrorsByRow(rows, errors)).toEqual({ 'conditions.1.value': 'must be a semantic version such as "1.2.3"' });
  });
});
