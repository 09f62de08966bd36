#!/usr/bin/env -S node --max-semi-space-size=4 --expose-gc --import=data:text/javascript,process.on(`SIGUSR1`,()=>{});process.on(`SIGUSR2`,()=>{})
// The installed command: runs the bundled entry point, dist/steerdns.mjs (built by
// `npm install` / `npm run build`). The first two options keep the resident size of large
// zones low (see BENCHMARKS.md): a 4 MB young generation (V8's default grows to 16 MB per
// semi-space; answers allocate little, so scavenges stay cheap), and --expose-gc so that
// steerdns can collect the garbage of a zone load once, right after it. The --import gives
// SIGUSR1 and SIGUSR2 a listener before the bundle loads (main.ts sets what they do once it
// runs): without one, SIGUSR1 opens Node's inspector on 127.0.0.1:9229 and SIGUSR2 ends the
// process. Workers are forked with the same options.
import '../dist/steerdns.mjs';
