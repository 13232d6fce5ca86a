/**
 * Concurrent direct readers of different files on a rafs mount each get exactly their file's bytes. READ replies
 * share a pool of reusable buffers (fs/read-buffers.ts): a buffer handed back too early, or handed out twice, would
 * show up here as one file's bytes in another's reply. Covered: a plain mkfs.erofs image (data in the image), a
 * chunked one with a blob device, and our RAFS v6 image (chunks stored raw, read straight from the blob, and
 * compressed ones, read through the chunk cache).
 */
import test from 'ava';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { DIST, serveRafs, sh } from '../helpers/mount';
import { mkfsErofs, tempDir } from '../rafs/helpers/system';

const FILES = ['a', 'b', 'c', 'text'];
const MiB = 1024 * 1024;

function makeSource(dir: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const name of FILES) {
    // Random bytes do not compress (stored raw); the text does (zstd chunks).
    const data = name === 'text'
      ? Buffer.from('every chunk of this file compresses well\n'.repeat(12 * MiB / 41 + 1)).subarray(0, 12 * MiB)
      : crypto.randomBytes(12 * MiB);
    fs.writeFileSync(path.join(dir, name), data);
    sums.set(name, crypto.createHash('sha256').update(data).digest('hex'));
  }
  return sums;
}

/** Reads every file twice, all at once, with O_DIRECT 1 MiB reads (each one a READ request); name -> sha256s. */
function readAllConcurrently(mnt: string): Map<string, string[]> {
  const jobs = [...FILES, ...FILES].map((name, i) =>
    `(dd if=${mnt}/${name} iflag=direct bs=1M status=none | sha256sum | sed 's/ .*/ ${name}/' > ${mnt}.sum${i}) &`);
  sh(`${jobs.join('\n')}\nwait`);
  const got = new Map<string, string[]>();
  for (let i = 0; i < jobs.length; i++) {
    const [sum, name] = fs.readFileSync(`${mnt}.sum${i}`, 'utf8').trim().split(' ');
    fs.rmSync(`${mnt}.sum${i}`);
    got.set(name, [...(got.get(name) ?? []), sum]);
  }
  return got;
}

test('concurrent direct readers of different files each read exactly their own bytes', async (t) => {
  const work = tempDir('concurrent-reads');
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const src = path.join(work, 'src');
  fs.mkdirSync(src);
  const want = makeSource(src);

  const plain = path.join(work, 'plain.erofs');
  mkfsErofs(plain, src, []);
  const chunked = path.join(work, 'chunked.erofs');
  const blob = path.join(work, 'chunked.blob');
  mkfsErofs(chunked, src, ['--chunksize=1048576', `--blobdev=${blob}`]);
  const rafsDir = path.join(work, 'rafs');
  fs.mkdirSync(rafsDir);
  const rafs = path.join(rafsDir, 'image.boot');
  sh(`${process.execPath} ${path.join(DIST, 'daemon/src/cli/nydus-image.js')} create --compressor zstd --bootstrap ${rafs} --blob-dir ${rafsDir} ${src}`);

  for (const [what, bootstrap, blobs] of [['plain', plain, []], ['chunked', chunked, [blob]], ['rafs zstd', rafs, []]] as const) {
    const served = await serveRafs(bootstrap, [...blobs]);
    try {
      const got = readAllConcurrently(served.mnt);
      for (const name of FILES) t.deepEqual(got.get(name), [want.get(name), want.get(name)], `${what}: ${name}`);
    } finally {
      await served.stop();
    }
  }
});
