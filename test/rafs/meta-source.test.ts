/**
 * The bootstrap's byte source: peek() answers from memory only, and preload() reads a bootstrap that takes at
 * most half the block cache into it, so that later requests read nothing (and survive a dropped page cache).
 */
import test from 'ava';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { FileMetaSource, META_CACHE_BLOCK } from '../../daemon/src/rafs/meta/source';
import { native } from '../../daemon/src/native';
import { tempDir } from './helpers/system';

const KiB = 1024;

function file(t: { teardown(fn: () => void): void }, bytes: number): { file: string; data: Buffer } {
  const dir = tempDir('meta-source');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const data = crypto.randomBytes(bytes);
  fs.writeFileSync(path.join(dir, 'boot'), data);
  return { file: path.join(dir, 'boot'), data };
}

test.serial('preload() reads a small bootstrap whole: then peek() has every byte without reading', async (t) => {
  const { file: boot, data } = file(t, 200 * KiB);
  const source = await FileMetaSource.open(boot, 512 * KiB); // half is 256 KiB
  t.teardown(() => source.close());
  t.is(source.peek(0, 16), undefined, 'nothing in memory before');
  t.true(source.memory()?.present?.every((b) => b === 0));
  await source.preload();
  for (const [offset, length] of [[0, 16], [100 * KiB, 4 * KiB], [200 * KiB - 10, 10], [META_CACHE_BLOCK - 8, 16]]) {
    t.deepEqual(source.peek(offset, length), data.subarray(offset, offset + length), `${offset}+${length}`);
  }
  t.is(source.peek(200 * KiB - 10, 11), undefined, 'nothing past the end');
  t.deepEqual(source.memory()?.bytes, data, 'one buffer holds it all (native listings read it)');
  t.true(source.memory()?.present?.every((b) => b === 1));
  const preads = native.pread;
  let count = 0;
  native.pread = (...args: Parameters<typeof preads>) => { count++; return preads(...args); }; // serial: others' reads would count
  try {
    t.deepEqual(await source.read(150 * KiB, 8 * KiB, 'test'), data.subarray(150 * KiB, 158 * KiB));
  } finally {
    native.pread = preads;
  }
  t.is(count, 0, 'reads are answered from memory');
});

test('a bootstrap is mirrored in one buffer as it is read, block by block', async (t) => {
  const { file: boot, data } = file(t, 200 * KiB);
  const source = await FileMetaSource.open(boot, 256 * KiB); // fits, but takes more than half: no preload
  t.teardown(() => source.close());
  await source.preload();
  const memory = source.memory();
  if (!memory?.present) return t.fail('mirrored');
  t.true(memory.present.every((b) => b === 0), 'preload() read nothing');
  const offset = 3 * META_CACHE_BLOCK - 8;
  t.deepEqual(await source.read(offset, 16, 'test'), data.subarray(offset, offset + 16), 'a read across two blocks');
  t.deepEqual([...memory.present].map((b, i) => (b ? i : -1)).filter((i) => i >= 0), [2, 3], 'both blocks are in');
  t.deepEqual(memory.bytes.subarray(2 * META_CACHE_BLOCK, 4 * META_CACHE_BLOCK), data.subarray(2 * META_CACHE_BLOCK, 4 * META_CACHE_BLOCK));
  t.deepEqual(source.peek(offset, 16), data.subarray(offset, offset + 16), 'peeked across them');
  t.is(source.peek(offset + META_CACHE_BLOCK, 16), undefined, 'a block not read is not peeked');
  await source.prefetch(10 * META_CACHE_BLOCK, 2 * META_CACHE_BLOCK);
  t.is(memory.present[10] + memory.present[11], 2, 'read ahead into the mirror');
});

