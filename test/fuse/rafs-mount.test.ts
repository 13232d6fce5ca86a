/**
 * rafs over a real FUSE mount: images made by mkfs.erofs, served by us and mounted by the kernel's erofs,
 * must look identical to programs (every lstat field incl. st_ino, link targets, xattrs, content), and
 * the upstream RAFS v6 fixtures must read with the md5s their README lists.
 */
import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { serveRafs, sh, upstreamFixtures } from '../helpers/mount';
import { buildSourceTree } from '../rafs/helpers/source-tree';
import { mkfsErofs, mountKernel, snapshotTree, tempDir } from '../rafs/helpers/system';

const variants: Array<{ name: string; args: string[]; blobdev: boolean }> = [
  { name: 'plain', args: [], blobdev: false },
  { name: 'chunked 64 KiB with a blob device', args: ['--chunksize=65536'], blobdev: true },
];

for (const v of variants) {
  test(`${v.name}: our FUSE mount and the kernel's erofs mount show the same tree`, async (t) => {
    const work = tempDir('fuse-rafs');
    const src = path.join(work, 'src');
    fs.mkdirSync(src);
    buildSourceTree(src);
    const image = path.join(work, 'image.erofs');
    const blob = path.join(work, 'blob');
    mkfsErofs(image, src, v.blobdev ? [...v.args, `--blobdev=${blob}`] : v.args);
    const kernel = mountKernel(image, v.blobdev ? blob : undefined);
    t.teardown(() => kernel.release());
    const ours = await serveRafs(image, v.blobdev ? [blob] : []);
    t.teardown(async () => {
      await ours.stop();
      fs.rmSync(work, { recursive: true, force: true });
    });
    const want = snapshotTree(kernel.dir);
    const got = snapshotTree(ours.mnt);
    t.true(Object.keys(want).length > 20);
    t.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
    for (const [p, w] of Object.entries(want)) t.deepEqual(got[p], w, p);
    // writes are refused with EROFS
    t.throws(() => fs.writeFileSync(path.join(ours.mnt, 'new'), 'x'), { code: 'EROFS' });
    // a real program reading every file
    sh(`tar -C ${ours.mnt} -cf - . | tar -tvf - > /dev/null`);
  });
}

const fx = upstreamFixtures();
(fx.dir ? test : test.skip)('upstream RAFS v6 images read through FUSE with the listed md5s', async (t) => {
  if (!fx.dir) return t.log(fx.reason);
  const dir = fx.dir;
  const pair = await serveRafs(path.join(dir, 'rafs-v6-2.2.boot'),
    [path.join(dir, 'be7d77eeb719f70884758d1aa800ed0fb09d701aaec469964e9d54325f0d5fef')]);
  t.teardown(() => pair.stop());
  t.is(sh(`cd ${pair.mnt} && md5sum lib.rs sync_io.rs`),
    '4709cf8873e419ecedc7d43fdee4a75f  lib.rs\n5442bc7dc9dc5f985c7594e23866ae6f  sync_io.rs\n');
  const self = await serveRafs(path.join(dir, '2fa78cad554b75ac91a4a125ed148d0ddeb25efa4aaa8bd80e5dc292690a4dca'));
  t.teardown(() => self.stop());
  t.is(sh(`cd ${self.mnt} && md5sum error.rs lib.rs logger.rs && stat -c %s error.rs lib.rs logger.rs`),
    '411725b13e38cad854633d886c48cdb2  error.rs\nc78754e7e5b95df7708cee9c0bb5685c  lib.rs\nefd2750f3a97a9a57f15c834ffbaf186  logger.rs\n2816\n678\n3115\n');
});
if (!fx.dir) console.log(`rafs-mount: ${fx.reason}; upstream image test skipped`);
