/**
 * Read maps (rafs/storage/read-map.ts): a large file stored as is opens with OpenReply.readExtents, and reading
 * its pieces from their fds gives the file's bytes; anything that must go through the main thread (a compressed
 * chunk, a digest check, a small file) opens without one. Images from mkfs.erofs (plain, --chunksize with
 * --blobdev) and from the test RAFS builder (raw, compressed and null chunks).
 */
import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { createHash } from 'crypto';
import type { ReadExtents } from '../../daemon/src/fs/filesystem';
import { openRafs, RafsFs } from '../../daemon/src/rafs';
import { READ_MAP_MIN_BYTES } from '../../daemon/src/rafs/storage/read-map';
import { writeRafs } from './helpers/rafs-builder';
import { pseudoRandom } from './helpers/source-tree';
import { mkfsErofs, tempDir } from './helpers/system';
import { CTX } from './helpers/snapshot-fs';

const work = tempDir('read-map');
test.after.always(() => fs.rmSync(work, { recursive: true, force: true }));

const CHUNK = 64 * 1024;
const BIG = pseudoRandom(3 * 1024 * 1024 + 1234, 7); // not a whole number of blocks: an inline tail on plain images

/** The file's bytes as its read map says, read from the pieces' fds. */
function readPieces(map: ReadExtents): Buffer {
  const out = Buffer.alloc(map.size);
  for (const e of map.extents) {
    if (e.fd === -1) continue;
    const n = fs.readSync(e.fd, out, e.fileOffset, e.length, e.fdOffset);
    if (n !== e.length) throw new Error(`the piece at ${e.fileOffset} is ${e.length} bytes, the fd had ${n} there`);
  }
  return out;
}

async function openFile(rafs: RafsFs, name: string): Promise<{ map: ReadExtents | undefined; size: number }> {
  const e = await rafs.lookup(CTX, 1, Buffer.from(name));
  const reply = await rafs.open(CTX, e.nodeid, 0);
  return { map: reply.readExtents, size: e.attr.size };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

for (const [label, args, blobdev] of [['plain', [], false], ['--chunksize 65536 --blobdev', ['--chunksize=65536'], true]] as const) {
  test(`mkfs.erofs ${label}: a large file's map gives its bytes; a small file has none`, async (t) => {
    const src = path.join(work, `src-${blobdev}`);
    fs.mkdirSync(src, { recursive: true });
    fs.writeFileSync(path.join(src, 'big'), BIG);
    fs.writeFileSync(path.join(src, 'small'), BIG.subarray(0, READ_MAP_MIN_BYTES - 1));
    const img = path.join(work, `img-${blobdev}`);
    const blob = path.join(work, `blob-${blobdev}`);
    mkfsErofs(img, src, [...args, ...(blobdev ? [`--blobdev=${blob}`] : [])]);
    const rafs = await openRafs({ bootstrap: img, ...(blobdev ? { blobs: [blob] } : {}) });
    t.teardown(() => rafs.close());
    const big = await openFile(rafs, 'big');
    t.truthy(big.map);
    t.is(big.map!.size, BIG.length);
    t.is(sha(readPieces(big.map!)), sha(BIG));
    t.true(big.map!.extents.length <= 2, 'contiguous pieces are merged');
    t.is((await openFile(rafs, 'small')).map, undefined);
  });
}


const randomChunks = (n: number, seed: number) => Array.from({ length: n }, (_, i) => pseudoRandom(CHUNK, seed + i));
/** A chunk zstd makes smaller: stored compressed. */
const compressible = Buffer.alloc(CHUNK, 'ab');

test('RAFS v6 chunks stored raw, and holes: the map gives the bytes, zeros for the holes', async (t) => {
  const chunks = [...randomChunks(10, 100), null, ...randomChunks(10, 200), null];
  const opts = writeRafs(work, 'raw', { files: [{ name: 'f', chunks }], chunkSize: CHUNK, codec: 'zstd', ciVersion: 2 });
  const rafs = await openRafs(opts);
  t.teardown(() => rafs.close());
  const { map, size } = await openFile(rafs, 'f');
  t.is(size, chunks.length * CHUNK);
  t.truthy(map);
  const expected = Buffer.concat(chunks.map((c) => c ?? Buffer.alloc(CHUNK)));
  t.is(sha(readPieces(map!)), sha(expected));
  t.true(map!.extents.some((e) => e.fd === -1), 'holes are pieces of zeros');
  t.is(map!.extents.length, 4, 'chunks stored one after another are one piece');
});

test('a compressed chunk, or a digest to check, leaves the file to the main thread', async (t) => {
  const chunks = [...randomChunks(20, 300), compressible];
  const opts = writeRafs(work, 'mixed', { files: [{ name: 'f', chunks }, { name: 'g', chunks: randomChunks(20, 400) }], chunkSize: CHUNK, codec: 'zstd', ciVersion: 2 });
  const rafs = await openRafs(opts);
  t.teardown(() => rafs.close());
  t.is((await openFile(rafs, 'f')).map, undefined, 'one compressed chunk');
  t.truthy((await openFile(rafs, 'g')).map, 'all raw');
  const checked = await openRafs({ ...opts, digestValidate: true });
  t.teardown(() => checked.close());
  t.is((await openFile(checked, 'g')).map, undefined, 'digest_validate');
});
