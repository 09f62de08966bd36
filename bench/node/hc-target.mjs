// Health-check target for the gdnsd-multifo and pdns-ifportup variants.
// Listens (TCP, accept-and-close) on 127.0.0.11, .12 and .13 at HC_PORT; nothing
// listens on 127.0.0.14, so that pool member is seen as DOWN (connection refused).
// Loopback only: every 127.0.0.0/8 address is local on Linux, nothing leaves the host.
import net from 'node:net';
import process from 'node:process';

const port = Number(process.env.HC_PORT || 18080);
const up = (process.env.HC_UP || '127.0.0.11,127.0.0.12,127.0.0.13').split(',');
let connections = 0;
for (const host of up) {
  const srv = net.createServer((sock) => {
    connections++;
    sock.on('error', () => undefined);
    sock.end();
  });
  srv.listen(port, host, () => process.stderr.write(`hc-target listening on ${host}:${port}\n`));
}
process.on('SIGTERM', () => {
  process.stderr.write(`hc-target: ${connections} health-check connections\n`);
  process.exit(0);
});
