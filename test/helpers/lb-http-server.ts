import { createServer } from 'node:http';

/**
 * A real HTTP server for the balancer lab: it listens on every address of its namespace
 * (the cluster address on lo included) on port 80 and answers every request with its name,
 * keeping connections open (long-lived flows through the balancer). Prints `listening`.
 * Usage: node --import tsx test/helpers/lb-http-server.ts NAME
 */
const name = process.argv[2] ?? 'server';
const server = createServer((request, response) => {
  request.resume();
  response.writeHead(200, { 'content-type': 'text/plain', 'content-length': name.length });
  response.end(name);
});
// Long-lived flows: idle connections stay open (the test decides when they end).
server.keepAliveTimeout = 600_000;
server.headersTimeout = 600_000;
server.requestTimeout = 0;
server.listen(80, '0.0.0.0', () => {
  process.stdout.write('listening\n');
});
process.on('SIGTERM', () => process.exit(0));
