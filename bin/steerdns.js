#!/usr/bin/env -S node --max-semi-space-size=4 --expose-gc
// The installed command: runs the bundled entry point, dist/steerdns.mjs (built by
// `npm install` / `npm run build`). Both options keep the resident size of large zones low
// (see BENCHMARKS.md): a 4 MB young generation (V8's default grows to 16 MB per
// semi-space; answers allocate little, so scavenges stay cheap), and --expose-gc so that
// steerdns can collect the garbage of a zone load once, right after it.
import '../dist/steerdns.mjs';
