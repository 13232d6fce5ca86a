/**
 * Same source + options -> byte-identical bootstrap and blob, even from a copy of the tree made with
 * cp -a (other inode numbers, other readdir order) and with a self-contained blob.
 */
import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { buildImage, BuildOptions } from '../../daemon/src/builder';
import { generateTree } from './helpers/tree-gen';
import { tempDir } from './helpers/image';

for (const opts of [{ compressor: 'zstd' }, { compressor: 'none', selfContained: true }, { compressor: 'lz4_block', digester: 'sha256' }] as Array<Partial<BuildOptions>>) {
  test(`two builds give identical bytes (${JSON.stringify(opts)})`, async (t) => {
    const work = tempDir(t, 'nydus-build-repro-');
    const src = path.join(work, 'src');
    fs.mkdirSync(src);
    generateTree(src, { seed: 42, bigDirEntries: 200 });
    execFileSync('cp', ['-a', src, path.join(work, 'copy')]);
    const build = (source: string, n: number) => buildImage({ ...opts, source, bootstrapPath: path.join(work, `boot${n}`), blobDir: path.join(work, `blobs${n}`) });
    const a = await build(src, 1);
    const b = await build(src, 2);
    const c = await build(path.join(work, 'copy'), 3);
    for (const other of [b, c]) {
      t.is(other.blobId, a.blobId);
      t.true(fs.readFileSync(other.bootstrapPath).equals(fs.readFileSync(a.bootstrapPath)), 'bootstrap bytes');
      t.true(fs.readFileSync(other.blobPath).equals(fs.readFileSync(a.blobPath)), 'blob bytes');
    }
    t.deepEqual(fs.readdirSync(path.join(work, 'blobs1')), [a.blobId], 'no temporary files left behind');
  });
}

test('a changed mtime changes the image', async (t) => {
  const work = tempDir(t, 'nydus-build-repro2-');
  const src = path.join(work, 'src');
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, 'f'), 'x');
  fs.utimesSync(path.join(src, 'f'), 1000, 1000);
  const a = await buildImage({ source: src, bootstrapPath: path.join(work, 'a'), blobDir: path.join(work, 'blobs') });
  fs.utimesSync(path.join(src, 'f'), 2000, 2000);
  const b = await buildImage({ source: src, bootstrapPath: path.join(work, 'b'), blobDir: path.join(work, 'blobs') });
  t.is(a.blobId, b.blobId, 'same content, same blob');
  t.false(fs.readFileSync(a.bootstrapPath).equals(fs.readFileSync(b.bootstrapPath)));
});
