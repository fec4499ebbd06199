/* global process, Buffer */
// The ceiling: the least any Node HTTP server must do to answer a JSON POST (read the body,
// parse it, serialise an answer). Started by http-bench.mjs on the port given as argv[2].
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const answer = JSON.stringify({ flagKey: body.flagKey, value: true, variation: 'on', reason: 'TARGETING_MATCH', kind: 'RULE_MATCH', enabled: true });
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(answer) });
    res.end(answer);
  });
});
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
