// The OpenFeature server provider through the official @openfeature/server-sdk, against a running server.
import { OpenFeature, ProviderEvents, ProviderStatus, type EventDetails } from '@openfeature/server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SwitchyardProvider } from './server-provider.js';
import { startLiveServer, waitFor, type LiveServer } from './testing/live-server.js';

describe('SwitchyardProvider with @openfeature/server-sdk', () => {
  let s: LiveServer;
  let sdkKey: string;

  beforeAll(async () => {
    s = await startLiveServer('sqlite');
    await s.api('POST', '/api/v1/projects/default/flags', { key: 'checkout', type: 'boolean', defaultValue: false });
    await s.api('POST', '/api/v1/projects/default/flags', {
      key: 'limits',
      type: 'json',
      variations: [
        { key: 'small', name: 'Small', value: { seats: 5 } },
        { key: 'large', name: 'Large', value: { seats: 50 } },
      ],
      defaultVariation: 'small',
    });
    await s.api('POST', '/api/v1/projects/default/flags', {
      key: 'ratio',
      type: 'number',
      variations: [
        { key: 'low', name: 'Low', value: 0.1 },
        { key: 'high', name: 'High', value: 0.9 },
      ],
      defaultVariation: 'low',
    });
    for (const f of ['checkout', 'limits', 'ratio']) await s.api('POST', `/api/v1/projects/default/flags/${f}/environments/production/enable`);
    await s.api('POST', '/api/v1/projects/default/rules', {
      flag: 'limits',
      environment: 'production',
      conditions: [{ attribute: 'plan', operator: 'EQUALS', value: 'enterprise' }],
      serve: 'large',
    });
    sdkKey = await s.key('default', 'production', 'sdk');
  });
  afterAll(async () => {
    await OpenFeature.close();
    await s?.close();
  });

  it('a key the server refuses makes the provider FATAL', async () => {
    const provider = new SwitchyardProvider({ baseUrl: s.baseUrl, apiKey: 'sy_sdk_unknownunknownunknownunknown' });
    await expect(OpenFeature.setProviderAndWait('refused', provider)).rejects.toThrow(/401/);
    expect(OpenFeature.getClient('refused').providerStatus).toBe(ProviderStatus.FATAL);
  });

  it('initialises, resolves every type locally (TYPE_MISMATCH, FLAG_NOT_FOUND), follows changes, and serves STALE when the server is gone', async () => {
    const provider = new SwitchyardProvider({ baseUrl: s.baseUrl, apiKey: sdkKey, backoff: { initialMs: 50, maxMs: 200 }, requestTimeoutMs: 1_000 });
    await OpenFeature.setProviderAndWait('sdk-test', provider);
    const client = OpenFeature.getClient('sdk-test');
    expect(client.providerStatus).toBe(ProviderStatus.READY);

    expect(await client.getBooleanDetails('checkout', true, { targetingKey: 'u1' })).toMatchObject({ value: false, variant: 'off', reason: 'STATIC' });
    expect(await client.getObjectDetails('limits', {}, { targetingKey: 'u1', plan: 'enterprise' })).toMatchObject({ value: { seats: 50 }, variant: 'large', reason: 'TARGETING_MATCH' });
    expect(await client.getNumberValue('ratio', 0)).toBe(0.1);
    const mismatch = await client.getStringDetails('checkout', 'fallback', { targetingKey: 'u1' });
    expect(mismatch).toMatchObject({ value: 'fallback', reason: 'ERROR', errorCode: 'TYPE_MISMATCH' });
    expect(await client.getBooleanDetails('nope', true)).toMatchObject({ value: true, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' });

    const changed: Array<EventDetails | undefined> = [];
    client.addHandler(ProviderEvents.ConfigurationChanged, (d) => void changed.push(d));
    await s.api('PUT', '/api/v1/projects/default/flags/checkout/environments/production', { defaultServe: 'on' });
    await waitFor(() => changed.length > 0, 1_000, 'ConfigurationChanged');
    expect(changed[0]).toMatchObject({ flagsChanged: ['checkout'] });
    expect(await client.getBooleanValue('checkout', false, { targetingKey: 'u1' })).toBe(true);

    const stale: Array<EventDetails | undefined> = [];
    client.addHandler(ProviderEvents.Stale, (d) => void stale.push(d));
    await s.stop();
    await waitFor(() => stale.length > 0, 5_000, 'Stale');
    expect(client.providerStatus).toBe(ProviderStatus.STALE);
    // The last good configuration, flagged as possibly out of date.
    expect(await client.getBooleanDetails('checkout', false, { targetingKey: 'u1' })).toMatchObject({ value: true, variant: 'on', reason: 'STALE' });
    expect(await client.getStringDetails('checkout', 'x')).toMatchObject({ value: 'x', errorCode: 'TYPE_MISMATCH' });
  });

  it('an unreachable server fails initialisation after the timeout; resolutions say PROVIDER_NOT_READY', async () => {
    const provider = new SwitchyardProvider({ baseUrl: 'http://127.0.0.1:9', apiKey: 'sy_sdk_x', initializationTimeoutMs: 300, backoff: { initialMs: 50, maxMs: 100 } });
    await expect(OpenFeature.setProviderAndWait('unreachable', provider)).rejects.toThrow();
    expect(OpenFeature.getClient('unreachable').providerStatus).toBe(ProviderStatus.ERROR);
    expect(await OpenFeature.getClient('unreachable').getBooleanDetails('x', true)).toMatchObject({ value: true, errorCode: 'PROVIDER_NOT_READY' });
  });
});
