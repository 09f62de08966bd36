// Resolves the npm packages the Node baselines use. dns-packet is a devDependency of
// steerdns, so it comes from the repository's node_modules; dns2 (node-dns2 only) is
// installed by bench/install.sh into a scratch folder (default /tmp/dnsbench-npm).
// ESM ignores NODE_PATH, hence createRequire.
import { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';

const scratch = createRequire(
  path.join(process.env.DNSBENCH_NPM_DIR || '/tmp/dnsbench-npm', 'package.json'),
);
const repo = createRequire(fileURLToPath(new URL('../../package.json', import.meta.url)));

export function requireNpm(name) {
  try {
    return scratch(name);
  } catch {
    return repo(name);
  }
}
