/* global process */
// For comparison only: Fastify with no plugins or hooks answering the same JSON POST, i.e. what
// the framework itself costs over node:http. Started by http-bench.mjs on the port in argv[2].
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/', async (req) => ({ flagKey: req.body.flagKey, value: true, variation: 'on', reason: 'TARGETING_MATCH', kind: 'RULE_MATCH', enabled: true }));
await app.listen({ port: Number(process.argv[2]), host: '127.0.0.1' });
process.stdout.write('ready\n');
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
