/* global process */
// For the stream benchmark only: the built CLI's `serve`, in a process started with --expose-gc
// that runs a full collection on SIGUSR2 — so heap figures compare live objects, not GC timing.
process.on('SIGUSR2', () => globalThis.gc?.());
await import('../dist/cli.js');
