/**
 * Build throughput and output size: one tree built by our nydus-image (compressor none, zstd, lz4_block),
 * mkfs.erofs (plain, and lz4hc if this erofs-utils has it) and mksquashfs (gzip default, zstd), in one
 * run. Input MB/s counts file content bytes; ratio = output bytes / content bytes. Output goes to a temp
 * dir that is removed afterwards. Page cache is warmed by a first untimed read so every tool sees the same.
 *
 *   node dist/test/bench/build-bench.js [TREE]      (default /usr/lib/node_modules/npm, else /usr/include)
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { buildImage, Compressor } from '../../daemon/src/builder';

export interface BenchRow {
  tool: string;
  seconds: number;
  mbPerSec: number;
  outputBytes: number;
  ratio: number;
}

function contentBytes(root: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  const walk = (p: string): void => {
    for (const e of fs.readdirSync(p, { withFileTypes: true })) {
      const c = path.join(p, e.name);
      files++;
      if (e.isDirectory()) walk(c);
      else if (e.isFile()) {
        bytes += fs.statSync(c).size;
        fs.readFileSync(c); // warm the page cache
      }
    }
  };
  walk(root);
  return { bytes, files };
}

function dirBytes(dir: string): number {
  return fs.readdirSync(dir).reduce((sum, n) => sum + fs.statSync(path.join(dir, n)).size, 0);
}

function timeExternal(cmd: string, args: string[]): number | undefined {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) return undefined;
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export async function runBuildBench(tree: string): Promise<{ rows: BenchRow[]; bytes: number; files: number }> {
  const { bytes, files } = contentBytes(tree);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nydus-build-bench-'));
  const rows: BenchRow[] = [];
  const add = (tool: string, seconds: number | undefined, outputBytes: number): void => {
    if (seconds === undefined) return;
    rows.push({ tool, seconds, mbPerSec: bytes / 1048576 / seconds, outputBytes, ratio: outputBytes / bytes });
  };
  try {
    for (const compressor of ['none', 'zstd', 'lz4_block'] as Compressor[]) {
      const out = path.join(work, `ours-${compressor}`);
      const start = process.hrtime.bigint();
      await buildImage({ source: tree, bootstrapPath: path.join(out, 'boot'), blobDir: path.join(out, 'blobs'), compressor });
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      add(`nydus-image (ts) ${compressor}`, seconds, fs.statSync(path.join(out, 'boot')).size + dirBytes(path.join(out, 'blobs')));
    }
    const erofs = path.join(work, 'plain.erofs');
    add('mkfs.erofs plain', timeExternal('mkfs.erofs', ['-T0', erofs, tree]), fs.existsSync(erofs) ? fs.statSync(erofs).size : 0);
    const erofsLz4 = path.join(work, 'lz4hc.erofs');
    const lz4Time = timeExternal('mkfs.erofs', ['-zlz4hc', '-T0', erofsLz4, tree]);
    add('mkfs.erofs lz4hc', lz4Time, lz4Time === undefined ? 0 : fs.statSync(erofsLz4).size);
    for (const comp of ['gzip', 'zstd']) {
      const sq = path.join(work, `${comp}.sqfs`);
      const s = timeExternal('mksquashfs', [tree, sq, '-comp', comp, '-noappend', '-quiet', '-no-progress']);
      add(`mksquashfs ${comp}`, s, s === undefined ? 0 : fs.statSync(sq).size);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return { rows, bytes, files };
}

export function formatBench(tree: string, r: { rows: BenchRow[]; bytes: number; files: number }): string {
  const lines = [
    `tree ${tree}: ${r.files} entries, ${(r.bytes / 1048576).toFixed(1)} MiB of file content (${os.cpus().length} CPUs)`,
    `${'tool'.padEnd(28)}${'seconds'.padStart(9)}${'MB/s'.padStart(9)}${'output MiB'.padStart(12)}${'ratio'.padStart(8)}`,
  ];
  for (const row of r.rows) {
    lines.push(`${row.tool.padEnd(28)}${row.seconds.toFixed(2).padStart(9)}${row.mbPerSec.toFixed(1).padStart(9)}${(row.outputBytes / 1048576).toFixed(2).padStart(12)}${row.ratio.toFixed(3).padStart(8)}`);
  }
  return lines.join('\n');
}

if (require.main === module) {
  const tree = process.argv[2] ?? ['/usr/lib/node_modules/npm', '/usr/include'].find((p) => fs.existsSync(p));
  if (!tree) {
    process.stderr.write('no tree given and neither default exists\n');
    process.exit(2);
  }
  runBuildBench(tree).then((r) => process.stdout.write(`${formatBench(tree, r)}\n`), (err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
}
