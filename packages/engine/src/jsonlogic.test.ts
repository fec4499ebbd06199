import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileLogic, LOGIC_OPERATIONS, LogicError, MAX_LOGIC_DEPTH, truthy } from './jsonlogic.js';

const run = (logic: unknown, data: unknown = {}, flagKey = 'flag'): unknown => compileLogic(logic, flagKey)(data);

describe('JSONLogic', () => {
  it('evaluates the standard operations', () => {
    expect(run({ var: 'a.b' }, { a: { b: 3 } })).toBe(3);
    expect(run({ var: ['missing', 'fallback'] })).toBe('fallback');
    expect(run({ var: 'a\\.b' }, { 'a.b': 1 })).toBe(1);
    expect(run({ var: { cat: ['a', 'b'] } }, { ab: 7 })).toBe(7);
    expect(run({ var: '' }, 5)).toBe(5);
    expect(run({ var: 1 }, ['x', 'y'])).toBe('y');
    expect(run({ missing: ['a', 'b.c', 'd'] }, { a: 1, b: { c: null } })).toEqual(['d']);
    expect(run({ missing_some: [1, ['a', 'b']] }, { b: 1 })).toEqual([]);
    expect(run({ missing_some: [2, ['a', 'b']] }, { b: 1 })).toEqual(['a']);
    expect(run({ if: [] })).toBeNull();
    expect(run({ if: [false, 1, true, 2, 3] })).toBe(2);
    expect(run({ '?:': [true, 'y', 'n'] })).toBe('y');
    expect(run({ and: [1, 'a', 0] })).toBe(0);
    expect(run({ or: [0, '', 'x'] })).toBe('x');
    expect(run({ and: [] })).toBeNull();
    expect(run({ '==': [1, '1'] })).toBe(true);
    expect(run({ '===': [1, '1'] })).toBe(false);
    expect(run({ '!=': [1, '2'] })).toBe(true);
    expect(run({ '<': [1, 2, 3] })).toBe(true);
    expect(run({ '<=': [1, 1, 0] })).toBe(false);
    expect(run({ '>=': [{ var: 'n' }, 2] }, { n: 2 })).toBe(true);
    expect(run({ '!': [[]] })).toBe(true);
    expect(run({ '!!': ['0'] })).toBe(true);
    expect(run({ in: ['b', 'abc'] })).toBe(true);
    expect(run({ in: ['b', ['a', 'b']] })).toBe(true);
    expect(run({ in: ['b', 5] })).toBe(false);
    expect(run({ cat: ['a', null, 1, true] })).toBe('a1true');
    expect(run({ substr: ['jsonlogic', 4] })).toBe('logic');
    expect(run({ substr: ['jsonlogic', 1, 3] })).toBe('son');
    expect(run({ substr: ['jsonlogic', 4, -2] })).toBe('log');
    expect(run({ '+': [1, '2', 3] })).toBe(6);
    expect(run({ '+': ['x', 1] })).toBeNull();
    expect(run({ '-': [5] })).toBe(-5);
    expect(run({ '-': [5, 2] })).toBe(3);
    expect(run({ '*': [2, 3] })).toBe(6);
    expect(run({ '/': [1, 0] })).toBeNull();
    expect(run({ '%': [7, 3] })).toBe(1);
    expect(run({ max: [1, 9, 3] })).toBe(9);
    expect(run({ min: [] })).toBeNull();
    expect(run({ min: [1, 'a'] })).toBeNull();
    expect(run({ merge: [[1], 2, [3, [4]]] })).toEqual([1, 2, 3, [4]]);
    expect(run({ map: [{ var: 'xs' }, { '*': [{ var: '' }, 2] }] }, { xs: [1, 2] })).toEqual([2, 4]);
    expect(run({ filter: [{ var: 'xs' }, { '>': [{ var: '' }, 1] }] }, { xs: [1, 2, 3] })).toEqual([2, 3]);
    expect(run({ reduce: [{ var: 'xs' }, { '+': [{ var: 'current' }, { var: 'accumulator' }] }, 0] }, { xs: [1, 2, 3] })).toBe(6);
    expect(run({ all: [[], true] })).toBe(false);
    expect(run({ none: [[1], { '==': [{ var: '' }, 2] }] })).toBe(true);
    expect(run({ some: ['notarray', true] })).toBe(false);
    expect(run({ log: ['x'] })).toBe('x');
    expect(run([1, { var: 'a' }], { a: 2 })).toEqual([1, 2]);
  });

  it('implements flagd variables and operations', () => {
    expect(run({ var: '$flagd.flagKey' }, {}, 'my-flag')).toBe('my-flag');
    const ts = run({ var: '$flagd.timestamp' }) as number;
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(5);
    expect(run({ var: '$flagd' }, {}, 'k')).toMatchObject({ flagKey: 'k' });
    expect(run({ var: '$flagd.other' }, { $flagd: { other: 1 } })).toBeNull();
    // inside iterators data is the element, as in flagd-core
    expect(run({ map: [{ var: 'items' }, { var: '$flagd.flagKey' }] }, { items: [{ $flagd: { flagKey: 'inner' } }] }, 'outer')).toEqual(['inner']);
    expect(run({ starts_with: ['abc', 'ab'] })).toBe(true);
    expect(run({ ends_with: ['abc', 'bc'] })).toBe(true);
    expect(run({ ends_with: ['abc'] })).toBeNull();
    expect(run({ sem_ver: ['1.2.3', '^', '1.0.0'] })).toBe(true);
    expect(run({ sem_ver: ['2.2.3', '^', '1.0.0'] })).toBe(false);
    expect(run({ sem_ver: ['1.2.3', '~', '1.2.0'] })).toBe(true);
    expect(run({ sem_ver: ['1.3.0', '~', '1.2.0'] })).toBe(false);
    expect(run({ sem_ver: ['1.2.3', '=='] })).toBeNull();
    expect(run({ fractional: [] })).toBeNull();
    expect(run({ fractional: [['a', 1]] })).toBeNull(); // no targeting key
    expect(run({ fractional: [['a', 1]] }, { targetingKey: 'x' })).toBe('a');
    expect(run({ fractional: ['by', ['a', 0], ['b', 1]] })).toBe('b');
    expect(run({ fractional: ['by', ['a', 0]] })).toBeNull(); // total weight 0
    expect(run({ fractional: ['by', ['a', 1.5]] })).toBeNull();
    expect(run({ fractional: ['by', [{}, 1]] })).toBeNull();
    expect(run({ fractional: ['by', ['a', -5], ['b', 1]] })).toBe('b'); // negative weights clamp to 0
    expect(run({ fractional: ['by', [null, 1]] })).toBeNull();
    expect(run({ fractional: ['by', ['a', 2147483647], ['b', 1]] })).toBeNull(); // total above MaxInt32
  });

  it('refuses what flagd refuses', () => {
    expect(() => compileLogic({ nope: [] }, 'f')).toThrow(LogicError);
    expect(() => compileLogic({ '==': [1, 1], '!=': [1, 2] }, 'f')).toThrow(/exactly one key/);
    let deep: unknown = true;
    for (let i = 0; i <= MAX_LOGIC_DEPTH + 1; i++) deep = { '!': [deep] };
    expect(() => compileLogic(deep, 'f')).toThrow(/nesting/);
    try {
      compileLogic({ if: [{ and: [true, { bad_op: 1 }] }] }, 'f', 'flags.f.targeting');
    } catch (e) {
      expect((e as LogicError).path).toBe('flags.f.targeting.if[0].and[1]');
    }
  });

  it('uses json-logic-engine truthiness', () => {
    expect([0, '', null, [], {}, false, Number.NaN].map(truthy)).toEqual([false, false, false, false, false, false, false]);
    expect([1, '0', [0], { a: 1 }, true, -1].map(truthy)).toEqual([true, true, true, true, true, true]);
  });

  it('never throws for any data', () => {
    const exprs = LOGIC_OPERATIONS.map((op) => compileLogic({ [op]: [{ var: 'a' }, { var: 'b' }, { var: 'c' }] }, 'f'));
    fc.assert(
      fc.property(fc.object({ values: [fc.anything()] }), (data) => {
        for (const e of exprs) e(data);
        for (const e of exprs) e(data['a']);
      }),
      { numRuns: 300 },
    );
  });
});