test('preload() leaves a bootstrap larger than half the cache alone; past the cache size, blocks come and go', async (t) => {
  const { file: boot, data } = file(t, 200 * KiB);
  const source = await FileMetaSource.open(boot, 4 * META_CACHE_BLOCK); // half the cache is 32 KiB
  t.teardown(() => source.close());
  await source.preload();
  t.is(source.peek(0, 16), undefined);
  const present = source.memory()?.present;
  if (!present) return t.fail('mirrored');
  for (let i = 0; i < 10; i++) {
    const offset = i * META_CACHE_BLOCK + 100;
    t.deepEqual(await source.read(offset, 16, 'test'), data.subarray(offset, offset + 16), `block ${i}`);
  }
  t.deepEqual([...present.subarray(0, 10)], [1, 1, 1, 1, 0, 0, 0, 0, 0, 0], 'four blocks (the cache size) in the mirror');
  t.deepEqual(source.peek(9 * META_CACHE_BLOCK, 16), data.subarray(9 * META_CACHE_BLOCK, 9 * META_CACHE_BLOCK + 16),
    'the others in the least-recently-used set');
  t.is(source.peek(5 * META_CACHE_BLOCK, 16), undefined, 'which keeps four');
});

test('a file too large to mirror keeps its blocks in the least-recently-used set only', async (t) => {
  const { file: boot } = file(t, 16);
  fs.truncateSync(boot, 1.5 * 1024 * 1024 * 1024); // sparse: 1.5 GiB of holes
  const source = await FileMetaSource.open(boot, 512 * KiB);
  t.teardown(() => source.close());
  t.is(source.memory(), undefined);
  t.deepEqual(await source.read(1024 * 1024 * 1024, 8, 'test'), Buffer.alloc(8));
});

test('a closed source reads nothing more ahead', async (t) => {
  const { file: boot } = file(t, 64 * KiB);
  const source = await FileMetaSource.open(boot, 512 * KiB);
  const inFlight = source.prefetch(0, 64 * KiB);
  await source.close();
  await inFlight;
  await source.preload();
  t.is(source.peek(0, 16), undefined);
});

test('prefetch() fills the missing blocks of a range around those already cached, and reads no more than asked', async (t) => {
  const { file: boot, data } = file(t, 40 * META_CACHE_BLOCK + 100);
  const source = await FileMetaSource.open(boot, 512 * KiB);
  t.teardown(() => source.close());
  const block = (i: number) => data.subarray(i * META_CACHE_BLOCK, (i + 1) * META_CACHE_BLOCK);
  t.deepEqual(await source.read(5 * META_CACHE_BLOCK, 8, 'test'), block(5).subarray(0, 8));
  await source.prefetch(2 * META_CACHE_BLOCK + 1, 6 * META_CACHE_BLOCK);
  for (let i = 2; i <= 8; i++) t.deepEqual(source.peek(i * META_CACHE_BLOCK, META_CACHE_BLOCK), block(i), `block ${i}`);
  t.is(source.peek(META_CACHE_BLOCK, 16), undefined, 'nothing before the range');
  t.is(source.peek(9 * META_CACHE_BLOCK, 16), undefined, 'nor after it');
  await source.prefetch(39 * META_CACHE_BLOCK, 10 * META_CACHE_BLOCK);
  t.deepEqual(source.peek(40 * META_CACHE_BLOCK, 100), data.subarray(40 * META_CACHE_BLOCK), 'the short last block');
});

test.serial('a read of a block being read ahead waits for that read instead of reading the block itself', async (t) => {
  const { file: boot, data } = file(t, 8 * META_CACHE_BLOCK);
  const source = await FileMetaSource.open(boot, 512 * KiB);
  t.teardown(() => source.close());
  const syncRead = native.pread; // serial: the other tests' reads would count too
  let syncReads = 0;
  native.pread = (...args: Parameters<typeof syncRead>) => { syncReads++; return syncRead(...args); };
  t.teardown(() => { native.pread = syncRead; });
  const ahead = source.prefetch(0, 4 * META_CACHE_BLOCK);
  const at = META_CACHE_BLOCK + 5;
  t.deepEqual(await source.read(at, 8, 'test'), data.subarray(at, at + 8));
  await ahead;
  t.is(syncReads, 0);
  t.deepEqual(await source.read(6 * META_CACHE_BLOCK, 8, 'test'), data.subarray(6 * META_CACHE_BLOCK, 6 * META_CACHE_BLOCK + 8));
  t.is(syncReads, 1, 'a block nobody reads ahead is read at once');
});

