/**
 * The rafs benchmark: our daemon serving an image against squashfuse and the kernel's own erofs mount of the
 * same data, in one run. It generates a dataset (5,000 small files in nested directories + one 256 MiB random
 * file), builds the images (mkfs.erofs plain and chunked with a blob device, mksquashfs, our zstd RAFS image when
 * our builder works), runs find, an lstat walk, tar of the small files, dd of the big file and fio 4 KiB random
 * reads, each COLD (fresh mount, caches dropped) then WARM (again at once), prints one table and, where ours is
 * slower than squashfuse, profiles our daemon on that workload. Not a test: it asserts nothing beyond each run
 * having covered the whole dataset. Needs root (loop mounts, drop_caches). Everything is unmounted, loop devices
 * are detached and temp files removed at the end, also on error or Ctrl-C.
 *
 *   node dist/test/bench/rafs-bench.js [--quick] [--reps N] [--peers a,b,...] [--no-profile] [--profile-max N]
 */
import * as path from 'path';
import { CleanupRegistry } from './lib/cleanup';
import { generateDataset } from './lib/dataset';
import { makeTempDir } from './lib/mounts';
import { FLAG_LEGEND } from './lib/paired';
import { canDropCaches } from './lib/timing';
import { runsNote, standardWorkloads, Workload } from './lib/workloads';
import { buildBenchImages } from './rafs-bench-images';
import { cellId, errorLines, factorOf, PHASES, rafsTable, runColdWarm } from './rafs-bench-matrix';
import {
  kernelErofsPeer, NYDUS_IMAGE, oursArgsForErofs, oursArgsForNydus, oursPeer, PeerSpec, squashfusePeer,
} from './rafs-bench-peers';
import { profileOurs } from './rafs-bench-profile';

const PROJECT_ROOT = path.resolve(__dirname, '../../..');

interface Options {
  quick: boolean;
  reps: number;
  peers?: string[];
  profile: boolean;
  profileMax: number;
}

const USAGE = 'usage: rafs-bench [--quick] [--reps N] [--peers kernel,squashfuse,ours-erofs,ours-chunked,ours-zstd] [--no-profile] [--profile-max N]';

function parseArgs(argv: readonly string[]): Options {
  const opts: Options = { quick: false, reps: 1, profile: true, profileMax: 3 };
  const count = (flag: string, value: string | undefined) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} needs a whole number, got ${JSON.stringify(value)}\n${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') opts.quick = true;
    else if (a === '--reps') opts.reps = Math.max(1, count(a, argv[++i]));
    else if (a === '--peers') opts.peers = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a === '--no-profile') opts.profile = false;
    else if (a === '--profile-max') opts.profileMax = count(a, argv[++i]);
    else if (a === '--help' || a === '-h') { process.stdout.write(`${USAGE}\n`); process.exit(0); }
    else throw new Error(`unknown argument ${JSON.stringify(a)}\n${USAGE}`);
  }
  return opts;
}

const log = (m: string) => process.stderr.write(`[rafs-bench] ${m}\n`);

