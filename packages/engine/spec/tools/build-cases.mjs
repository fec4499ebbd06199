/* global Buffer, console, URL */
// Authoring script for ../cases.json. Expectations are written by hand below; only hash-dependent
// ones (rollout assignments, golden vectors) come from oracle.mjs, which does not use the engine.
// Run: node packages/engine/spec/tools/build-cases.mjs
import { writeFileSync } from 'node:fs';
import { hash, bucket, pick } from './oracle.mjs';

const ENV = 'production';
// ---------------------------------------------------------------- operators suite
const opFlags = {};
const opCases = [];
const segments = {
  beta: { included: ['u-inc'], excluded: ['u-exc'], conditions: [{ attribute: 'email', operator: 'ENDS_WITH', value: '@beta.com' }] },
  vip: { included: ['vip-1'] },
  staff: { conditions: [{ attribute: 'role', operator: 'EQUALS', value: 'staff' }] },
};
function op(name, condition, cases) {
  const key = `op-${name}`;
  opFlags[key] = {
    type: 'boolean', variations: { on: true, off: false }, defaultVariation: 'off',
    environments: { [ENV]: { enabled: true, rules: [{ id: 'r', conditions: [condition], serve: { variation: 'on' } }] } },
  };
  for (const [label, context, hit] of cases) {
    opCases.push({
      name: `${name}: ${label}`, flag: key, context,
      expected: hit
        ? { value: true, variant: 'on', reason: 'TARGETING_MATCH', kind: 'RULE_MATCH', ruleId: 'r' }
        : { value: false, variant: 'off', reason: 'DEFAULT', kind: 'FALLTHROUGH', ruleId: null },
    });
  }
}
const A = (v) => ({ a: v });
op('EQUALS-string', { attribute: 'a', operator: 'EQUALS', value: 'x' }, [
  ['same string', A('x'), true], ['case differs', A('X'), false], ['missing', {}, false], ['null', A(null), false],
  ['number is wrong type', A(1), false], ['array attribute', A(['x']), false], ['object attribute', A({ x: 1 }), false]]);
op('EQUALS-ignoreCase', { attribute: 'a', operator: 'EQUALS', value: 'Straße', ignoreCase: true }, [
  ['lower case', A('straße'), true], ['upper case', A('STRASSE'), false], ['mixed', A('sTRAßE'), true]]);
op('EQUALS-number', { attribute: 'a', operator: 'EQUALS', value: 5 }, [
  ['same number', A(5), true], ['5.0 is 5', A(5.0), true], ['numeric string is not coerced', A('5'), false], ['other', A(6), false]]);
op('EQUALS-boolean', { attribute: 'a', operator: 'EQUALS', value: true }, [
  ['true', A(true), true], ['string "true"', A('true'), false], ['1', A(1), false], ['false', A(false), false]]);
op('NOT_EQUALS', { attribute: 'a', operator: 'NOT_EQUALS', value: 'x' }, [
  ['same', A('x'), false], ['other', A('y'), true], ['missing is not equal', {}, true], ['wrong type is not equal', A(1), true]]);
op('IN', { attribute: 'a', operator: 'IN', value: ['a', 'b', 3] }, [
  ['listed string', A('a'), true], ['listed number', A(3), true], ['"3" is not 3', A('3'), false], ['case differs', A('A'), false],
  ['array attribute with a listed element', A(['z', 'b']), true], ['array attribute without', A(['z']), false], ['missing', {}, false]]);
op('IN-ignoreCase', { attribute: 'a', operator: 'IN', value: ['Alpha', 'beta'], ignoreCase: true }, [
  ['upper', A('ALPHA'), true], ['lower', A('beta'), true], ['array', A(['x', 'BETA']), true], ['other', A('gamma'), false]]);
op('NOT_IN', { attribute: 'a', operator: 'NOT_IN', value: ['a', 'b'] }, [
  ['listed', A('a'), false], ['unlisted', A('c'), true], ['missing', {}, true], ['array with listed', A(['b']), false]]);
op('CONTAINS', { attribute: 'a', operator: 'CONTAINS', value: '@x' }, [
  ['substring', A('me@x.com'), true], ['absent', A('me@y.com'), false], ['array element equal', A(['@x']), true],
  ['array element containing is not equal', A(['me@x.com']), false], ['number', A(5), false], ['missing', {}, false], ['case', A('ME@X.COM'), false]]);
op('CONTAINS-any', { attribute: 'a', operator: 'CONTAINS', value: ['foo', 'bar'], ignoreCase: true }, [
  ['second needle, other case', A('xxBARxx'), true], ['none', A('baz'), false], ['array of tags', A(['x', 'FOO']), true]]);
op('NOT_CONTAINS', { attribute: 'a', operator: 'NOT_CONTAINS', value: 'beta' }, [
  ['contains', A('my-beta-app'), false], ['does not', A('stable'), true], ['missing', {}, true], ['array with element', A(['beta']), false]]);
op('STARTS_WITH', { attribute: 'a', operator: 'STARTS_WITH', value: ['ab', 'cd'] }, [
  ['first prefix', A('abc'), true], ['second prefix', A('cde'), true], ['infix', A('xab'), false], ['number', A(12), false], ['missing', {}, false], ['case', A('ABC'), false]]);
op('ENDS_WITH', { attribute: 'email', operator: 'ENDS_WITH', value: '@company.com' }, [
  ['suffix', { email: 'ann@company.com' }, true], ['other domain', { email: 'ann@company.co' }, false], ['case', { email: 'ann@COMPANY.com' }, false], ['missing', {}, false]]);
op('ENDS_WITH-ignoreCase', { attribute: 'email', operator: 'ENDS_WITH', value: '@Company.com', ignoreCase: true }, [
  ['case differs', { email: 'ANN@COMPANY.COM' }, true]]);
op('MATCHES', { attribute: 'a', operator: 'MATCHES', value: '^[a-z]+-\\d+$' }, [
  ['matches', A('abc-12'), true], ['case', A('ABC-12'), false], ['trailing text', A('abc-12x'), false], ['number', A(12), false], ['missing', {}, false]]);
op('MATCHES-unanchored', { attribute: 'a', operator: 'MATCHES', value: 'b\\d' }, [
  ['found inside', A('ab12'), true], ['not found', A('abc'), false],
  ['input longer than 8192 characters never matches', A('b1' + 'x'.repeat(8191)), false],
  ['input of exactly 8192 characters is inspected', A('b1' + 'x'.repeat(8190)), true]]);
