/**
 * Builds the images the rafs benchmark serves, all from the same dataset directory: a plain mkfs.erofs image (the
 * kernel mounts it, and ours serves it), a chunked mkfs.erofs image with its data in a separate blob device, a
 * squashfs image for squashfuse, and, when our builder runs, a zstd RAFS v6 image (bootstrap + blob directory).
 * Only building here; no mounting and no timing of the workloads.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export interface ErofsChunkedImage {
  bootstrap: string;
  blob: string;
}

export interface NydusImage {
  bootstrap: string;
  blobDir: string;
}

export interface BenchImages {
  erofsPlain: string;
  erofsChunked: ErofsChunkedImage;
  squashfs: string;
  /** Undefined when our builder is absent or failed; `nydusSkipped` says why. */
  nydusZstd?: NydusImage;
  nydusSkipped?: string;
  /** Seconds each build took, for the report. */
  buildSeconds: Record<string, number>;
}

function run(command: string, args: string[], timeoutMs = 600_000): void {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20 });
  if (r.error) throw new Error(`${command}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().slice(-1000)}`);
}

function timed(seconds: Record<string, number>, what: string, build: () => void): void {
  const started = process.hrtime.bigint();
  build();
  seconds[what] = Number(process.hrtime.bigint() - started) / 1e9;
}

/**
 * Builds every image of `source` into `outDir`. `nydusImageCli` is dist/daemon/src/cli/nydus-image.js; a failure
 * of our builder is recorded (the benchmark then has no zstd row set), a failure of a Debian tool throws.
 */
export function buildBenchImages(source: string, outDir: string, nydusImageCli: string, log: (m: string) => void): BenchImages {
  const buildSeconds: Record<string, number> = {};
  const erofsPlain = path.join(outDir, 'plain.erofs');
  const erofsChunked = { bootstrap: path.join(outDir, 'chunked.erofs'), blob: path.join(outDir, 'chunked.blob') };
  const squashfs = path.join(outDir, 'image.sqfs');
  log('building mkfs.erofs plain image');
  timed(buildSeconds, 'mkfs.erofs', () => run('mkfs.erofs', ['--quiet', erofsPlain, source]));
  log('building mkfs.erofs --chunksize=1048576 --blobdev image');
  timed(buildSeconds, 'mkfs.erofs chunked', () => run('mkfs.erofs', ['--quiet', '--chunksize=1048576', `--blobdev=${erofsChunked.blob}`, erofsChunked.bootstrap, source]));
  log('building squashfs image (mksquashfs, default gzip)');
  timed(buildSeconds, 'mksquashfs', () => run('mksquashfs', [source, squashfs, '-noappend', '-quiet', '-no-progress']));
  const images: BenchImages = { erofsPlain, erofsChunked, squashfs, buildSeconds };
  if (!fs.existsSync(nydusImageCli)) {
    images.nydusSkipped = `${nydusImageCli} does not exist`;
    return images;
  }
  const nydus = { bootstrap: path.join(outDir, 'zstd.boot'), blobDir: path.join(outDir, 'zstd-blobs') };
  fs.mkdirSync(nydus.blobDir);
  try {
    log('building our zstd RAFS v6 image (nydus-image create --compressor zstd)');
    timed(buildSeconds, 'nydus-image zstd', () => run(process.execPath, [
      nydusImageCli, 'create', '--compressor', 'zstd', '--bootstrap', nydus.bootstrap, '--blob-dir', nydus.blobDir, source,
    ]));
    images.nydusZstd = nydus;
  } catch (err) {
    images.nydusSkipped = (err as Error).message;
  }
  return images;
}