/** The losing cells worth profiling: ours slower than squashfuse, worst first, one per workload. */
function losers(workloads: readonly Workload[], results: Parameters<typeof factorOf>[1], ours: readonly PeerSpec[], max: number) {
  const found: Array<{ peer: PeerSpec; workload: Workload; label: string; factor: number }> = [];
  for (const peer of ours) {
    for (const w of workloads) {
      for (const phase of PHASES) {
        const f = factorOf(w, results, cellId(w, phase), peer.name, 'squashfuse');
        if (f !== undefined && f > 1) found.push({ peer, workload: w, label: `${w.id} ${phase}`, factor: f });
      }
    }
  }
  found.sort((a, b) => b.factor - a.factor);
  const seen = new Set<string>();
  return found.filter((l) => !seen.has(l.workload.id) && seen.add(l.workload.id)).slice(0, max);
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('rafs-bench needs root (loop mounts of erofs, drop_caches)');
  const cleanup = new CleanupRegistry();
  cleanup.installProcessHooks();
  try {
    const size = opts.quick
      ? { smallFiles: 1000, bigFileBytes: 64 << 20, fioSeconds: 2 }
      : { smallFiles: 5000, bigFileBytes: 256 << 20, fioSeconds: 5 };
    const work = makeTempDir(cleanup, 'rafs-bench');
    log(`generating ${size.smallFiles} small files + ${size.bigFileBytes >> 20} MiB file under ${work}`);
    const dataset = generateDataset(path.join(work, 'data'), { smallFiles: size.smallFiles, bigFileBytes: size.bigFileBytes });
    const images = buildBenchImages(dataset.root, work, NYDUS_IMAGE, log);
    if (images.nydusSkipped) log(`no zstd row set: ${images.nydusSkipped}`);
    const choices: string[] = [];
    const noteChoice = (m: string) => { choices.push(m); log(m); };
    const all: PeerSpec[] = [
      kernelErofsPeer(images.erofsPlain),
      squashfusePeer(images.squashfs),
      oursPeer('ours-erofs', 'the plain mkfs.erofs image', oursArgsForErofs(images.erofsPlain), noteChoice),
      oursPeer('ours-chunked', 'the mkfs.erofs --chunksize=1M --blobdev image', oursArgsForErofs(images.erofsChunked.bootstrap, images.erofsChunked.blob), noteChoice),
      ...(images.nydusZstd
        ? [oursPeer('ours-zstd', 'our zstd RAFS v6 image', oursArgsForNydus(images.nydusZstd.bootstrap, images.nydusZstd.blobDir), noteChoice)]
        : []),
    ];
    const unknown = (opts.peers ?? []).filter((p) => !all.some((s) => s.name === p));
    if (unknown.length) throw new Error(`unknown peer(s) ${unknown.join(', ')}; known: ${all.map((p) => p.name).join(', ')}`);
    const peers = opts.peers ? all.filter((p) => opts.peers!.includes(p.name)) : all;
    const ours = peers.filter((p) => p.ours);
    const dropping = canDropCaches();
    if (!dropping) log('cannot write /proc/sys/vm/drop_caches: cold runs only start from a fresh mount');
    const workloads = standardWorkloads(dataset, { fioSeconds: size.fioSeconds });
    const timeoutMs = 300_000;
    const results = await runColdWarm(workloads, peers, cleanup, { reps: opts.reps, dropCaches: dropping, timeoutMs, progress: log });

    const out: string[] = [
      `rafs benchmark: ${dataset.smallFiles} small files (${(dataset.smallBytes / (1 << 20)).toFixed(1)} MiB) in ${dataset.entryCount} entries,` +
        ` big file ${dataset.bigFileBytes >> 20} MiB, fio ${size.fioSeconds} s, median of ${opts.reps} rep(s)${runsNote(workloads)}; cold = fresh mount, its image files read through (host caches warm alike), drop_caches,` +
        ' warm = the same run again at once. Factors: ours cost / peer cost (time ratio, inverse IOPS ratio); >1.00x = ours slower.',
      ...peers.filter((p) => !p.ours).map((p) => `  ${p.name}: ${p.detail}`),
      ...choices.map((c) => `  ${c}`),
      `  image builds: ${Object.entries(images.buildSeconds).map(([k, s]) => `${k} ${s.toFixed(1)} s`).join(', ')}`,
      '',
      rafsTable(workloads, results, { kernel: 'kernel', squashfuse: 'squashfuse', ours }),
      FLAG_LEGEND,
      ...errorLines(workloads, results, peers).map((e) => `error: ${e}`),
    ];
    process.stdout.write(`${out.join('\n')}\n`);

    if (opts.profile && peers.some((p) => p.name === 'squashfuse')) {
      const lost = losers(workloads, results, ours, opts.profileMax);
      if (lost.length === 0) process.stdout.write('\nours is at or below squashfuse on every row: nothing to profile.\n');
      for (const l of lost) {
        log(`profiling ${l.peer.name} on ${l.label} (${l.factor.toFixed(2)}x squashfuse)`);
        try {
          const lines = await profileOurs({ peer: l.peer, workload: l.workload, dropCaches: dropping, timeoutMs, top: 12, projectRoot: PROJECT_ROOT }, cleanup);
          process.stdout.write(`\nprofile (${l.label} lost ${l.factor.toFixed(2)}x): ${lines.join('\n')}\n`);
        } catch (err) {
          process.stdout.write(`\nprofile of ${l.peer.name} on ${l.label} failed: ${(err as Error).message}\n`);
        }
      }
    }
  } finally {
    await cleanup.run();
  }
}

main().catch((err) => {
  process.stderr.write(`rafs-bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
