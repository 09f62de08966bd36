/**
 * Runs a full garbage collection when the process allows it (`node --expose-gc`, as
 * bin/steerdns.js starts it), and does nothing otherwise.
 *
 * Loading a zone makes several times its own size in short-lived objects (tokens, wire
 * names, the name table's outgrown copies). Left to itself, V8 sizes the heap around that
 * peak and keeps the pages: a 100,000-record zone stayed about 20 MB larger than its live
 * data. One collection right after a load, before the heap grows around the garbage,
 * returns it. It costs a few tens of milliseconds, once per load or reload, never per query.
 */
export function collectLoadGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
