import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * HTTP backends for health-checked members, each in a process of its own: a test that
 * kills one (SIGKILL, by PID) sees what a server sees when a backend dies, and a busy test
 * process (a browser driven from it, a server starting) cannot make the others slow to
 * answer their checks. All listen on one port the system chose (a service's checks probe
 * one port on every member's address): the first on port 0, the others on its port.
 */

/** Backends by address, on one port. */
export interface HttpBackends {
  readonly port: number;
  /** Kills the backend on `address` (SIGKILL) and resolves once it has exited. */
  kill(address: string): Promise<void>;
  /** Kills every backend still running. */
  stop(): Promise<void>;
}

/** Answers 200 on /health, 404 elsewhere; prints the port it listens on. */
const SCRIPT = `
const http = require('node:http');
const [host, port] = process.argv.slice(1);
const server = http.createServer((request, response) => {
  response.writeHead(request.url === '/health' ? 200 : 404).end('ok');
});
server.on('error', (error) => { console.log('error ' + error.code); process.exit(1); });
server.listen(Number(port), host, () => console.log('port ' + server.address().port));
`;

const running = new Set<ChildProcess>();
let exitHook = false;

/** Kills backends a test forgot, so that none outlives the test process or keeps it alive. */
function track(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  child.unref();
  (child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const backend of running) backend.kill('SIGKILL');
  });
}

interface Backend {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
}

/** Starts one backend; resolves its port, or the error code it could not listen with. */
function startOne(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<Backend & { port: number }> {
  const child = spawn(process.execPath, ['-e', SCRIPT, host, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  track(child);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      resolve();
    }),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`http-backends: ${host} did not listen within ${timeoutMs} ms`));
    }, timeoutMs);
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      const [word, value] = line.split(' ');
      if (word === 'port') resolve({ child, exited, port: Number(value) });
      else reject(Object.assign(new Error(`http-backends: ${host}: ${line}`), { code: value }));
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`http-backends: ${host} exited before it listened`));
    });
  });
}

async function killBackend(backend: Backend): Promise<void> {
  if (backend.child.exitCode === null && backend.child.signalCode === null)
    backend.child.kill('SIGKILL');
  await backend.exited;
}

/**
 * Starts a backend on each address, all on one port. When a later address finds that port
 * taken, all are killed and another port tried, at most `attempts` times.
 */
export async function startHttpBackends(
  addresses: readonly string[],
  { attempts = 20, timeoutMs = 30_000 } = {},
): Promise<HttpBackends> {
  for (let attempt = 1; ; attempt++) {
    const started = new Map<string, Backend>();
    let port = 0;
    try {
      for (const address of addresses) {
        const backend = await startOne(address, port, timeoutMs);
        started.set(address, backend);
        port = backend.port;
      }
    } catch (error) {
      await Promise.all([...started.values()].map(killBackend));
      if ((error as { code?: unknown }).code !== 'EADDRINUSE' || attempt >= attempts) throw error;
      continue;
    }
    return {
      port,
      async kill(address) {
        const backend = started.get(address);
        if (!backend) throw new Error(`http-backends: no backend on ${address}`);
        await killBackend(backend);
      },
      async stop() {
        await Promise.all([...started.values()].map(killBackend));
      },
    };
  }
}