op('MATCHES-ignoreCase', { attribute: 'a', operator: 'MATCHES', value: '^abc$', ignoreCase: true }, [['upper', A('ABC'), true]]);
op('MATCHES-unicode', { attribute: 'a', operator: 'MATCHES', value: '^\\p{Greek}+$' }, [['greek', A('αβγ'), true], ['latin', A('abc'), false]]);
op('GREATER_THAN', { attribute: 'a', operator: 'GREATER_THAN', value: 10 }, [
  ['greater', A(11), true], ['equal', A(10), false], ['numeric string', A('11'), true], ['numeric string with spaces', A(' 11 '), true],
  ['non-numeric string', A('11abc'), false], ['hex string', A('0x20'), false], ['empty string', A(''), false], ['boolean', A(true), false], ['missing', {}, false]]);
op('GREATER_THAN_OR_EQUAL', { attribute: 'a', operator: 'GREATER_THAN_OR_EQUAL', value: 10 }, [['equal', A(10), true], ['below', A(9.99), false]]);
op('LESS_THAN', { attribute: 'a', operator: 'LESS_THAN', value: 10 }, [['below', A(9), true], ['equal', A(10), false], ['exponent string', A('-1e3'), true], ['null', A(null), false]]);
op('LESS_THAN_OR_EQUAL', { attribute: 'a', operator: 'LESS_THAN_OR_EQUAL', value: '10' }, [['equal (configured as string)', A(10), true], ['above', A(10.01), false]]);
op('SEMVER_EQUAL', { attribute: 'v', operator: 'SEMVER_EQUAL', value: '1.2.3' }, [
  ['equal', { v: '1.2.3' }, true], ['v prefix', { v: 'v1.2.3' }, true], ['build metadata ignored', { v: '1.2.3+build.5' }, true],
  ['prerelease differs', { v: '1.2.3-rc.1' }, false], ['partial 1.2 is 1.2.0', { v: '1.2' }, false], ['garbage', { v: 'one' }, false],
  ['leading zero invalid', { v: '01.2.3' }, false], ['missing', {}, false]]);
op('SEMVER_GREATER_THAN', { attribute: 'v', operator: 'SEMVER_GREATER_THAN', value: '1.2.3' }, [
  ['numeric not lexicographic', { v: '1.10.0' }, true], ['equal', { v: '1.2.3' }, false], ['next patch prerelease', { v: '1.2.4-alpha' }, true],
  ['own prerelease is lower', { v: '1.2.3-alpha' }, false]]);
op('SEMVER_GREATER_THAN_OR_EQUAL', { attribute: 'v', operator: 'SEMVER_GREATER_THAN_OR_EQUAL', value: '2.0.0' }, [
  ['equal', { v: '2.0.0' }, true], ['partial major', { v: '2' }, true], ['number', { v: 2 }, true], ['lower', { v: '1.9.9' }, false]]);
op('SEMVER_LESS_THAN', { attribute: 'v', operator: 'SEMVER_LESS_THAN', value: '1.0.0' }, [
  ['prerelease of it', { v: '1.0.0-alpha' }, true], ['partial', { v: '0.9' }, true], ['equal', { v: '1.0.0' }, false]]);
op('SEMVER_LESS_THAN_OR_EQUAL', { attribute: 'v', operator: 'SEMVER_LESS_THAN_OR_EQUAL', value: '1.0.0-beta.2' }, [
  ['numeric identifiers compare numerically', { v: '1.0.0-beta.11' }, false], ['equal', { v: '1.0.0-beta.2' }, true],
  ['alpha < beta', { v: '1.0.0-alpha' }, true], ['fewer identifiers are lower', { v: '1.0.0-beta' }, true], ['release is higher', { v: '1.0.0' }, false]]);
op('BEFORE', { attribute: 'd', operator: 'BEFORE', value: '2024-06-01T00:00:00Z' }, [
  ['one second earlier', { d: '2024-05-31T23:59:59Z' }, true], ['same instant (strict)', { d: '2024-06-01T00:00:00Z' }, false],
  ['offset applied', { d: '2024-06-01T01:00:00+02:00' }, true], ['date only is UTC midnight', { d: '2024-05-31' }, true],
  ['date-time without offset is UTC', { d: '2024-05-31T23:59:59.999' }, true],
  ['epoch seconds', { d: 1717199999 }, true], ['epoch milliseconds', { d: 1717200000000 }, false], ['epoch milliseconds earlier', { d: 1717199999999 }, true],
  ['not ISO', { d: 'June 1 2024' }, false], ['impossible date', { d: '2024-02-30' }, false], ['missing', {}, false]]);
op('AFTER', { attribute: 'd', operator: 'AFTER', value: 1717200000 }, [
  ['later', { d: '2024-06-01T00:00:01Z' }, true], ['same instant without offset', { d: '2024-06-01T00:00:00' }, false],
  ['one millisecond later', { d: 1717200000001 }, true], ['fraction of a second', { d: '2024-06-01T00:00:00.5Z' }, true], ['boolean', { d: true }, false]]);
op('EXISTS', { attribute: 'a', operator: 'EXISTS' }, [
  ['string', A('x'), true], ['empty string', A(''), true], ['zero', A(0), true], ['false', A(false), true], ['null', A(null), false], ['missing', {}, false]]);
op('NOT_EXISTS', { attribute: 'a', operator: 'NOT_EXISTS' }, [['missing', {}, true], ['null', A(null), true], ['present', A('x'), false]]);
op('IN_SEGMENT', { operator: 'IN_SEGMENT', value: 'beta' }, [
  ['included key', { targetingKey: 'u-inc' }, true], ['excluded key beats conditions', { targetingKey: 'u-exc', email: 'e@beta.com' }, false],
  ['conditions', { targetingKey: 'u-9', email: 'e@beta.com' }, true], ['conditions without key', { email: 'e@beta.com' }, true],
  ['no match', { targetingKey: 'u-9', email: 'e@other.com' }, false]]);
op('IN_SEGMENT-any', { operator: 'IN_SEGMENT', value: ['vip', 'staff'] }, [
  ['first segment (include list only)', { targetingKey: 'vip-1' }, true], ['second', { role: 'staff' }, true], ['neither', { targetingKey: 'vip-2' }, false]]);
