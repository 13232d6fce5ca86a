/**
 * The RAFS v6 chunk path on images from the test builder: zstd / lz4_block / raw chunks, ci v1 and v2,
 * holes, deduplicated chunks; the decompressed-chunk cache (one decompression for concurrent readers, a
 * byte bound that holds) and readahead on sequential reads, counted through an instrumented backend.
 */
import test, { ExecutionContext } from 'ava';
import * as fs from 'fs';
import { createHash } from 'crypto';
import { BlobBackend, openRafs, OpenRafsHooks, RafsFs, RafsOptions } from '../../daemon/src/rafs';
import { BuildInput, writeRafs } from './helpers/rafs-builder';
import { pseudoRandom } from './helpers/source-tree';
import { tempDir } from './helpers/system';
import { CTX, readWhole } from './helpers/snapshot-fs';

const work = tempDir('chunks');
test.after.always(() => fs.rmSync(work, { recursive: true, force: true }));

const CHUNK = 64 * 1024;
/** Compressible but distinct chunks. */
function chunk(seed: number): Buffer {
  const b = Buffer.alloc(CHUNK);
  for (let i = 0; i < CHUNK; i += 64) pseudoRandom(16, seed * 1000 + i).copy(b, i);
  return b;
}

const write = (name: string, input: BuildInput): RafsOptions => writeRafs(work, name, input);

/**
 * An image of one file "f" made of `chunks`, opened with `extra` options (closed at teardown); `opts` opens it
 * again.
 */
async function openOneFile(t: ExecutionContext, name: string, chunks: Buffer[], input: Pick<BuildInput, 'codec' | 'ciVersion'>,
  extra: Partial<RafsOptions> = {}, hooks: OpenRafsHooks = {}): Promise<{ rafs: RafsFs; nodeid: number; opts: RafsOptions }> {
  const opts = write(name, { files: [{ name: 'f', chunks }], chunkSize: CHUNK, ...input });
  const rafs = await openRafs({ ...opts, ...extra }, hooks);
  t.teardown(() => rafs.close());
  const { nodeid } = await rafs.lookup(CTX, 1, Buffer.from('f'));
  return { rafs, nodeid, opts };
}

class CountingBackend implements BlobBackend {
  reads: Array<[number, number, number]> = [];
  constructor(private readonly inner: BlobBackend) {}
  readAt(i: number, off: number, len: number): Promise<Buffer> { this.reads.push([i, off, len]); return this.inner.readAt(i, off, len); }
  size(i: number): Promise<number> { return this.inner.size(i); }
  close(): Promise<void> { return this.inner.close(); }
}

const random = pseudoRandom(CHUNK, 99);
for (const codec of ['zstd', 'lz4', 'none'] as const) {
  for (const ciVersion of [1, 2] as const) {
    test(`${codec} chunks, ci v${ciVersion}: content, holes, dedup and incompressible chunks read back exactly`, async (t) => {
      const a = [chunk(1), null, chunk(2), random, chunk(1)];
      const opts = write(`mix-${codec}-${ciVersion}`, { files: [{ name: 'a', chunks: a }, { name: 'b', chunks: [chunk(2)] }], chunkSize: CHUNK, codec, ciVersion });
      const rafs = await openRafs(opts);
      t.teardown(() => rafs.close());
      const e = await rafs.lookup(CTX, 1, Buffer.from('a'));
      t.is(e.attr.size, a.length * CHUNK);
      const expected = Buffer.concat(a.map((c) => c ?? Buffer.alloc(CHUNK)));
      for (const piece of [4096, 10000, 128 * 1024]) {
        const got = await readWhole(rafs, e.nodeid, e.attr.size, piece);
        t.is(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(expected).digest('hex'), `pieces of ${piece}`);
      }
      const cross = await rafs.read(CTX, e.nodeid, 0, CHUNK - 100, 300);
      t.deepEqual(cross, expected.subarray(CHUNK - 100, CHUNK + 200), 'a read across a chunk and a hole');
      const b = await rafs.lookup(CTX, 1, Buffer.from('b'));
      t.deepEqual(await rafs.read(CTX, b.nodeid, 0, 0, CHUNK), chunk(2));
      if (codec !== 'none') t.true(rafs.data.chunks.stats.decompressions >= 2);
      else t.is(rafs.data.chunks.stats.decompressions, 0);
    });
  }
}

test('concurrent reads of one chunk read the blob and decompress once', async (t) => {
  let counting: CountingBackend | undefined;
  const { rafs, nodeid } = await openOneFile(t, 'concurrent', [chunk(5), chunk(6)], { codec: 'zstd', ciVersion: 1 },
    { readahead: false }, { wrapBackend: (b) => (counting = new CountingBackend(b)) });
  const reads = await Promise.all(Array.from({ length: 64 }, (_, i) => rafs.read(CTX, nodeid, 0, (i * 997) % (CHUNK - 512), 512)));
  reads.forEach((r, i) => t.deepEqual(r, chunk(5).subarray((i * 997) % (CHUNK - 512), (i * 997) % (CHUNK - 512) + 512)));
  t.is(rafs.data.chunks.stats.decompressions, 1);
  const chunkReads = counting!.reads.filter(([, off]) => off < rafs.meta.blobs[0].ciOffset);
  t.is(chunkReads.length, 1, 'one backend read for the chunk (the other read is the ci array)');
  t.true(rafs.data.chunks.stats.coalesced > 0);
});

