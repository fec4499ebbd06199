import openapiTS, { astToString } from 'openapi-typescript';
import { createTestApp } from '../../server/src/testing/test-app.js';

const banner = '// Generated from the server\'s GET /api/v1/openapi.json by `npm run generate -w @switchyard/contracts`. Do not edit.\n';

/** The v1 API's TypeScript types, as generated from the current server's own OpenAPI document. */
export async function generateContracts(): Promise<string> {
  const testApp = await createTestApp('sqlite');
  try {
    const response = await testApp.app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    if (response.statusCode !== 200) throw new Error(`openapi.json answered ${response.statusCode}`);
    const ast = await openapiTS(response.json());
    return banner + astToString(ast);
  } finally {
    await testApp.close();
  }
}
