/**
 * Compressed images (zstd, lz4_block; blake3 and sha256 digests; separate and self-contained) read back
 * through the project's rafs reader (openRafs -> FileSystem) exactly as the source tree was.
 */
import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { buildImage, Compressor, Digester } from '../../daemon/src/builder';
import { generateTree } from './helpers/tree-gen';
import { runCli, tempDir } from './helpers/image';
import { snapshotDir, snapshotFs } from './helpers/snapshot';

const readerEntry = path.resolve(__dirname, '../../daemon/src/rafs/index.js');

const cases: Array<{ compressor: Compressor; digester: Digester; chunkSize: number; selfContained: boolean; holes?: boolean }> = [
  { compressor: 'zstd', digester: 'blake3', chunkSize: 1048576, selfContained: false },
  { compressor: 'lz4_block', digester: 'sha256', chunkSize: 65536, selfContained: false, holes: true },
  { compressor: 'zstd', digester: 'sha256', chunkSize: 4096, selfContained: true },
  { compressor: 'lz4_block', digester: 'blake3', chunkSize: 1048576, selfContained: true },
];

for (const [i, c] of cases.entries()) {
  const name = `${c.compressor}/${c.digester}/chunk ${c.chunkSize}${c.selfContained ? '/self-contained' : ''}${c.holes ? '/holes' : ''}`;
  test(`${name}: the rafs reader serves what the source holds`, async (t) => {
    if (!fs.existsSync(readerEntry)) {
      t.log(`reader not built (${readerEntry} missing): skipped`);
      t.pass();
      return;
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { openRafs } = require(readerEntry) as typeof import('../../daemon/src/rafs');
    const work = tempDir(t, 'nydus-build-reader-');
    const src = path.join(work, 'src');
    fs.mkdirSync(src);
    generateTree(src, { seed: 100 + i, bigDirEntries: 300 });
    const blobDir = path.join(work, 'blobs');
    const result = await buildImage({ source: src, bootstrapPath: path.join(work, 'boot'), blobDir, ...c });
    const check = runCli(['check', result.bootstrapPath, '--blob-dir', blobDir]);
    t.is(check.status, 0, check.stderr);
    t.true(result.bytesOut < result.bytesIn, 'compressible content got smaller');
    const bootstrap = c.selfContained ? result.blobPath : result.bootstrapPath;
    const fsys = await openRafs({ bootstrap, localfsDir: blobDir, digestValidate: true });
    try {
      const want = snapshotDir(src);
      const got = await snapshotFs(fsys);
      t.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
      for (const p of Object.keys(want)) t.deepEqual(got[p], want[p], p);
    } finally {
      await fsys.close();
    }
  });
}
