#!/usr/bin/env -S node --max-semi-space-size=4
// The installed command: runs the compiled entry point (built by `npm install` / `npm run build`).
// A 4 MB young generation (V8's default grows to 16 MB per semi-space) keeps the resident
// size of large zones low; answers allocate little, so scavenges stay cheap. See BENCHMARKS.md.
import '../dist/main.js';
