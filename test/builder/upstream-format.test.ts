/**
 * Our encoders against bytes written by upstream nydus-image 2.2 (the fixtures, independent of this
 * code): ci v1 entries, section tar headers, superblock flags and blob features, and `check` on the
 * upstream image itself.
 */
import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { decodeCiV1, encodeCiV1 } from '../../daemon/src/builder/blob-meta';
import { sectionTarHeader } from '../../daemon/src/builder/tar-header';
import { buildImage } from '../../daemon/src/builder';
import { runCli, tempDir } from './helpers/image';

const FIXTURES = '/work/shared/fixtures/nydus-rafs-v6';
const BOOT = path.join(FIXTURES, 'rafs-v6-2.2.boot');
const BLOB = path.join(FIXTURES, 'be7d77eeb719f70884758d1aa800ed0fb09d701aaec469964e9d54325f0d5fef');
const have = fs.existsSync(BOOT) && fs.existsSync(BLOB);
const fixtureTest = (title: string, fn: (t: import('ava').ExecutionContext) => void | Promise<void>): void => {
  test(title, async (t) => {
    if (!have) {
      t.log(`fixtures absent in ${FIXTURES}: skipped`);
      t.pass();
      return;
    }
    await fn(t);
  });
};

fixtureTest('ci v1: upstream entries decode to the chunk table values and re-encode to the same bytes', (t) => {
  const boot = fs.readFileSync(BOOT);
  const blob = fs.readFileSync(BLOB);
  const ciOffset = Number(boot.readBigUInt64LE(4096 + 112));
  const count = boot.readUInt32LE(4096 + 72);
  const raw = blob.subarray(ciOffset, ciOffset + count * 16);
  const chunkTable = Number(boot.readBigUInt64LE(1152 + 24));
  const decoded = [];
  for (let row = 0; row < count; row++) {
    const at = chunkTable + row * 80;
    const index = boot.readUInt32LE(at + 72);
    const ci = decodeCiV1(raw, index * 16);
    t.deepEqual(ci, {
      csize: boot.readUInt32LE(at + 40), usize: boot.readUInt32LE(at + 44),
      coff: Number(boot.readBigUInt64LE(at + 48)), uoff: Number(boot.readBigUInt64LE(at + 56)),
    });
    decoded[index] = ci;
  }
  t.true(encodeCiV1(decoded).equals(raw));
});

fixtureTest('section tar headers are byte-identical to upstream ones', (t) => {
  const blob = fs.readFileSync(BLOB);
  const tail = blob.subarray(blob.length - 512);
  t.true(sectionTarHeader('rafs.blob.toc', 512).equals(tail));
  t.true(sectionTarHeader('blob.digest', 64).equals(blob.subarray(13018, 13018 + 512)));
});

fixtureTest('zstd + blake3 without xattrs: same ext flags and blob features as upstream', async (t) => {
  const up = fs.readFileSync(BOOT);
  const work = tempDir(t, 'nydus-build-upfmt-');
  fs.mkdirSync(path.join(work, 'src'));
  fs.writeFileSync(path.join(work, 'src/lib.rs'), 'fn main() {}\n'.repeat(1000));
  const r = await buildImage({ source: path.join(work, 'src'), bootstrapPath: path.join(work, 'boot'), blobDir: path.join(work, 'blobs'), compressor: 'zstd', digester: 'blake3' });
  const ours = fs.readFileSync(r.bootstrapPath);
  t.is(ours.readBigUInt64LE(1152), up.readBigUInt64LE(1152), 'ext superblock flags');
  t.is(ours.readUInt32LE(4096 + 84), up.readUInt32LE(4096 + 84), 'blob features');
  for (const [off, what] of [[1024, 'magic'], [1032, 'feature_compat'], [1104, 'feature_incompat'], [1110, 'extra_devices']] as const) {
    t.is(ours.readUInt32LE(off) & (what === 'extra_devices' ? 0xffff : 0xffffffff), up.readUInt32LE(off) & (what === 'extra_devices' ? 0xffff : 0xffffffff), what);
  }
  t.is(ours.subarray(1408, 1472).toString(), r.blobId, 'device slot tag is the blob id');
});

fixtureTest('nydus-image check accepts the upstream image', (t) => {
  const r = runCli(['check', BOOT, '--blob-dir', FIXTURES]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /OK: 3 inodes, 2 chunks verified/);
});
