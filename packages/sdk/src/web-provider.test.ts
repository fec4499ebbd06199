// The OpenFeature web provider through the official @openfeature/web-sdk (static context), against a running server.
import { OpenFeature, ProviderEvents, ProviderStatus, type EventDetails } from '@openfeature/web-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SwitchyardWebProvider } from './web-provider.js';
import { startLiveServer, waitFor, type LiveServer } from './testing/live-server.js';

describe('SwitchyardWebProvider with @openfeature/web-sdk', () => {
  let s: LiveServer;
  let sdkKey: string;

  beforeAll(async () => {
    s = await startLiveServer('sqlite');
    await s.api('POST', '/api/v1/projects/default/flags', {
      key: 'banner',
      type: 'string',
      variations: [
        { key: 'red', name: 'Red', value: 'red' },
        { key: 'blue', name: 'Blue', value: 'blue' },
      ],
      defaultValue: 'red',
    });
    await s.api('POST', '/api/v1/projects/default/flags/banner/environments/production/enable');
    await s.api('POST', '/api/v1/projects/default/rules', {
      flag: 'banner',
      environment: 'production',
      conditions: [{ attribute: 'plan', operator: 'EQUALS', value: 'pro' }],
      serve: 'blue',
    });
    sdkKey = await s.key('default', 'production', 'sdk');
  });
  afterAll(async () => {
    await OpenFeature.close();
    await s?.close();
  });

  it('evaluates the static context locally, re-evaluates on a context change without a request, and emits ConfigurationChanged on stream updates', async () => {
    let requests = 0;
    const counting: typeof fetch = (input, init) => {
      requests++;
      return fetch(input, init);
    };
    await OpenFeature.setContext({ targetingKey: 'u1', plan: 'pro' });
    await OpenFeature.setProviderAndWait(new SwitchyardWebProvider({ baseUrl: s.baseUrl, apiKey: sdkKey, fetch: counting }));
    const client = OpenFeature.getClient();
    expect(client.providerStatus).toBe(ProviderStatus.READY);
    expect(client.getStringDetails('banner', 'none')).toMatchObject({ value: 'blue', variant: 'blue', reason: 'TARGETING_MATCH' });
    expect(client.getBooleanDetails('banner', false)).toMatchObject({ value: false, errorCode: 'TYPE_MISMATCH' });

    const sent = requests;
    await OpenFeature.setContext({ targetingKey: 'u1', plan: 'free' });
    expect(client.getStringValue('banner', 'none')).toBe('red');
    expect(requests).toBe(sent);

    const changed: Array<EventDetails | undefined> = [];
    client.addHandler(ProviderEvents.ConfigurationChanged, (d) => void changed.push(d));
    await s.api('PUT', '/api/v1/projects/default/flags/banner/environments/production', { defaultServe: 'blue' });
    await waitFor(() => changed.length > 0, 1_000, 'ConfigurationChanged');
    expect(changed[0]).toMatchObject({ flagsChanged: ['banner'] });
    expect(client.getStringValue('banner', 'none')).toBe('blue');
  });
});