op('NOT_IN_SEGMENT', { operator: 'NOT_IN_SEGMENT', value: 'beta' }, [['included', { targetingKey: 'u-inc' }, false], ['outsider', { targetingKey: 'zz' }, true]]);
op('dotted-path', { attribute: 'user.plan', operator: 'EQUALS', value: 'pro' }, [
  ['nested', { user: { plan: 'pro' } }, true], ['flat key with a dot wins', { 'user.plan': 'pro', user: { plan: 'free' } }, true],
  ['flat key null falls back to nested', { 'user.plan': null, user: { plan: 'pro' } }, true],
  ['through a string', { user: 'pro' }, false], ['deeper object', { user: { plan: { name: 'pro' } } }, false], ['missing parent', {}, false]]);
op('deep-path', { attribute: 'a.b.c', operator: 'EXISTS' }, [['present', { a: { b: { c: 1 } } }, true], ['null in between', { a: { b: null } }, false], ['array index', { a: { b: ['x'] } }, false]]);
op('prototype-names', { attribute: 'toString', operator: 'EXISTS' }, [['inherited function is missing', {}, false], ['own value', { toString: 'x' }, true]]);
op('targetingKey', { attribute: 'targetingKey', operator: 'STARTS_WITH', value: 'admin-' }, [['admin', { targetingKey: 'admin-1' }, true], ['user', { targetingKey: 'user-1' }, false], ['missing', {}, false]]);

