/**
 * Passthrough benchmark: the same workloads over one generated dataset on the kernel directory, bindfs,
 * a minimal fuse-native passthrough and our server, in one run, printed as one table with our cost relative to
 * the kernel and to bindfs (rows where we are slower than bindfs are flagged). Needs root (FUSE mounts, dropping
 * caches), bindfs, fio and python3. Everything it mounts or creates is undone on exit, error or Ctrl-C.
 *
 *   node dist/test/bench/passthrough-bench.js [--quick] [--reps N] [--only W,W] [--profile W] [--top N]
 *
 * Workloads W: find, lstat, tar, dd, fio1, fio4. --quick: 1,000 small files, a 64 MiB big file, 2 s fio runs.
 * --only: run just these workloads. --profile W: afterwards, run W on a fresh instance of our server under
 * `node --cpu-prof` and list the --top N (15) functions it spent its time in.
 */
import { spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';
import { CleanupRegistry } from './lib/cleanup';
import { Dataset, generateDataset } from './lib/dataset';
import { profileServer } from './lib/profile-run';
import { makeTempDir } from './lib/mounts';
import { FLAG_LEGEND } from './lib/paired';
import { comparisonTable, errorNotes } from './lib/report';
import { runMatrix } from './lib/runner';
import { canDropCaches } from './lib/timing';
import { runsNote, STANDARD_WORKLOAD_IDS, standardWorkloads, Workload } from './lib/workloads';
import { DIST, kernelPeer, Peer, startBindfs, startFuseNative, startOurs } from './peers/passthrough-peers';

interface BenchOptions {
  smallFiles: number;
  bigFileBytes: number;
  fioSeconds: number;
  reps: number;
  profile?: string;
  only?: string[];
  top: number;
}

function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' }, reps: { type: 'string' }, profile: { type: 'string' }, top: { type: 'string' },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write('usage: node dist/test/bench/passthrough-bench.js [--quick] [--reps N] [--only W,W] [--profile W] [--top N]\n'
      + '  workloads W: find, lstat, tar, dd, fio1, fio4\n');
    process.exit(0);
  }
  const positive = (flag: string, text: string | undefined, fallback: number) => {
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} wants a positive integer, got "${text}"`);
    return n;
  };
  const workloadId = (flag: string, id: string) => {
    if (!(STANDARD_WORKLOAD_IDS as readonly string[]).includes(id)) {
      throw new Error(`${flag}: unknown workload "${id}" (one of ${STANDARD_WORKLOAD_IDS.join(', ')})`);
    }
    return id;
  };
  const quick = values.quick === true;
  return {
    smallFiles: quick ? 1000 : 5000,
    bigFileBytes: (quick ? 64 : 256) << 20,
    fioSeconds: quick ? 2 : 5,
    reps: positive('--reps', values.reps, quick ? 2 : 3),
    profile: values.profile === undefined ? undefined : workloadId('--profile', values.profile),
    only: values.only?.split(',').map((id) => workloadId('--only', id.trim())),
    top: positive('--top', values.top, 15),
  };
}

function missingTools(tools: readonly string[]): string[] {
  return tools.filter((t) => spawnSync('bash', ['-c', `command -v ${t}`], { stdio: 'ignore' }).status !== 0);
}

const say = (message: string) => process.stderr.write(`${message}\n`);

/** Starts a peer, or says why it is left out. */
async function optionalPeer(name: string, start: () => Promise<Peer>): Promise<Peer | undefined> {
  try {
    return await start();
  } catch (err) {
    say(`${name} left out: ${(err as Error).message}`);
    return undefined;
  }
}

async function run(opts: BenchOptions, cleanup: CleanupRegistry): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the benchmark needs root (FUSE mounts, dropping caches)');
  const missing = missingTools(['fio', 'python3', 'tar', 'dd', 'find']);
  if (missing.length > 0) throw new Error(`missing tools: ${missing.join(', ')}`);
  const dropCaches = canDropCaches();
  if (!dropCaches) say('warning: cannot write /proc/sys/vm/drop_caches; "cold" runs will be warm');

  const source = makeTempDir(cleanup, 'bench-data');
  say(`generating ${opts.smallFiles} small files and a ${opts.bigFileBytes >> 20} MiB file in ${source}`);
  const dataset = generateDataset(source, { smallFiles: opts.smallFiles, bigFileBytes: opts.bigFileBytes });
  const all = standardWorkloads(dataset, { fioSeconds: opts.fioSeconds });
  const workloads = opts.only ? all.filter((w) => opts.only!.includes(w.id)) : all;
  const profiled = all.find((w) => w.id === opts.profile);

  const peers: Peer[] = [kernelPeer(source)];
  const bindfs = missingTools(['bindfs']).length === 0
    ? await optionalPeer('bindfs', () => startBindfs(source, cleanup)) : (say('bindfs left out: not installed'), undefined);
  const fuseNative = await optionalPeer('fuse-native', () => startFuseNative(source, cleanup));
  const ours = await startOurs(source, cleanup, { warn: say });
  for (const p of [bindfs, fuseNative, ours]) if (p) peers.push(p);
  peers.forEach((p) => say(`${p.name.padEnd(12)} ${p.root}  (${p.detail}${p.pid ? `, pid ${p.pid}` : ''})`));

  const results = await runMatrix(workloads, peers, { reps: opts.reps, warmup: true, dropCaches, progress: say });
  const names = peers.map((p) => p.name);
  const baselines = ['kernel', 'bindfs'].filter((b) => names.includes(b));
  process.stdout.write(`\n${describeRun(opts, dataset, workloads, ours.detail, dropCaches)}\n\n`);
  process.stdout.write(`${comparisonTable(workloads, results, {
    targets: names, subject: 'ours', baselines, flagAgainst: names.includes('bindfs') ? 'bindfs' : undefined,
  })}\n`);
  process.stdout.write('ours/X: our cost as a multiple of X\'s (time ratio; inverse IOPS ratio): above 1.00x = ours slower.\n');
  process.stdout.write(`${FLAG_LEGEND}\n`);
  for (const note of errorNotes(workloads, results, names)) process.stdout.write(`error: ${note}\n`);

  if (profiled) {
    await ours.stop();
    await profileServer({
      start: (cpuProfDir) => startOurs(source, cleanup, { cpuProfDir, warn: say }),
      workload: profiled, reps: opts.reps, top: opts.top, dropCaches, cleanup, projectRoot: path.dirname(DIST),
    });
  }
}

function describeRun(opts: BenchOptions, dataset: Dataset, workloads: readonly Workload[], oursDetail: string, cold: boolean): string {
  const kernel = spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim();
  return [
    `passthrough benchmark, ${new Date().toISOString()}, Linux ${kernel}, node ${process.version}, ${os.cpus().length} CPUs`,
    `dataset: ${dataset.smallFiles} files of 1-8 KiB in ${dataset.dirs} dirs + ${dataset.symlinks} symlinks + one `
      + `${dataset.bigFileBytes >> 20} MiB file (${dataset.entryCount} entries); fio ${opts.fioSeconds} s per run`,
    `median of ${opts.reps} run(s)${runsNote(workloads)} after one warm-up, ${cold ? 'source read through (host caches warm alike), then page cache dropped before each run' : 'caches NOT dropped'}; ours = ${oursDetail}`,
    `load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (other work on the machine skews the figures)`,
  ].join('\n');
}

function main(): void {
  const cleanup = new CleanupRegistry();
  cleanup.installProcessHooks();
  let opts: BenchOptions;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (err) {
    say(`passthrough-bench: ${(err as Error).message}`);
    process.exit(2);
  }
  run(opts, cleanup)
    .then(() => cleanup.run())
    .catch(async (err: unknown) => {
      say(`passthrough-bench: ${err instanceof Error ? err.message : String(err)}`);
      await cleanup.run();
      process.exitCode = 1;
    });
}

main();
