/**
 * Profiles a Node FUSE server under one workload: the caller starts the server with `node --cpu-prof` writing
 * into the directory given here, this runs the workload once to warm up and then N times, stops the server (node
 * writes the profile at exit) and prints the functions ranked by self and total time over the N timed runs only.
 */
import { CleanupRegistry } from './cleanup';
import { makeTempDir } from './mounts';
import { runOnce, Target } from './runner';
import { listCpuProfiles, ProfileWindow, summarizeCpuProfile } from './cpu-profile';
import { median } from './timing';
import { formatTable } from './table';
import { Workload } from './workloads';

export interface ProfiledServer extends Target {
  stop(): Promise<void>;
}

export interface ProfileRunOptions {
  /** Starts the server with `--cpu-prof --cpu-prof-dir=<cpuProfDir>`. */
  start(cpuProfDir: string): Promise<ProfiledServer>;
  workload: Workload;
  reps: number;
  top: number;
  dropCaches: boolean;
  cleanup: CleanupRegistry;
  /** Where file paths in the profile are shown relative to. */
  projectRoot: string;
  out?: (text: string) => void;
}

const PSEUDO_FRAMES = new Set(['(root)', '(idle)']);

export async function profileServer(opts: ProfileRunOptions): Promise<void> {
  const out = opts.out ?? ((text: string) => process.stdout.write(`${text}\n`));
  const dir = makeTempDir(opts.cleanup, 'bench-cpuprof');
  const server = await opts.start(dir);
  const values: number[] = [];
  const nowUs = () => Number(process.hrtime.bigint() / 1000n);
  let window: ProfileWindow;
  try {
    await runOnce(opts.workload, server, opts); // warm-up, outside the window
    window = { fromUs: nowUs(), toUs: 0 };
    for (let i = 0; i < opts.reps; i++) values.push(await runOnce(opts.workload, server, opts));
    window.toUs = nowUs();
  } finally {
    await server.stop();
  }
  const files = listCpuProfiles(dir);
  if (files.length === 0) throw new Error('the server wrote no .cpuprofile (did it exit through process.exit or a signal it handles?)');
  const summary = summarizeCpuProfile(files[0], opts.projectRoot, window);
  const busy = summary.sampledMs - summary.idleMs;
  const unit = opts.workload.metric === 'time' ? 'ms' : 'IOPS';
  out(`\nCPU profile of ${server.name} for "${opts.workload.label}" (${opts.reps} run(s) after a warm-up, median `
    + `${median(values).toFixed(0)} ${unit} under the profiler): ${summary.sampledMs.toFixed(0)} ms sampled while they ran, `
    + `${busy.toFixed(0)} ms of it busy`);
  const ranked = (key: 'selfMs' | 'totalMs') => summary.functions
    .filter((f) => !PSEUDO_FRAMES.has(f.where))
    .sort((a, b) => b[key] - a[key])
    .slice(0, opts.top)
    .map((f) => [f.where, f.selfMs.toFixed(1), `${((100 * f.selfMs) / busy).toFixed(1)}%`, f.totalMs.toFixed(1), `${((100 * f.totalMs) / busy).toFixed(1)}%`]);
  const columns = [
    { header: 'function' }, { header: 'self ms', align: 'right' as const }, { header: 'self', align: 'right' as const },
    { header: 'total ms', align: 'right' as const }, { header: 'total', align: 'right' as const },
  ];
  out(`\ntop ${opts.top} by self time (% of busy time):\n${formatTable(columns, ranked('selfMs'))}`);
  out(`\ntop ${opts.top} by total time:\n${formatTable(columns, ranked('totalMs'))}`);
}
