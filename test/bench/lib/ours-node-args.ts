/**
 * The node arguments our server runs with in the benchmarks: nydusd's own Node.js options, then, when profiling,
 * V8's CPU profiler writing into `cpuProfDir`.
 */
import { NYDUSD_NODE_OPTIONS } from '../../../daemon/src/cli/node-options';

export function oursNodeArgs(cpuProfDir: string | undefined): string[] {
  return [...NYDUSD_NODE_OPTIONS, ...(cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [])];
}
