/* global console, process */
// The first page's JavaScript: the scripts and module preloads index.html names (lazy pages
// are not among them), gzipped as a server would send them.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '../dist');
const html = readFileSync(resolve(dist, 'index.html'), 'utf8');
const files = [...html.matchAll(/(?:src|href)="\/app\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]);
let total = 0;
for (const file of files) {
  const gz = gzipSync(readFileSync(resolve(dist, file)), { level: 9 }).length;
  total += gz;
  console.log(`${(gz / 1024).toFixed(1).padStart(7)} KB gz  ${file}`);
}
const limit = 300 * 1024;
console.log(`${(total / 1024).toFixed(1).padStart(7)} KB gz  first page total (limit ${limit / 1024} KB)`);
if (total > limit) process.exit(1);
