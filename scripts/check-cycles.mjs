// Fails when the import graph of src/**/*.ts has a cycle, between files or between the folders
// of src/ (src/app.ts and src/main.ts count as folders of their own), and lists each one.
//
// Every import counts, `import type` and `export ... from` included: a type-only cycle still
// ties the folders together (docs/architecture.md). Only relative imports between files of
// src/ are edges; packages and node: modules are not part of the graph.
//
// Usage: node scripts/check-cycles.mjs [root]   (root defaults to src)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import process from 'node:process';

const root = resolve(process.argv[2] ?? 'src');

/** Every .ts file below `dir`. */
function sourceFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** Module specifiers of static imports, re-exports and dynamic `import('...')`. */
const IMPORT =
  /(?:^|[\s;])(?:import|export)\s(?:[^'"`;]*?\sfrom\s*)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Drops comments (strings are kept: specifiers live in them). */
function withoutComments(text) {
  return text.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** The .ts file a relative specifier names, or undefined for packages and other files. */
function target(from, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(from), specifier);
  const candidates = [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, join(base, 'index.ts')];
  const found = candidates.find((c) => c.endsWith('.ts') && existsSync(c));
  return found !== undefined && found.startsWith(root) ? found : undefined;
}

const files = sourceFiles(root).sort();
/** @type {Map<string, string[]>} */
const edges = new Map();
for (const file of files) {
  const text = withoutComments(readFileSync(file, 'utf8'));
  const out = new Set();
  for (const match of text.matchAll(IMPORT)) {
    const to = target(file, match[1] ?? match[2]);
    if (to !== undefined) out.add(to);
  }
  edges.set(file, [...out].sort());
}

/** Tarjan's strongly connected components of `graph`, iteratively: the cyclic ones only. */
function cyclicComponents(graph) {
  let counter = 0;
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const components = [];
  for (const start of [...graph.keys()].sort()) {
    if (index.has(start)) continue;
    const work = [{ node: start, next: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const successors = graph.get(frame.node) ?? [];
      if (frame.next < successors.length) {
        const next = successors[frame.next++];
        if (!index.has(next)) {
          index.set(next, counter);
          low.set(next, counter++);
          stack.push(next);
          onStack.add(next);
          work.push({ node: next, next: 0 });
        } else if (onStack.has(next)) {
          low.set(frame.node, Math.min(low.get(frame.node), index.get(next)));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent), low.get(frame.node)));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component = [];
        let member;
        do {
          member = stack.pop();
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        const selfLoop = (graph.get(frame.node) ?? []).includes(frame.node);
        if (component.length > 1 || selfLoop) components.push(component.sort());
      }
    }
  }
  return components;
}

/** One shortest cycle through the first file of a component, as a path of files. */
function cycleThrough(graph, component) {
  const inside = new Set(component);
  const [first] = component;
  const previous = new Map([[first, undefined]]);
  const queue = [first];
  while (queue.length > 0) {
    const node = queue.shift();
    for (const next of graph.get(node) ?? []) {
      if (next === first) {
        const path = [node];
        for (let at = previous.get(node); at !== undefined; at = previous.get(at)) path.push(at);
        return [...path.reverse(), first];
      }
      if (inside.has(next) && !previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return [first, first];
}

/** Writes one line of the report. */
const say = (line) => process.stderr.write(`${line}\n`);
const name = (file) => relative(process.cwd(), file);

/** The folder of src/ a file belongs to, or the file itself for src/app.ts and src/main.ts. */
const folderOf = (file) => relative(root, file).split('/')[0];
/** @type {Map<string, string[]>} */
const folders = new Map();
/** One import that makes each folder edge, to show where it comes from. */
const witness = new Map();
for (const [file, targets] of edges) {
  const from = folderOf(file);
  const out = new Set(folders.get(from) ?? []);
  for (const to of targets) {
    const toFolder = folderOf(to);
    if (toFolder === from) continue;
    out.add(toFolder);
    if (!witness.has(`${from} ${toFolder}`))
      witness.set(`${from} ${toFolder}`, `${name(file)} imports ${name(to)}`);
  }
  folders.set(from, [...out].sort());
}

const fileCycles = cyclicComponents(edges);
const folderCycles = cyclicComponents(folders);
for (const component of fileCycles) {
  say(
    `check-cycles: files import each other: ${cycleThrough(edges, component).map(name).join(' -> ')}`,
  );
  if (component.length > 2)
    say(`  (${component.length} files tied together: ${component.map(name).join(', ')})`);
}
for (const component of folderCycles) {
  const cycle = cycleThrough(folders, component);
  say(`check-cycles: folders import each other: ${cycle.join(' -> ')}`);
  for (let i = 0; i + 1 < cycle.length; i++) say(`  ${witness.get(`${cycle[i]} ${cycle[i + 1]}`)}`);
  if (component.length > 2)
    say(`  (${component.length} folders tied together: ${component.join(', ')})`);
}
if (fileCycles.length + folderCycles.length === 0) {
  process.stdout.write(
    `check-cycles: no import cycles among ${files.length} files (${folders.size} folders) under ${name(root)}\n`,
  );
} else {
  process.exitCode = 1;
}
