/** Chunk-level behaviour: identical chunks stored once, holes never stored (nor read), 64 GiB sparse files. */
import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { buildImage } from '../../daemon/src/builder';
import { kernelMount, runCli, tempDir } from './helpers/image';

const MiB = 1048576;

test('identical chunks are stored once, across and within files', async (t) => {
  const work = tempDir(t, 'nydus-build-dedup-');
  const src = path.join(work, 'src');
  fs.mkdirSync(src);
  const a = randomBytes(3 * MiB);
  fs.writeFileSync(path.join(src, 'a'), a);
  fs.writeFileSync(path.join(src, 'b'), a);
  fs.writeFileSync(path.join(src, 'c'), Buffer.concat([a.subarray(0, MiB), randomBytes(MiB)]));
  const block = randomBytes(MiB);
  fs.writeFileSync(path.join(src, 'd'), Buffer.concat([block, block, block]));
  const r = await buildImage({ source: src, bootstrapPath: path.join(work, 'boot'), blobDir: path.join(work, 'blobs'), compressor: 'none' });
  t.is(r.chunks, 3 + 1 + 1, 'a: 3 chunks; b: none new; c: 1 new; d: 1');
  t.true(fs.statSync(r.blobPath).size < 5 * MiB + 64 * 1024);
  t.is(r.bytesIn, 3 * MiB * 2 + 2 * MiB + 3 * MiB);
  const mnt = kernelMount(t, r.bootstrapPath, r.blobPath, path.join(work, 'mnt'));
  for (const f of ['a', 'b', 'c', 'd']) t.true(fs.readFileSync(path.join(mnt, f)).equals(fs.readFileSync(path.join(src, f))), f);
});

for (const holes of [false, true]) test(`a 64 GiB sparse file builds without reading its holes and reads back under the kernel (holes: ${holes})`, async (t) => {
  const work = tempDir(t, 'nydus-build-sparse-');
  const src = path.join(work, 'src');
  fs.mkdirSync(src);
  const file = path.join(src, 'sparse');
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, Buffer.from('middle'), 0, 6, 32 * 1024 * MiB);
  fs.ftruncateSync(fd, 64 * 1024 * MiB);
  fs.closeSync(fd);
  const started = Date.now();
  const r = await buildImage({ source: src, bootstrapPath: path.join(work, 'boot'), blobDir: path.join(work, 'blobs'), compressor: 'none', holes });
  t.log(`built in ${Date.now() - started} ms`);
  t.true(Date.now() - started < 30000);
  t.is(r.chunks, holes ? 1 : 2, 'the data chunk, plus one shared zero chunk unless holes are used');
  t.true(fs.statSync(r.blobPath).size < r.chunks * MiB + 64 * 1024);
  const check = runCli(['check', r.bootstrapPath, '--blob-dir', path.join(work, 'blobs')]);
  t.is(check.status, 0, check.stderr);
  t.regex(check.stdout, new RegExp(`OK: 2 inodes, ${r.chunks} chunks verified`));
  const counts = JSON.parse(runCli(['inspect', '--json', r.bootstrapPath]).stdout).counts;
  t.is(counts.holes, holes ? 65535 : 0);
  const mnt = kernelMount(t, r.bootstrapPath, r.blobPath, path.join(work, 'mnt'));
  const img = path.join(mnt, 'sparse');
  t.is(fs.statSync(img).size, 64 * 1024 * MiB);
  const rfd = fs.openSync(img, 'r');
  t.teardown(() => fs.closeSync(rfd));
  const buf = Buffer.alloc(8);
  fs.readSync(rfd, buf, 0, 8, 32 * 1024 * MiB - 1);
  t.deepEqual([...buf], [0, ...Buffer.from('middle'), 0]);
  fs.readSync(rfd, buf, 0, 8, 5 * 1024 * MiB);
  t.deepEqual([...buf], [0, 0, 0, 0, 0, 0, 0, 0]);
});
