/**
 * Images built with --compressor none must be plain EROFS to the kernel: the bootstrap mounts with the
 * blob as its extra device, fsck.erofs accepts them, and every file matches the source (content, mode,
 * owner, mtime to the nanosecond, size, link target, xattrs, nlink, device numbers).
 */
import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { buildImage } from '../../daemon/src/builder';
import { generateTree } from './helpers/tree-gen';
import { fsckErofs, kernelMount, runCli, tempDir } from './helpers/image';
import { snapshotDir } from './helpers/snapshot';

for (const [seed, chunkSize, holes] of [[1, 4096, false], [2, 1048576, true], [3, 65536, false]] as const) {
  test.serial(`compressor none, chunk ${chunkSize}${holes ? ', holes' : ''}: kernel mount and fsck.erofs agree with the source (seed ${seed})`, async (t) => {
    const work = tempDir(t, 'nydus-build-kernel-');
    const src = path.join(work, 'src');
    fs.mkdirSync(src);
    generateTree(src, { seed });
    const result = await buildImage({ source: src, bootstrapPath: path.join(work, 'image.boot'), blobDir: path.join(work, 'blobs'), compressor: 'none', chunkSize, holes });
    t.regex(result.blobId, /^[0-9a-f]{64}$/);
    t.true(result.chunks > 0);

    const fsck = fsckErofs(result.bootstrapPath, result.blobPath);
    t.is(fsck.status, 0, fsck.output);
    const check = runCli(['check', result.bootstrapPath, '--blob-dir', path.join(work, 'blobs')]);
    t.is(check.status, 0, check.stderr);

    const mnt = kernelMount(t, result.bootstrapPath, result.blobPath, path.join(work, 'mnt'));
    const want = snapshotDir(src);
    const got = snapshotDir(mnt);
    t.deepEqual(Object.keys(got), Object.keys(want));
    for (const p of Object.keys(want)) t.deepEqual(got[p], want[p], p);
    // hard links are one inode in the image too
    t.is(fs.statSync(path.join(mnt, 'hardlink-1')).ino, fs.statSync(path.join(mnt, 'docs/text')).ino);
    // the sparse file reads back with its hole
    t.is(fs.statSync(path.join(mnt, 'sparse')).size, 9 * 1048576 + 3);
  });
}

test.serial('an empty source directory gives a mountable image', async (t) => {
  const work = tempDir(t, 'nydus-build-empty-');
  const src = path.join(work, 'src');
  fs.mkdirSync(src);
  const result = await buildImage({ source: src, bootstrapPath: path.join(work, 'b'), blobDir: path.join(work, 'blobs'), compressor: 'none' });
  t.is(result.files, 1);
  t.is(result.chunks, 0);
  t.is(fsckErofs(result.bootstrapPath, result.blobPath).status, 0);
  const mnt = kernelMount(t, result.bootstrapPath, result.blobPath, path.join(work, 'mnt'));
  t.deepEqual(fs.readdirSync(mnt), []);
});
