#!/usr/bin/env node
/**
 * nydus-image: build, inspect and check RAFS v6 images.
 *   nydus-image create [--compressor none|zstd|lz4_block] [--chunk-size SIZE] [--digester blake3|sha256]
 *                      --bootstrap OUT --blob-dir DIR [--blob-inline-meta|--self-contained] [--holes] SOURCE
 *   nydus-image inspect BOOTSTRAP [--json]
 *   nydus-image check BOOTSTRAP --blob-dir DIR [--json]
 * Exit codes: 0 ok, 1 failure (bad image, I/O), 2 usage error.
 */
import { buildImage, BuildProgress, parseSize, UsageError, Compressor, Digester } from '../builder';
import { checkImage } from '../builder/check';
import { formatInspect, inspectImage } from '../builder/inspect';

const USAGE = `usage:
  nydus-image create [--compressor none|zstd|lz4_block] [--chunk-size SIZE] [--digester blake3|sha256]
                     --bootstrap OUT --blob-dir DIR [--blob-inline-meta|--self-contained] [--holes] SOURCE
  nydus-image inspect BOOTSTRAP [--json]
  nydus-image check BOOTSTRAP --blob-dir DIR [--json]

  SOURCE       a directory or an OCI layer tarball (.tar, .tar.gz)
  --compressor default zstd; "none" gives a blob the kernel can mount as an EROFS extra device
  --chunk-size power of two, 4K..16M (default 1M)
  --digester   chunk digest, default sha256
  --blob-inline-meta, --self-contained
               also store the bootstrap in the blob (ToC entry image.boot); the blob is named by the
               sha256 of everything before it
  --holes      all-zero chunks become EROFS holes (the kernel and our nydusd read them; upstream nydusd
               does not); by default one zero chunk is stored and shared
  BOOTSTRAP    for inspect/check, a bootstrap file or a self-contained blob`;

interface Parsed {
  values: Map<string, string>;
  flags: Set<string>;
  positional: string[];
}

function parseArgs(args: string[], valued: string[], booleans: string[]): Parsed {
  const out: Parsed = { values: new Map(), flags: new Set(), positional: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) {
      out.positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    if (valued.includes(name)) {
      const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      out.values.set(name, value);
    } else if (booleans.includes(name) && eq < 0) {
      out.flags.add(name);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return out;
}

function one(p: Parsed, what: string): string {
  if (p.positional.length !== 1) throw new UsageError(`expected exactly one ${what}, got ${p.positional.length}`);
  return p.positional[0];
}

/** A progress line on stderr when it is a terminal, shown once the build has run for a second. */
function progressPrinter(): { update?: (p: BuildProgress) => void; finish: () => void } {
  if (!process.stderr.isTTY) return { finish: () => undefined };
  let shown = false;
  const finish = (): void => {
    if (shown) process.stderr.write('\n');
    shown = false;
  };
  const update = (p: BuildProgress): void => {
    if (p.elapsedMs < 1000) return;
    shown = true;
    const mb = p.bytesIn / 1048576;
    process.stderr.write(`\r\x1b[K${p.files} files, ${mb.toFixed(1)} MiB read, ${(mb / (p.elapsedMs / 1000)).toFixed(1)} MiB/s, ${(p.bytesOut / 1048576).toFixed(1)} MiB written`);
  };
  return { update, finish };
}

async function create(args: string[]): Promise<void> {
  const p = parseArgs(args, ['compressor', 'chunk-size', 'digester', 'bootstrap', 'blob-dir'], ['blob-inline-meta', 'self-contained', 'holes']);
  const source = one(p, 'SOURCE');
  const warnings: string[] = [];
  const progress = progressPrinter();
  const result = await buildImage({
    source,
    bootstrapPath: p.values.get('bootstrap') ?? '',
    blobDir: p.values.get('blob-dir') ?? '',
    compressor: p.values.get('compressor') as Compressor | undefined,
    digester: p.values.get('digester') as Digester | undefined,
    chunkSize: p.values.has('chunk-size') ? parseSize(p.values.get('chunk-size')!) : undefined,
    selfContained: p.flags.has('blob-inline-meta') || p.flags.has('self-contained'),
    holes: p.flags.has('holes'),
    onProgress: progress.update,
    onWarning: (w) => warnings.push(w),
  }).finally(progress.finish);
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

function inspect(args: string[]): void {
  const p = parseArgs(args, [], ['json']);
  const report = inspectImage(one(p, 'BOOTSTRAP'));
  process.stdout.write(p.flags.has('json') ? `${JSON.stringify(report, null, 2)}\n` : `${formatInspect(report)}\n`);
}

function check(args: string[]): void {
  const p = parseArgs(args, ['blob-dir'], ['json']);
  const bootstrap = one(p, 'BOOTSTRAP');
  const blobDir = p.values.get('blob-dir');
  if (!blobDir) throw new UsageError('--blob-dir is required');
  const report = checkImage(bootstrap, blobDir);
  process.stdout.write(p.flags.has('json') ? `${JSON.stringify(report, null, 2)}\n`
    : `OK: ${report.stats.inodes} inodes, ${report.chunksVerified} chunks verified in ${report.blobs.length} blob(s)\n`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'create': await create(rest); return 0;
      case 'inspect': inspect(rest); return 0;
      case 'check': check(rest); return 0;
      case '--help': case '-h': case 'help': process.stdout.write(`${USAGE}\n`); return 0;
      default: throw new UsageError(command ? `unknown command "${command}"` : 'no command given');
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`nydus-image: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`nydus-image: ${(err as Error).message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
