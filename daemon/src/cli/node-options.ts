/**
 * The Node.js options nydusd runs with. The nydusd bin's first line carries them (`env -S node ...`), and whoever
 * starts nydusd as `process.execPath script ...` (the supervisor, the benchmarks, the tests) puts them before the
 * script.
 *
 * --v8-pool-size=1: V8's background threads (optimizing compiles, GC helpers) are four by default. A fresh daemon
 * compiles its request path while it serves its first walk, and on a 2-vCPU machine several compiles at once take
 * the CPU from the main thread and from the walker. With one background thread, a fresh daemon's cold lstat walk
 * of the rafs benchmark's mkfs.erofs image took 282.6 against 320.7 ms (interleaved loops, medians of 12;
 * squashfuse 307.0) and its cold tar of 5,000 files 619 against 681 ms; a long-lived passthrough_fs daemon's walks
 * did not change. README, "One V8 background thread", has the other loops.
 */
export const NYDUSD_NODE_OPTIONS: readonly string[] = ['--v8-pool-size=1'];
