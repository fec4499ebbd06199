import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../config.js';

const pem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const account = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'service_account', project_id: 'acme-push', client_email: 'push@acme.iam.gserviceaccount.com', private_key: pem, token_uri: 'https://oauth2.example.test/token', ...overrides });

function fails(env: Record<string, string>, variable: string, message: RegExp): void {
  let error: unknown;
  try {
    loadConfig(env);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).variable).toBe(variable);
  expect((error as Error).message).toMatch(message);
}

describe('engagement configuration', () => {
  it('SWITCHYARD_SANDBOX_DAYS: default 14, a whole number from 1 to 3650', () => {
    expect(loadConfig({}).sandboxDays).toBe(14);
    expect(loadConfig({ SWITCHYARD_SANDBOX_DAYS: '30' }).sandboxDays).toBe(30);
    fails({ SWITCHYARD_SANDBOX_DAYS: '0' }, 'SWITCHYARD_SANDBOX_DAYS', /between 1 and 3650/);
    fails({ SWITCHYARD_SANDBOX_DAYS: 'two weeks' }, 'SWITCHYARD_SANDBOX_DAYS', /whole number/);
  });

  it('FCM: off by default; a service account inline or from a file; FCM_API_BASE_URL', () => {
    expect(loadConfig({}).fcm).toBeNull();
    expect(loadConfig({ FCM_SERVICE_ACCOUNT_JSON: account() }).fcm).toEqual({
      projectId: 'acme-push',
      clientEmail: 'push@acme.iam.gserviceaccount.com',
      privateKey: pem,
      tokenUri: 'https://oauth2.example.test/token',
      apiBaseUrl: 'https://fcm.googleapis.com',
    });
    const file = join(mkdtempSync(join(tmpdir(), 'fcm-')), 'sa.json');
    writeFileSync(file, account({ token_uri: undefined }));
    const fromFile = loadConfig({ FCM_SERVICE_ACCOUNT_JSON_FILE: file, FCM_API_BASE_URL: 'http://127.0.0.1:9999/' }).fcm;
    expect(fromFile).toMatchObject({ tokenUri: 'https://oauth2.googleapis.com/token', apiBaseUrl: 'http://127.0.0.1:9999' });
  });

  it('FCM: each bad setting is named', () => {
    fails({ FCM_SERVICE_ACCOUNT_JSON: '{not json' }, 'FCM_SERVICE_ACCOUNT_JSON', /not a JSON object/);
    fails({ FCM_SERVICE_ACCOUNT_JSON: account({ client_email: '' }) }, 'FCM_SERVICE_ACCOUNT_JSON', /client_email/);
    fails({ FCM_SERVICE_ACCOUNT_JSON: account({ private_key: 'nope' }) }, 'FCM_SERVICE_ACCOUNT_JSON', /PEM private key/);
    fails({ FCM_SERVICE_ACCOUNT_JSON: account({ token_uri: 'ftp://x' }) }, 'FCM_SERVICE_ACCOUNT_JSON', /token_uri/);
    fails({ FCM_SERVICE_ACCOUNT_JSON: account({ project_id: 'a/b' }) }, 'FCM_SERVICE_ACCOUNT_JSON', /project_id/);
    fails({ FCM_SERVICE_ACCOUNT_JSON_FILE: '/no/such/file.json' }, 'FCM_SERVICE_ACCOUNT_JSON_FILE', /cannot read/);
    fails({ FCM_SERVICE_ACCOUNT_JSON: account(), FCM_SERVICE_ACCOUNT_JSON_FILE: '/x' }, 'FCM_SERVICE_ACCOUNT_JSON_FILE', /not both/);
    fails({ FCM_API_BASE_URL: 'fcm.example' }, 'FCM_API_BASE_URL', /valid URL/);
  });
});