/** The test process's anonymous memory in transparent huge pages, in KiB. */
function anonHugeKiB(): number {
  const m = /AnonHugePages:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/smaps_rollup', 'utf8'));
  return m ? Number(m[1]) : 0;
}

const thp = fs.existsSync('/proc/self/smaps_rollup') &&
  /\[(always|madvise)\]/.test(fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'));
(thp ? test.serial : test.skip)('a mirror is filled in huge pages: whole if it fits the cache, else up to the cache size', async (t) => {
  t.is(native.adviseHugePages(Buffer.allocUnsafeSlow(64 * KiB)), -22, 'EINVAL: no whole 2 MiB page inside');
  const start = native.hugePageStart(Buffer.allocUnsafeSlow(4096 * KiB));
  t.true(start >= 0 && start < 2048 * KiB, `first huge page at ${start}`);
  const { file: boot, data } = file(t, 16 * 1024 * KiB);
  let before = anonHugeKiB();
  const large = await FileMetaSource.open(boot, 4 * 1024 * KiB); // a quarter of the file: two huge pages at most
  t.teardown(() => large.close());
  for (let off = 0; off < data.length; off += 1024 * KiB) t.deepEqual(await large.read(off, 16, 'test'), data.subarray(off, off + 16));
  const largeHuge = anonHugeKiB() - before;
  t.true(largeHuge >= 2048 && largeHuge <= 4096, `a block read per MiB of 16 MiB: ${largeHuge} KiB in huge pages`);
  before = anonHugeKiB();
  const small = await FileMetaSource.open(boot, 64 * 1024 * KiB); // half is 32 MiB: preloaded whole
  t.teardown(() => small.close());
  await small.preload();
  t.true(small.memory()?.bytes.equals(data), 'the preloaded mirror holds the file');
  t.true(anonHugeKiB() - before >= 8192, `${anonHugeKiB() - before} KiB in huge pages`);
});

test('blocks read into the mirror and blocks copied in read back alike', async (t) => {
  const { file: boot, data } = file(t, 64 * META_CACHE_BLOCK);
  const source = await FileMetaSource.open(boot, 16 * META_CACHE_BLOCK); // room for 16 blocks, then the overflow set
  t.teardown(() => source.close());
  await source.prefetch(0, 4 * META_CACHE_BLOCK); // copied in from one larger read
  const across = 5 * META_CACHE_BLOCK - 10; // blocks 4 and 5, read into the mirror
  t.deepEqual(await source.read(across, 20, 'test'), data.subarray(across, across + 20));
  t.deepEqual(source.peek(across, 20), data.subarray(across, across + 20));
  for (let i = 0; i < 64; i += 3) {
    const at = i * META_CACHE_BLOCK + 100;
    t.deepEqual(await source.read(at, 200, 'test'), data.subarray(at, at + 200), `block ${i}`);
  }
  const mem = source.memory();
  t.truthy(mem?.present);
  let inMirror = 0;
  for (let i = 0; i < 64; i++) {
    if (mem?.present?.[i] !== 1) continue;
    inMirror++;
    t.deepEqual(mem.bytes.subarray(i * META_CACHE_BLOCK, (i + 1) * META_CACHE_BLOCK), data.subarray(i * META_CACHE_BLOCK, (i + 1) * META_CACHE_BLOCK));
  }
  t.is(inMirror, 16, 'the mirror holds as many blocks as the cache');
});