// ---------------------------------------------------------------- flow suite (native)
const B = { type: 'boolean', variations: { on: true, off: false }, defaultVariation: 'off' };
const env = (e) => ({ environments: { [ENV]: e } });
const splitTk = ['user-1', 'user-2', 'user-3', 'user-4', 'user-5', 'user-6', 'alice', 'bob'];
const flowFlags = {
  disabled: { ...B, ...env({ enabled: false, offVariation: 'on', rules: [{ id: 'r', serve: { variation: 'off' } }] }) },
  'disabled-default': { ...B, ...env({ enabled: false }) },
  'other-env-only': { ...B, environments: { staging: { enabled: true, defaultServe: { variation: 'on' } } } },
  static: { ...B, defaultVariation: 'on', ...env({ enabled: true }) },
  'static-default-serve': { ...B, ...env({ enabled: true, defaultServe: { variation: 'on' } }) },
  targets: {
    ...B, ...env({
      enabled: true, targets: [{ variation: 'on', values: ['t1', 't2'] }, { variation: 'off', values: ['t3'] }],
      rules: [{ id: 'de', conditions: [{ attribute: 'country', operator: 'EQUALS', value: 'de' }], serve: { variation: 'on' } }],
    }),
  },
  order: {
    type: 'string', variations: { gold: 'gold', silver: 'silver', bronze: 'bronze', none: 'none' }, defaultVariation: 'none',
    ...env({
      enabled: true, rules: [
        { id: 'pro', conditions: [{ attribute: 'plan', operator: 'EQUALS', value: 'pro' }, { attribute: 'seats', operator: 'GREATER_THAN', value: 10 }], serve: { variation: 'gold' } },
        { id: 'paid', conditions: [{ attribute: 'plan', operator: 'IN', value: ['pro', 'team'] }], serve: { variation: 'silver' } },
        { id: 'beta-staff', segments: ['beta', 'staff'], serve: { variation: 'bronze' } },
      ],
    }),
  },
  'prereq-ok': { ...B, ...env({ enabled: true, prerequisites: [{ flag: 'static', variation: 'on' }], defaultServe: { variation: 'on' } }) },
  'prereq-disabled': { ...B, ...env({ enabled: true, offVariation: 'off', prerequisites: [{ flag: 'disabled', variation: 'on' }], defaultServe: { variation: 'on' } }) },
  'chain-c': { ...B, ...env({ enabled: true, rules: [{ id: 'de', conditions: [{ attribute: 'country', operator: 'EQUALS', value: 'de' }], serve: { variation: 'on' } }] }) },
  'chain-b': { ...B, ...env({ enabled: true, prerequisites: [{ flag: 'chain-c', variation: 'on' }], defaultServe: { variation: 'on' } }) },
  'chain-a': { ...B, ...env({ enabled: true, prerequisites: [{ flag: 'chain-b', variation: 'on' }], targets: [{ variation: 'on', values: ['t1'] }], defaultServe: { variation: 'on' } }) },
  'split-rule': {
    type: 'string', variations: { a: 'A', b: 'B', none: 'none' }, defaultVariation: 'none',
    ...env({ enabled: true, rules: [{ id: 'everyone', serve: { rollout: { variations: [{ variation: 'a', weight: 50 }, { variation: 'b', weight: 50 }] } } }], defaultServe: { variation: 'none' } }),
  },
  'split-default': {
    type: 'string', variations: { a: 'A', b: 'B', c: 'C' }, defaultVariation: 'c',
    ...env({ enabled: true, defaultServe: { rollout: { variations: [{ variation: 'a', weight: 1 }, { variation: 'b', weight: 2 }, { variation: 'c', weight: 7 }] } } }),
  },
  'split-bucket-by': {
    type: 'string', variations: { a: 'A', b: 'B', none: 'none' }, defaultVariation: 'none',
    ...env({ enabled: true, defaultServe: { rollout: { bucketBy: 'company.id', salt: 'exp-1', variations: [{ variation: 'a', weight: 50 }, { variation: 'b', weight: 50 }] } } }),
  },
  'split-all-on': { ...B, ...env({ enabled: true, defaultServe: { rollout: { variations: [{ variation: 'off', weight: 0 }, { variation: 'on', weight: 100 }] } } }) },
  json: { type: 'json', variations: { small: { size: 1, tags: ['a'] }, big: { size: 10, tags: [] } }, defaultVariation: 'small', metadata: { owner: 'checkout' }, ...env({ enabled: true, rules: [{ id: 'big', conditions: [{ attribute: 'big', operator: 'EQUALS', value: true }], serve: { variation: 'big' } }] }) },
  number: { type: 'number', variations: { low: 1.5, high: 100 }, defaultVariation: 'low', ...env({ enabled: true, rules: [{ id: 'vip', segments: ['vip'], serve: { variation: 'high' } }] }) },
  logic: {
    type: 'string', variations: { pro: 'PRO', free: 'FREE' }, defaultVariation: 'free',
    ...env({ enabled: true, targeting: { if: [{ '==': [{ var: 'plan' }, 'pro'] }, 'pro', { '==': [{ var: 'plan' }, 'weird'] }, 'missing-variant', null] } }),
  },
};
const V = (variant, value, reason, kind, ruleId = null, extra = {}) => ({ variant, value, reason, kind, ruleId, ...extra });
const flowCases = [
  ['disabled serves offVariation', 'disabled', { targetingKey: 'x' }, V('on', true, 'DISABLED', 'OFF')],
  ['disabled without offVariation serves the default variation', 'disabled-default', {}, V('off', false, 'DISABLED', 'OFF')],
  ['absent from the environment is off', 'other-env-only', {}, V('off', false, 'DISABLED', 'OFF')],
  ['no targeting is STATIC', 'static', {}, V('on', true, 'STATIC', 'FALLTHROUGH')],
  ['no context at all', 'static', undefined, V('on', true, 'STATIC', 'FALLTHROUGH')],
  ['a plain default serve is STATIC', 'static-default-serve', {}, V('on', true, 'STATIC', 'FALLTHROUGH')],
  ['individual target', 'targets', { targetingKey: 't2', country: 'fr' }, V('on', true, 'TARGETING_MATCH', 'TARGET_MATCH')],
  ['target wins over rules', 'targets', { targetingKey: 't3', country: 'de' }, V('off', false, 'TARGETING_MATCH', 'TARGET_MATCH')],
  ['rule after targets', 'targets', { targetingKey: 't9', country: 'de' }, V('on', true, 'TARGETING_MATCH', 'RULE_MATCH', 'de')],
  ['fallthrough after targets and rules', 'targets', { targetingKey: 't9' }, V('off', false, 'DEFAULT', 'FALLTHROUGH')],
  ['first rule needs both conditions', 'order', { plan: 'pro', seats: 11 }, V('gold', 'gold', 'TARGETING_MATCH', 'RULE_MATCH', 'pro')],
  ['second rule when the first fails one condition', 'order', { plan: 'pro', seats: 5 }, V('silver', 'silver', 'TARGETING_MATCH', 'RULE_MATCH', 'paid')],
  ['segments are ANDed', 'order', { email: 'x@beta.com', role: 'staff' }, V('bronze', 'bronze', 'TARGETING_MATCH', 'RULE_MATCH', 'beta-staff')],
  ['one segment is not enough', 'order', { email: 'x@beta.com' }, V('none', 'none', 'DEFAULT', 'FALLTHROUGH')],
  ['prerequisite met', 'prereq-ok', {}, V('on', true, 'DEFAULT', 'FALLTHROUGH')],
  ['prerequisite disabled fails even if its off variation matches', 'prereq-disabled', {}, V('off', false, 'DEFAULT', 'PREREQUISITE_FAILED')],
  ['chained prerequisites met', 'chain-a', { country: 'de' }, V('on', true, 'DEFAULT', 'FALLTHROUGH')],
  ['chained prerequisite fails two levels down', 'chain-a', { country: 'fr' }, V('off', false, 'DEFAULT', 'PREREQUISITE_FAILED')],
  ['prerequisites come before individual targets', 'chain-a', { targetingKey: 't1', country: 'fr' }, V('off', false, 'DEFAULT', 'PREREQUISITE_FAILED')],
  ['rule rollout without targeting key falls to the default serve', 'split-rule', {}, V('none', 'none', 'DEFAULT', 'FALLTHROUGH')],
  ['rollout with empty targeting key falls to the default serve', 'split-rule', { targetingKey: '' }, V('none', 'none', 'DEFAULT', 'FALLTHROUGH')],
  ['default rollout without targeting key serves the default variation', 'split-default', {}, V('c', 'C', 'DEFAULT', 'FALLTHROUGH')],
  ['bucketBy without the attribute', 'split-bucket-by', { targetingKey: 'u' }, V('none', 'none', 'DEFAULT', 'FALLTHROUGH')],
  ['weights 0/100', 'split-all-on', { targetingKey: 'anyone' }, V('on', true, 'SPLIT', 'FALLTHROUGH')],
  ['json value', 'json', { big: true }, V('big', { size: 10, tags: [] }, 'TARGETING_MATCH', 'RULE_MATCH', 'big', { metadata: { team: 'core', owner: 'checkout' } })],
  ['snapshot metadata under flag metadata', 'json', {}, V('small', { size: 1, tags: ['a'] }, 'DEFAULT', 'FALLTHROUGH', null, { metadata: { team: 'core', owner: 'checkout' } })],
  ['number flag via segment rule', 'number', { targetingKey: 'vip-1' }, V('high', 100, 'TARGETING_MATCH', 'RULE_MATCH', 'vip')],
  ['JSONLogic targeting match', 'logic', { plan: 'pro' }, V('pro', 'PRO', 'TARGETING_MATCH', 'RULE_MATCH')],
  ['JSONLogic targeting null', 'logic', { plan: 'x' }, V('free', 'FREE', 'DEFAULT', 'FALLTHROUGH')],
  ['JSONLogic returning an unknown variant', 'logic', { plan: 'weird' }, { noValue: true, reason: 'ERROR', errorCode: 'GENERAL', kind: 'ERROR' }],
  ['unknown flag', 'nope', {}, { noValue: true, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND', kind: 'ERROR', metadata: { team: 'core' } }],
  ['context that is an array', 'static', [], { noValue: true, reason: 'ERROR', errorCode: 'INVALID_CONTEXT' }],
  ['context that is null', 'static', null, { noValue: true, reason: 'ERROR', errorCode: 'INVALID_CONTEXT' }],
  ['context that is a string', 'static', 'user-1', { noValue: true, reason: 'ERROR', errorCode: 'INVALID_CONTEXT' }],
  ['targetingKey that is a number', 'static', { targetingKey: 42 }, { noValue: true, reason: 'ERROR', errorCode: 'INVALID_CONTEXT' }],
  ['targetingKey null is missing', 'split-default', { targetingKey: null }, V('c', 'C', 'DEFAULT', 'FALLTHROUGH')],
].map(([name, flag, context, expected]) => ({ name, flag, ...(context === undefined ? {} : { context }), expected }));
for (const tk of splitTk) {
  flowCases.push({ name: `rule rollout 50/50 for ${tk}`, flag: 'split-rule', context: { targetingKey: tk }, expected: V(pick(`split-rule${tk}`, [['a', 50], ['b', 50]]), null, 'SPLIT', 'RULE_MATCH', 'everyone') });
  flowCases.push({ name: `default rollout 1/2/7 for ${tk}`, flag: 'split-default', context: { targetingKey: tk }, expected: V(pick(`split-default${tk}`, [['a', 1], ['b', 2], ['c', 7]]), null, 'SPLIT', 'FALLTHROUGH') });
}
for (const id of ['acme', 'globex', 'ünïcødé', '株式会社', 42]) {
  flowCases.push({ name: `bucketBy company.id with salt for ${id}`, flag: 'split-bucket-by', context: { company: { id } }, expected: V(pick(`exp-1${id}`, [['a', 50], ['b', 50]]), null, 'SPLIT', 'FALLTHROUGH') });
}
for (const c of flowCases) if (c.expected.value === null && c.expected.variant) c.expected.value = c.expected.variant.toUpperCase();

// ---------------------------------------------------------------- flagd suite
const flagd = {
  $evaluators: { isPro: { '==': [{ var: 'plan' }, 'pro'] }, emailDomain: { ends_with: [{ var: 'email' }, '@faas.com'] } },
  metadata: { flagSetId: 'set-1', version: 3 },
  flags: {
    'static-flag': { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'on' },
    'empty-targeting': { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off', targeting: {} },
    'disabled-flag': { state: 'DISABLED', variants: { on: true, off: false }, defaultVariant: 'on', metadata: { flagSetId: 'own' } },
    'if-flag': { state: 'ENABLED', variants: { red: '#f00', blue: '#00f' }, defaultVariant: 'blue', targeting: { if: [{ $ref: 'isPro' }, 'red', null] } },
    'no-default': { state: 'ENABLED', variants: { a: 'A', b: 'B' }, defaultVariant: null, targeting: { if: [{ $ref: 'emailDomain' }, 'a'] } },
    'no-default-static': { state: 'ENABLED', variants: { a: 'A' } },
    'bool-result': { state: 'ENABLED', variants: { true: 'yes', false: 'no' }, defaultVariant: 'false', targeting: { '>=': [{ var: 'age' }, 18] } },
    'number-result': { state: 'ENABLED', variants: { 1: 'one', 2: 'two' }, defaultVariant: '1', targeting: { '+': [{ var: 'n' }, 1] } },
    'unknown-variant': { state: 'ENABLED', variants: { a: 'A' }, defaultVariant: 'a', targeting: { cat: ['z', { var: 'x' }] } },
    'parse-error': { state: 'ENABLED', variants: { a: 'A' }, defaultVariant: 'a', targeting: { if: [{ regex_match: ['x', 'y'] }, 'a', null] } },
    'unresolved-ref': { state: 'ENABLED', variants: { a: 'A' }, defaultVariant: 'a', targeting: { $ref: 'nope' } },
    'flag-key-var': { state: 'ENABLED', variants: { yes: 1, no: 0 }, defaultVariant: 'no', targeting: { if: [{ '==': [{ var: '$flagd.flagKey' }, 'flag-key-var'] }, 'yes', 'no'] } },
    'timestamp-var': { state: 'ENABLED', variants: { after: 'after', before: 'before' }, defaultVariant: 'before', targeting: { if: [{ '>': [{ var: '$flagd.timestamp' }, 1600000000] }, 'after', 'before'] } },
    'context-flagd-ignored': { state: 'ENABLED', variants: { hit: 'hit', miss: 'miss' }, defaultVariant: 'miss', targeting: { if: [{ '==': [{ var: '$flagd.custom' }, 'x'] }, 'hit', 'miss'] } },
    fractional: { state: 'ENABLED', variants: { a: 'A', b: 'B', c: 'C' }, defaultVariant: 'c', targeting: { fractional: [['a', 25], ['b', 25], ['c', 50]] } },
    'fractional-by': { state: 'ENABLED', variants: { a: 'A', b: 'B' }, defaultVariant: 'b', targeting: { fractional: [{ cat: [{ var: '$flagd.flagKey' }, { var: 'email' }] }, ['a', 50], ['b', 50]] } },
    'fractional-implicit-weights': { state: 'ENABLED', variants: { a: 'A', b: 'B' }, defaultVariant: 'a', targeting: { fractional: [['a'], ['b']] } },
    'fractional-missing-by': { state: 'ENABLED', variants: { a: 'A', b: 'B' }, defaultVariant: 'b', targeting: { fractional: [{ var: 'email' }, ['a', 50], ['b', 50]] } },
    'fractional-nested': { state: 'ENABLED', variants: { a: 'A', b: 'B', off: 'off' }, defaultVariant: 'off', targeting: { if: [{ $ref: 'isPro' }, { fractional: [['a', 50], ['b', 50]] }, 'off'] } },
    semver: {
      state: 'ENABLED', variants: { eq: 'eq', ne: 'ne', lt: 'lt', le: 'le', gt: 'gt', ge: 'ge', caret: 'caret', tilde: 'tilde', none: 'none' }, defaultVariant: 'none',
      targeting: { if: [
        { sem_ver: [{ var: 'v' }, '=', '1.2.3'] }, 'eq', { sem_ver: [{ var: 'v' }, '~', '3.4.0'] }, 'tilde', { sem_ver: [{ var: 'v' }, '^', '3.0.0'] }, 'caret',
        { sem_ver: [{ var: 'v' }, '>=', '9.0.0'] }, 'ge', { sem_ver: [{ var: 'v' }, '<', '1.0.0'] }, 'lt', 'none'] },
    },
    'semver-ops': { state: 'ENABLED', variants: { true: true, false: false }, defaultVariant: 'false', targeting: { sem_ver: [{ var: 'a' }, { var: 'op' }, { var: 'b' }] } },
    strings: { state: 'ENABLED', variants: { s: 's', e: 'e', none: 'none' }, defaultVariant: 'none', targeting: { if: [{ starts_with: [{ var: 'id' }, 'abc'] }, 's', { ends_with: [{ var: 'id' }, 'xyz'] }, 'e', null] } },
    logic: {
      state: 'ENABLED', variants: { in: 'in', inarr: 'inarr', and: 'and', not: 'not', missing: 'missing', between: 'between', some: 'some', all: 'all', none: 'none', default: 'default', merge: 'merge' }, defaultVariant: 'default',
      targeting: { if: [
        { in: ['@x.com', { var: 'email' }] }, 'in',
        { in: [{ var: 'country' }, ['de', 'fr']] }, 'inarr',
        { and: [{ '===': [{ var: 'a' }, 1] }, { '!==': [{ var: 'b' }, '1'] }] }, 'and',
        { '!': [{ var: 'flag' }] }, 'not',
        { missing: ['q'] }, 'missing',
      ] },
    },
    logic2: {
      state: 'ENABLED', variants: { between: 'between', some: 'some', all: 'all', none: 'none', default: 'default', merge: 'merge', var: 'var' }, defaultVariant: 'default',
      targeting: { if: [
        { '<': [1, { var: 'n' }, 10] }, 'between',
        { some: [{ var: 'tags' }, { '==': [{ var: '' }, 'beta'] }] }, 'some',
        { all: [{ var: 'scores' }, { '>': [{ var: '' }, 50] }] }, 'all',
        { none: [{ var: 'scores' }, { '>': [{ var: '' }, 50] }] }, 'none',
        { in: ['z', { merge: [{ var: 'x' }, { var: 'y' }] }] }, 'merge',
        { '==': [{ var: ['plan', 'free'] }, 'free'] }, 'var',
      ] },
    },
    truthiness: { state: 'ENABLED', variants: { t: 't', f: 'f' }, defaultVariant: 'f', targeting: { if: [{ var: 'x' }, 't', 'f'] } },
  },
};
const R = (variant, value, reason, extra = {}) => ({ variant, value, reason, ...extra });
const md = { flagSetId: 'set-1', version: 3 };
const TM = 'TARGETING_MATCH';
const flagdCases = [
  ['static', 'static-flag', {}, R('on', true, 'STATIC', { metadata: md, kind: 'FALLTHROUGH' })],
  ['{} targeting is static', 'empty-targeting', {}, R('off', false, 'STATIC')],
  ['disabled yields no value', 'disabled-flag', {}, { noValue: true, reason: 'DISABLED', kind: 'OFF', metadata: { flagSetId: 'own', version: 3 } }],
  ['$ref evaluator matches', 'if-flag', { plan: 'pro' }, R('red', '#f00', TM, { kind: 'RULE_MATCH' })],
  ['null falls to defaultVariant', 'if-flag', { plan: 'free' }, R('blue', '#00f', 'DEFAULT', { kind: 'FALLTHROUGH' })],
  ['no defaultVariant, targeting null: no value', 'no-default', { email: 'a@b.com' }, { noValue: true, reason: 'DEFAULT' }],
  ['no defaultVariant, targeting matches', 'no-default', { email: 'a@faas.com' }, R('a', 'A', TM)],
  ['no defaultVariant, no targeting: no value', 'no-default-static', {}, { noValue: true, reason: 'DEFAULT' }],
  ['boolean result names variant "true"', 'bool-result', { age: 20 }, R('true', 'yes', TM)],
  ['boolean result names variant "false"', 'bool-result', { age: 10 }, R('false', 'no', TM)],
  ['number result names a variant', 'number-result', { n: 1 }, R('2', 'two', TM)],
  ['variant not found is a GENERAL error', 'unknown-variant', { x: 1 }, { noValue: true, reason: 'ERROR', errorCode: 'GENERAL' }],
  ['unknown operation is PARSE_ERROR', 'parse-error', {}, { noValue: true, reason: 'ERROR', errorCode: 'PARSE_ERROR' }],
  ['unresolved $ref is PARSE_ERROR', 'unresolved-ref', {}, { noValue: true, reason: 'ERROR', errorCode: 'PARSE_ERROR' }],
  ['$flagd.flagKey', 'flag-key-var', {}, R('yes', 1, TM)],
  ['$flagd.timestamp is epoch seconds', 'timestamp-var', {}, R('after', 'after', TM)],
  ['a context $flagd property is replaced', 'context-flagd-ignored', { $flagd: { custom: 'x' } }, R('miss', 'miss', TM)],
  ['fractional without targetingKey returns null', 'fractional', {}, R('c', 'C', 'DEFAULT')],
  ['fractional by missing attribute returns null', 'fractional-missing-by', { targetingKey: 'u1' }, R('b', 'B', 'DEFAULT')],
  ['fractional inside if, not pro', 'fractional-nested', { targetingKey: 'u1', plan: 'free' }, R('off', 'off', TM)],
  ['semver =', 'semver', { v: '1.2.3' }, R('eq', 'eq', TM)], ['semver ~', 'semver', { v: 'v3.4.9' }, R('tilde', 'tilde', TM)],
  ['semver ^', 'semver', { v: '3.9.0' }, R('caret', 'caret', TM)], ['semver >= partial', 'semver', { v: '9' }, R('ge', 'ge', TM)],
  ['semver <', 'semver', { v: '0.9.0-rc.1' }, R('lt', 'lt', TM)], ['semver none', 'semver', { v: '5.0.0' }, R('none', 'none', TM)],
  ['semver invalid is null → default', 'semver', { v: 'abc' }, R('none', 'none', TM)],
  ['sem_ver !=', 'semver-ops', { a: '1.0.0', op: '!=', b: '1.0.1' }, R('true', true, TM)],
  ['sem_ver <= equal', 'semver-ops', { a: '1.0.0', op: '<=', b: 'v1.0.0' }, R('true', true, TM)],
  ['sem_ver > false', 'semver-ops', { a: '1.0.0', op: '>', b: '1.0.0' }, R('false', false, TM)],
  ['sem_ver unknown operator is null', 'semver-ops', { a: '1.0.0', op: '<>', b: '1.0.0' }, R('false', false, 'DEFAULT')],
  ['sem_ver number operand', 'semver-ops', { a: 2, op: '=', b: '2.0.0' }, R('true', true, TM)],
  ['starts_with', 'strings', { id: 'abc-1' }, R('s', 's', TM)], ['ends_with', 'strings', { id: '1-xyz' }, R('e', 'e', TM)],
  ['starts_with non-string is null', 'strings', { id: 5 }, R('none', 'none', 'DEFAULT')],
  ['in substring', 'logic', { email: 'a@x.com' }, R('in', 'in', TM)], ['in array', 'logic', { country: 'fr' }, R('inarr', 'inarr', TM)],
  ['and with strict ops', 'logic', { a: 1, b: 1 }, R('and', 'and', TM)], ['! of missing', 'logic', { a: '1', q: 1 }, R('not', 'not', TM)],
  ['missing', 'logic', { flag: true }, R('missing', 'missing', TM)], ['nothing matches', 'logic', { flag: true, q: 0 }, R('default', 'default', 'DEFAULT')],
  ['between', 'logic2', { n: 5 }, R('between', 'between', TM)], ['between is exclusive', 'logic2', { n: 10, plan: 'x', scores: [10, 99] }, R('default', 'default', 'DEFAULT')],
  ['some', 'logic2', { tags: ['a', 'beta'] }, R('some', 'some', TM)], ['all', 'logic2', { scores: [60, 70] }, R('all', 'all', TM)],
  ['all of empty is false, none of empty is true', 'logic2', { scores: [] }, R('none', 'none', TM)],
  ['merge', 'logic2', { x: ['a'], y: 'z', scores: [99, 1], plan: 'p' }, R('merge', 'merge', TM)],
  ['var default', 'logic2', { scores: [99, 1] }, R('var', 'var', TM)],
  ['truthy: non-empty string', 'truthiness', { x: 'a' }, R('t', 't', TM)], ['truthy: empty array is false', 'truthiness', { x: [] }, R('f', 'f', TM)],
  ['truthy: empty object is false', 'truthiness', { x: {} }, R('f', 'f', TM)], ['truthy: "0" is true', 'truthiness', { x: '0' }, R('t', 't', TM)],
  ['truthy: 0 is false', 'truthiness', { x: 0 }, R('f', 'f', TM)], ['truthy: non-empty object', 'truthiness', { x: { a: 1 } }, R('t', 't', TM)],
  ['not found uses flag-set metadata', 'missing-flag', {}, { noValue: true, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND', metadata: md }],
].map(([name, flag, context, expected]) => ({ name, flag, context, expected }));
for (const tk of [...splitTk, 'ünïcødé-user', '用户-42', 'emoji-😀']) {
  const v = pick(`fractional${tk}`, [['a', 25], ['b', 25], ['c', 50]]);
  flagdCases.push({ name: `fractional 25/25/50 for ${tk}`, flag: 'fractional', context: { targetingKey: tk }, expected: R(v, v.toUpperCase(), TM) });
  const w = pick(`fractional-implicit-weights${tk}`, [['a', 1], ['b', 1]]);
  flagdCases.push({ name: `fractional implicit weights for ${tk}`, flag: 'fractional-implicit-weights', context: { targetingKey: tk }, expected: R(w, w.toUpperCase(), TM) });
}
for (const email of ['ann@example.com', 'bob@example.com', 'zoë@exämple.com', 'x@y']) {
  const v = pick(`fractional-by${email}`, [['a', 50], ['b', 50]]);
  flagdCases.push({ name: `fractional by flagKey+email for ${email}`, flag: 'fractional-by', context: { email }, expected: R(v, v.toUpperCase(), TM) });
}
const vn = pick('fractional-nestedu7', [['a', 50], ['b', 50]]);
flagdCases.push({ name: 'fractional inside if, pro', flag: 'fractional-nested', context: { targetingKey: 'u7', plan: 'pro' }, expected: R(vn, vn.toUpperCase(), TM) });

// ---------------------------------------------------------------- invalid configurations
const bad = (flagEnv, extra = {}) => ({ flags: { x: { ...B, ...env(flagEnv), ...extra } }, segments });
const invalid = [
  ['unknown operator', bad({ enabled: true, rules: [{ id: 'a', serve: { variation: 'on' } }, { id: 'b', serve: { variation: 'on' } }, { id: 'c', conditions: [{ attribute: 'x', operator: 'EQUAL', value: 1 }], serve: { variation: 'on' } }] }), 'flags.x.environments.production.rules[2].conditions[0].operator'],
  ['invalid RE2 pattern', bad({ enabled: true, rules: [{ id: 'a', conditions: [{ attribute: 'x', operator: 'MATCHES', value: '(?=look)ahead' }], serve: { variation: 'on' } }] }), 'flags.x.environments.production.rules[0].conditions[0].value'],
  ['pattern too long', bad({ enabled: true, rules: [{ id: 'a', conditions: [{ attribute: 'x', operator: 'MATCHES', value: 'a'.repeat(1025) }], serve: { variation: 'on' } }] }), 'flags.x.environments.production.rules[0].conditions[0].value'],
  ['IN needs an array', bad({ enabled: true, rules: [{ id: 'a', conditions: [{ attribute: 'x', operator: 'IN', value: 'a' }], serve: { variation: 'on' } }] }), 'flags.x.environments.production.rules[0].conditions[0].value'],
  ['semver operand', bad({ enabled: true, rules: [{ id: 'a', conditions: [{ attribute: 'x', operator: 'SEMVER_EQUAL', value: 'latest' }], serve: { variation: 'on' } }] }), 'flags.x.environments.production.rules[0].conditions[0].value'],
  ['date operand', bad({ enabled: true, rules: [{ id: 'a', conditions: [{ attribute: 'x', operator: 'BEFORE', value: 'tomorrow' }], serve: { variation: 'on' } }] }), 'flags.x.environments.production.rules[0].conditions[0].value'],
  ['missing attribute', bad({ enabled: true, rules: [{ id: 'a', conditions: [{ operator: 'EXISTS' }], serve: { variation: 'on' } }] }), 'flags.x.environments.production.rules[0].conditions[0].attribute'],
  ['ignoreCase on a numeric operator', bad({ enabled: true, rules: [{ id: 'a', conditions: [{ attribute: 'n', operator: 'LESS_THAN', value: 1, ignoreCase: true }], serve: { variation: 'on' } }] }), 'flags.x.environments.production.rules[0].conditions[0].ignoreCase'],
  ['unknown segment', bad({ enabled: true, rules: [{ id: 'a', segments: ['nobody'], serve: { variation: 'on' } }] }), 'flags.x.environments.production.rules[0].segments[0]'],
  ['unknown segment in a condition', bad({ enabled: true, rules: [{ id: 'a', conditions: [{ operator: 'IN_SEGMENT', value: 'nobody' }], serve: { variation: 'on' } }] }), 'flags.x.environments.production.rules[0].conditions[0].value'],
  ['segment operator inside a segment', { flags: {}, segments: { s: { conditions: [{ operator: 'IN_SEGMENT', value: 's' }] } } }, 'segments.s.conditions[0].operator'],
  ['unknown variation', bad({ enabled: true, rules: [{ id: 'a', serve: { variation: 'maybe' } }] }), 'flags.x.environments.production.rules[0].serve.variation'],
  ['duplicate rule id', bad({ enabled: true, rules: [{ id: 'a', serve: { variation: 'on' } }, { id: 'a', serve: { variation: 'off' } }] }), 'flags.x.environments.production.rules[1].id'],
  ['weights total zero', bad({ enabled: true, defaultServe: { rollout: { variations: [{ variation: 'on', weight: 0 }] } } }), 'flags.x.environments.production.defaultServe.rollout.variations'],
  ['fractional weight', bad({ enabled: true, defaultServe: { rollout: { variations: [{ variation: 'on', weight: 0.5 }] } } }), 'flags.x.environments.production.defaultServe.rollout.variations[0].weight'],
  ['serve with both forms', bad({ enabled: true, defaultServe: { variation: 'on', rollout: { variations: [{ variation: 'on', weight: 1 }] } } }), 'flags.x.environments.production.defaultServe'],
  ['typo in a rule property', bad({ enabled: true, rules: [{ id: 'a', condition: [], serve: { variation: 'on' } }] }), 'flags.x.environments.production.rules[0].condition'],
  ['enabled must be boolean', bad({ enabled: 'yes' }), 'flags.x.environments.production.enabled'],
  ['variation of the wrong type', { flags: { x: { type: 'boolean', variations: { on: 'true', off: false }, defaultVariation: 'off', environments: {} } } }, 'flags.x.variations.on'],
  ['default variation must exist', { flags: { x: { type: 'string', variations: { a: 'a' }, defaultVariation: 'b', environments: {} } } }, 'flags.x.defaultVariation'],
  ['targeting with rules', bad({ enabled: true, targeting: { if: [true, 'on'] }, rules: [] }), 'flags.x.environments.production.targeting'],
  ['invalid targeting', bad({ enabled: true, targeting: { if: [{ regex: ['a'] }, 'on', 'off'] } }), 'flags.x.environments.production.targeting.if[0]'],
  ['target listed twice', bad({ enabled: true, targets: [{ variation: 'on', values: ['a'] }, { variation: 'off', values: ['a'] }] }), 'flags.x.environments.production.targets[1].values[0]'],
  ['prerequisite on an unknown flag', bad({ enabled: true, prerequisites: [{ flag: 'ghost', variation: 'on' }] }), 'flags.x.environments.production.prerequisites[0].flag'],
  ['prerequisite cycle', { flags: {
    a: { ...B, ...env({ enabled: true, prerequisites: [{ flag: 'b', variation: 'on' }] }) },
    b: { ...B, ...env({ enabled: true, prerequisites: [{ flag: 'c', variation: 'on' }] }) },
    c: { ...B, ...env({ enabled: true, prerequisites: [{ flag: 'a', variation: 'on' }] }) } } },
    'flags.c.environments.production.prerequisites[0].flag', 'a → b → c → a'],
  ['self prerequisite', { flags: { a: { ...B, ...env({ enabled: true, prerequisites: [{ flag: 'a', variation: 'on' }] }) } } }, 'flags.a.environments.production.prerequisites[0].flag', 'a → a'],
  ['cycle in another environment is refused too', { flags: {
    a: { ...B, environments: { staging: { enabled: true, prerequisites: [{ flag: 'b', variation: 'on' }] }, production: { enabled: true } } },
    b: { ...B, environments: { staging: { enabled: true, prerequisites: [{ flag: 'a', variation: 'on' }] } } } } },
    'flags.b.environments.staging.prerequisites[0].flag', 'a → b → a'],
].map(([name, config, path, messageIncludes]) => ({ name, format: 'native', environment: ENV, config, path, ...(messageIncludes ? { messageIncludes } : {}) }));
invalid.push(
  { name: 'flagd: bad state', format: 'flagd', config: { flags: { f: { state: 'ON', variants: { a: 1 }, defaultVariant: 'a' } } }, path: 'flags.f.state' },
  { name: 'flagd: defaultVariant not among variants', format: 'flagd', config: { flags: { f: { state: 'ENABLED', variants: { a: 1 }, defaultVariant: 'b' } } }, path: 'flags.f.defaultVariant' },
  { name: 'flagd: no flags', format: 'flagd', config: { $evaluators: {} }, path: 'flags' },
);

// ---------------------------------------------------------------- golden bucketing vectors
const values = ['', 'a', 'hello', 'The quick brown fox jumps over the lazy dog', 'flag-keyuser-1', 'headerColoruser@faas.com',
  'fractionaluser-1', 'fractionalalice', 'new-checkout42', 'ünïcødé', 'flagüser', 'café-au-lait', '日本語のキー', 'ключ-пользователя',
  'emoji-😀-key', '🚀', 'mixed-ascii-и-кириллица-用户'];
const totals = [1, 2, 3, 10, 100, 1000, 10000, 100000, 2097152, 2097153, 1000000007, 2147483647];
const bucketing = [];
for (const v of values) {
  const h = hash(v);
  bucketing.push({ value: v, utf8Hex: Buffer.from(v, 'utf8').toString('hex'), hash: h, buckets: Object.fromEntries(totals.map((t) => [t, bucket(v, t)])) });
}

const out = {
  description: 'Language-agnostic evaluation cases for @switchyard/engine. See README.md beside this file.',
  version: 1,
  bucketing: { algorithm: 'MurmurHash3 x86_32, seed 0, over UTF-8 bytes; bucket = floor(hash * total / 2^32)', vectors: bucketing },
  suites: [
    { name: 'operators', format: 'native', environment: ENV, config: { flags: opFlags, segments }, cases: opCases },
    { name: 'flow', format: 'native', environment: ENV, config: { metadata: { team: 'core' }, flags: flowFlags, segments }, cases: flowCases },
    { name: 'flagd', format: 'flagd', config: flagd, cases: flagdCases },
  ],
  invalid,
};
writeFileSync(new URL('../cases.json', import.meta.url), JSON.stringify(out, null, 1) + '\n');
console.log('cases', opCases.length + flowCases.length + flagdCases.length, 'invalid', invalid.length, 'vectors', bucketing.length);
