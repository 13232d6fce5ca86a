/**
 * Listing a directory reads ahead, in the background, the metadata a walk needs next: the inodes of its
 * subdirectories and of theirs (two levels), and their first directory blocks. Files are not read ahead. A
 * bootstrap kept in one buffer gets its whole directory tree read ahead once mounted.
 * The assertions count inodes decoded, which does not depend on the machine's speed.
 */
import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { isDotOrDotDot } from '../../daemon/src/fs/filesystem';
import { openRafs, RafsFs } from '../../daemon/src/rafs';
import { EROFS_FT_DIR, LAYOUT_FLAT_PLAIN } from '../../daemon/src/rafs/layout';
import { inlineOffset } from '../../daemon/src/rafs/meta/file-map';
import { listFrom, readAheadTree } from '../../daemon/src/rafs/meta/directory';
import { RafsMetadata } from '../../daemon/src/rafs/meta/metadata';
import { FileMetaSource, META_CACHE_BLOCK } from '../../daemon/src/rafs/meta/source';
import { mkfsErofs, tempDir } from './helpers/system';
import { CTX } from './helpers/snapshot-fs';

/** root: sub0..sub4 and a file; each sub: kid0..kid2 and a file; each kid: a file (in sub4, `bigFile` bytes). */
function buildImage(t: { teardown(fn: () => void): void }, bigFile = 1): string {
  const work = tempDir('read-ahead');
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const src = path.join(work, 'src');
  fs.mkdirSync(src);
  fs.writeFileSync(path.join(src, 'file'), 'x');
  for (let s = 0; s < 5; s++) {
    fs.mkdirSync(path.join(src, `sub${s}`));
    fs.writeFileSync(path.join(src, `sub${s}`, 'file'), 'x');
    for (let k = 0; k < 3; k++) {
      fs.mkdirSync(path.join(src, `sub${s}`, `kid${k}`));
      fs.writeFileSync(path.join(src, `sub${s}`, `kid${k}`, 'file'), s === 4 ? Buffer.alloc(bigFile, 7) : 'x');
    }
  }
  const img = path.join(work, 'img');
  mkfsErofs(img, src, []);
  return img;
}

/** Waits (at most `maxMs`) until `rafs` has decoded `count` inodes; returns how many it has. */
async function settleAt(rafs: RafsFs, count: number, maxMs = 2000): Promise<number> {
  const deadline = Date.now() + maxMs;
  while (rafs.meta.cachedInodes < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 20)); // and nothing more arrives
  return rafs.meta.cachedInodes;
}

test('a listing reads the subdirectories two levels down ahead, and no files', async (t) => {
  const rafs = await openRafs({ bootstrap: buildImage(t) });
  t.teardown(() => rafs.close());
  t.is(rafs.meta.cachedInodes, 1);
  const listed = await rafs.readdir(CTX, 1, 0, 0, 4096);
  t.is(listed.length, 8); // ".", "..", file, sub0..sub4
  t.is(await settleAt(rafs, 1 + 5 + 15), 1 + 5 + 15, 'the root, 5 subs and their 15 kids');
});

test('with read-ahead off, a listing decodes no inode of its entries', async (t) => {
  const rafs = await openRafs({ bootstrap: buildImage(t) });
  t.teardown(() => rafs.close());
  rafs.readAhead = false;
  await rafs.readdir(CTX, 1, 0, 0, 4096);
  t.is(await settleAt(rafs, 2, 200), 1);
});

/** Records the offsets `rafs` asks its metadata source to prefetch from now on. */
function recordPrefetches(rafs: RafsFs): number[] {
  const offsets: number[] = [];
  const source = rafs.meta.source;
  const prefetch = source.prefetch.bind(source);
  source.prefetch = (offset, length) => { offsets.push(offset); return prefetch(offset, length); };
  return offsets;
}

test('a directory is read ahead once: listing a subdirectory after its parent reads nothing ahead again', async (t) => {
  const img = buildImage(t);
  const walked = await openRafs({ bootstrap: img });
  t.teardown(() => walked.close());
  await walked.readdir(CTX, 1, 0, 0, 4096);
  await settleAt(walked, 1 + 5 + 15);
  const again = recordPrefetches(walked);
  const sub0 = await walked.lookup(CTX, 1, Buffer.from('sub0'));
  t.is((await walked.readdir(CTX, sub0.nodeid, 0, 0, 4096)).length, 6);
  await new Promise((r) => setTimeout(r, 50));
  t.deepEqual(again, [], 'kid0..kid2 were read ahead with the root listing');

  // The same listing in a filesystem that has not listed the root reads kid0..kid2 ahead.
  const fresh = await openRafs({ bootstrap: img });
  t.teardown(() => fresh.close());
  const first = recordPrefetches(fresh);
  const freshSub0 = await fresh.lookup(CTX, 1, Buffer.from('sub0'));
  await fresh.readdir(CTX, freshSub0.nodeid, 0, 0, 4096);
  await new Promise((r) => setTimeout(r, 50));
  t.true(first.length >= 3, `prefetched ${first.length} ranges`);
});

test('the tree read-ahead fills a mirrored bootstrap with every directory (inode and first block), and no file', async (t) => {
  const img = buildImage(t, 256 * 1024); // metadata and data over several cache blocks
  const size = fs.statSync(img).size;
  const source = await FileMetaSource.open(img, size + META_CACHE_BLOCK); // mirrored, too large to be loaded whole
  const meta = await RafsMetadata.open(source);
  t.teardown(() => source.close());
  const before = meta.cachedInodes;
  await readAheadTree(meta);
  t.is(meta.cachedInodes - before, 5 + 15, 'every directory below the root, and no file');
  const memory = source.memory();
  if (!memory?.present) return t.fail('mirrored');
  const present = memory.present;
  const isIn = (offset: number, length: number) => {
    for (let b = Math.floor(offset / META_CACHE_BLOCK); b * META_CACHE_BLOCK < offset + length; b++) if (!present[b]) return false;
    return true;
  };
  const walk = async (nid: number): Promise<number> => {
    const dir = await meta.inode(nid);
    t.true(isIn(meta.inodeOffset(nid), dir.inodeSize), `inode ${nid} in memory`);
    const firstBlock = dir.layout === LAYOUT_FLAT_PLAIN ? dir.iu * meta.blockSize : inlineOffset(dir);
    t.true(isIn(firstBlock, Math.min(meta.blockSize, dir.size)), `the first block of directory ${nid} in memory`);
    let count = 1;
    for (const e of await listFrom(meta, dir, 0, (d) => d)) {
      if (e.fileType === EROFS_FT_DIR && !isDotOrDotDot(e.name)) count += await walk(e.nid);
    }
    return count;
  };
  t.is(await walk(meta.sb.rootNid), 1 + 5 + 15);
  await readAheadTree(meta); // a second time reads nothing more
  t.is(await FileMetaSource.open(img).then(async (whole) => {
    await whole.preload();
    const m = await RafsMetadata.open(whole);
    const n = m.cachedInodes;
    await readAheadTree(m);
    await whole.close();
    return m.cachedInodes - n;
  }), 0, 'nothing to do for a bootstrap loaded whole');
});
