import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { generateContracts } from '../src/generate.js';

describe('@switchyard/contracts', () => {
  it('the committed v1 types are what the current server\'s OpenAPI document generates', async () => {
    const committed = await readFile(new URL('../src/v1.ts', import.meta.url), 'utf8');
    // On failure: run `npm run generate -w @switchyard/contracts` and commit packages/contracts/src/v1.ts.
    expect(committed === await generateContracts()).toBe(true);
  }, 60_000);
});