test('the chunk cache respects its byte bound and re-reads evicted chunks', async (t) => {
  const chunks = Array.from({ length: 16 }, (_, i) => chunk(100 + i));
  const bound = 3 * CHUNK + 100;
  const { rafs, nodeid, opts } = await openOneFile(t, 'bound', chunks, { codec: 'zstd', ciVersion: 1 }, { cacheBytes: bound, readahead: false });
  let peak = 0;
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < chunks.length; i++) {
      t.deepEqual(await rafs.read(CTX, nodeid, 0, i * CHUNK, CHUNK), chunks[i]);
      peak = Math.max(peak, rafs.data.chunks.cachedBytes);
    }
  }
  t.true(peak <= bound, `peak ${peak} <= ${bound}`);
  t.true(peak >= 3 * CHUNK, 'the cache is used up to its bound');
  t.is(rafs.data.chunks.stats.decompressions, 32, 'a cache smaller than the file re-decompresses on the second pass');
  const hot = await openRafs({ ...opts, cacheBytes: 32 * CHUNK, readahead: false });
  t.teardown(() => hot.close());
  for (let pass = 0; pass < 2; pass++) for (let i = 0; i < chunks.length; i++) await hot.read(CTX, nodeid, 0, i * CHUNK, CHUNK);
  t.is(hot.data.chunks.stats.decompressions, 16, 'a large enough cache decompresses each chunk once');
});

test('sequential reads prefetch the following chunk; random reads do not', async (t) => {
  const chunks = Array.from({ length: 6 }, (_, i) => chunk(200 + i));
  const { rafs, nodeid } = await openOneFile(t, 'readahead', chunks, { codec: 'lz4', ciVersion: 2 });
  await rafs.read(CTX, nodeid, 0, 0, 4096);
  await rafs.read(CTX, nodeid, 0, 4096, 4096);
  await new Promise((r) => setTimeout(r, 50));
  t.is(rafs.data.readaheads, 1);
  // Chunk 0 for the reads, chunk 1 by the readahead: wait for that to land (a loaded machine may take a while).
  for (let waited = 0; rafs.data.chunks.stats.decompressions < 2 && waited < 5000; waited += 10) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const before = rafs.data.chunks.stats.decompressions;
  t.is(before, 2);
  await rafs.read(CTX, nodeid, 0, CHUNK, 4096);
  t.is(rafs.data.chunks.stats.decompressions, before, 'chunk 1 was already in the cache');
  await rafs.read(CTX, nodeid, 0, 4 * CHUNK + 5, 10);
  await new Promise((r) => setTimeout(r, 50));
  t.is(rafs.data.readaheads, 1, 'a jump is not sequential');
});

test('a sequential reader of chunks stored uncompressed reads the blob directly, and nothing is cached', async (t) => {
  const chunks = Array.from({ length: 4 }, (_, i) => chunk(300 + i));
  const { rafs, nodeid } = await openOneFile(t, 'stored', chunks, { codec: 'none', ciVersion: 2 });
  for (let i = 0; i < chunks.length; i++) {
    t.deepEqual(await rafs.read(CTX, nodeid, 0, i * CHUNK, CHUNK), chunks[i]);
  }
  await new Promise((r) => setTimeout(r, 50));
  t.is(rafs.data.readaheads, 2, 'the second and third reads looked ahead (the first is not known to be sequential)');
  t.is(rafs.data.chunks.cachedBytes, 0, 'but left the next chunk to the kernel readahead on the blob');
  t.is(rafs.data.chunks.stats.backendReads, 4);
});

test('255-byte names (the EROFS maximum, which mkfs.erofs 1.5 cannot write) are listed and found', async (t) => {
  const long = 'n'.repeat(255);
  const opts = write('names', { files: [{ name: long, chunks: [chunk(7)] }, { name: '+', chunks: [chunk(8)] }], chunkSize: CHUNK, codec: 'zstd', ciVersion: 1 });
  const rafs = await openRafs(opts);
  t.teardown(() => rafs.close());
  const names = (await rafs.readdir(CTX, 1, 0, 0, 1 << 16)).map((d) => d.name.toString());
  t.deepEqual(names, ['+', '.', '..', long]);
  const e = await rafs.lookup(CTX, 1, Buffer.from(long));
  t.deepEqual(await rafs.read(CTX, e.nodeid, 0, 0, CHUNK), chunk(7));
});
