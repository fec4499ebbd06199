import type { TestApp } from './test-app.js';
import { authHeader, signUp, type SignedUpUser } from './auth.js';
import { createApiKey } from './evaluation-fixtures.js';

/** A flagd document with every outcome OFREP distinguishes. */
export const ofrepFlagdDocument = {
  flags: {
    limit: {
      state: 'ENABLED',
      variants: { low: 10, high: 100 },
      defaultVariant: 'low',
      targeting: { if: [{ '==': [{ var: 'plan' }, 'pro'] }, 'high', null] },
      metadata: { team: 'growth' },
    },
    theme: { state: 'ENABLED', variants: { dark: { bg: '#000' }, light: { bg: '#fff' } }, defaultVariant: 'light' },
    gone: { state: 'DISABLED', variants: { on: true, off: false }, defaultVariant: 'on' },
    maybe: {
      state: 'ENABLED',
      variants: { a: 'A', b: 'B' },
      defaultVariant: null,
      targeting: { if: [{ ends_with: [{ var: 'email' }, '@x.com'] }, 'b', null] },
    },
  },
};

/** Project `default`: checkout (boolean, rule plan=pro → on, enabled), banner.color (string, disabled), and the flagd flags above in production. */
export async function seedOfrep(t: TestApp): Promise<{ admin: SignedUpUser; serverKey: string; sdkKey: string; streamKey: string }> {
  const admin = await signUp(t.app);
  const call = async (method: 'POST' | 'GET', url: string, payload?: unknown) => {
    const res = await t.app.inject({ method, url, headers: authHeader(admin.accessToken), ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}) });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res;
  };
  await call('POST', '/api/v1/projects/default/flags', { key: 'checkout', type: 'boolean', defaultValue: false });
  await call('POST', '/api/v1/projects/default/flags', {
    key: 'banner.color',
    type: 'string',
    variations: [
      { key: 'red', name: 'Red', value: 'red' },
      { key: 'blue', name: 'Blue', value: 'blue' },
    ],
    defaultValue: 'red',
  });
  await call('POST', '/api/v1/projects/default/flags/checkout/environments/production/enable');
  await call('POST', '/api/v1/projects/default/rules', { flag: 'checkout', environment: 'production', conditions: [{ attribute: 'plan', operator: 'EQUALS', value: 'pro' }], serve: 'on' });
  await call('POST', '/api/v1/projects/default/environments/production/flagd', ofrepFlagdDocument);
  const serverKey = (await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'server' })).key;
  const sdkKey = (await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'sdk' })).key;
  const streamKey = (await createApiKey(t.app, admin.accessToken, 'default', { environment: 'production', scope: 'stream' })).key;
  return { admin, serverKey, sdkKey, streamKey };
}
