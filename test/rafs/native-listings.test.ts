/**
 * Listings answered natively (server/native-listings.ts, daemon/native/src/erofs_listing.c) must be the replies
 * the handlers give, byte for byte: READDIR and names-only READDIRPLUS of every directory of mkfs.erofs and
 * nydus-image images, from every cookie, in pages of several sizes, for an instance at "/" and one at a sub-path
 * (other nodeids and inode numbers); a request that needs a block of the bootstrap not in memory goes to the
 * handlers. Hostile input (random and mutated images, messages and descriptions) never crashes the packer and
 * never makes it write past its buffer.
 */
import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { Opcode } from '../../daemon/src/abi/opcodes';
import { direntSize, OUT_HEADER_SIZE, readU64 } from '../../daemon/src/abi/structs';
import { Conf } from '../../daemon/src/fs/native-listings';
import { native } from '../../daemon/src/native';
import { openRafs, RafsFs } from '../../daemon/src/rafs';
import { Vfs } from '../../daemon/src/vfs/vfs';
import { buildImage } from '../../daemon/src/builder';
import { buildSourceTree, pseudoRandom } from './helpers/source-tree';
import { mkfsErofs, tempDir } from './helpers/system';
import { countNativeReplies, dispatchWire, listingRecords, listRequest, sameListingReply } from '../helpers/dispatch-wire';

const DT_DIR = 4;
const work = tempDir('native-listings');
const src = path.join(work, 'src');

test.before(() => {
  buildSourceTree(src);
  // Subdirectories to fill in (one with an extended inode: uid past 16 bits), in a directory of several blocks.
  for (let i = 0; i < 40; i++) fs.mkdirSync(path.join(src, 'tree', `sub-${i}-${'d'.repeat(i * 3)}`, 'inner'), { recursive: true });
  fs.chownSync(path.join(src, 'tree', 'sub-7-ddddddddddddddddddddd'), 100000, 100001);
  for (let i = 0; i < 60; i++) fs.writeFileSync(path.join(src, 'tree', `file-${i}`), `${i}`);
});
test.after.always(() => fs.rmSync(work, { recursive: true, force: true }));

/** A Dispatcher over `vfs`: natively answering, or (with the failover hooks set) all through the handlers. */
const wire = dispatchWire;

/** Records of a READDIRPLUS reply: name, cookie after it, type, and the nodeid its entry_out carries. */
const records = (reply: Buffer) => listingRecords(reply, true);
const countNative = (fn: () => Promise<void>) => countNativeReplies('packErofsListingReply', fn);

/**
 * Walks every directory under `top` through both dispatchers, each listing from every cookie reached and in pages
 * of `sizes`, and compares the replies; returns the number of requests compared.
 */
async function compareWalk(t: import('ava').ExecutionContext, vfs: Vfs, top: number, sizes: number[]): Promise<number> {
  const viaNative = wire(vfs, false);
  const viaHandlers = wire(vfs, true);
  const dirs = [top];
  let compared = 0;
  while (dirs.length > 0) {
    const dir = dirs.pop()!;
    for (const size of sizes) {
      for (const opcode of [Opcode.READDIRPLUS, Opcode.READDIR]) {
        let offset = 0;
        for (;;) {
          const a = await sameListingReply(t, viaNative, viaHandlers, opcode, dir, offset, size);
          compared++;
          if (a.length === OUT_HEADER_SIZE || a.readInt32LE(4) !== 0) break;
          if (opcode === Opcode.READDIR) {
            // the cookie after the last record
            let off = OUT_HEADER_SIZE;
            let last = offset;
            while (off < a.length) { last = readU64(a, off + 8); off += direntSize(a.readUInt32LE(off + 16), false); }
            offset = last;
            continue;
          }
          const recs = records(a);
          if (size === sizes[0]) {
            for (const r of recs) if (r.type === DT_DIR && r.name !== '.' && r.name !== '..' && r.nodeid !== 0) dirs.push(r.nodeid);
          }
          offset = recs[recs.length - 1].next;
        }
      }
    }
  }
  return compared;
}

async function loaded(image: { bootstrap: string; localfsDir?: string }): Promise<RafsFs> {
  const rafs = await openRafs({ ...image, entryTimeout: 2.5, attrTimeout: 7 });
  await rafs.meta.source.preload();
  return rafs;
}

const images: Array<[string, (dir: string) => Promise<{ bootstrap: string; localfsDir?: string }>]> = [
  ['mkfs.erofs, plain', async (dir) => {
    const img = path.join(dir, 'plain.erofs');
    mkfsErofs(img, src, []);
    return { bootstrap: img };
  }],
  ['mkfs.erofs -x1 --chunksize 4096', async (dir) => {
    const img = path.join(dir, 'chunked.erofs');
    mkfsErofs(img, src, ['-x1', '--chunksize', '4096']);
    return { bootstrap: img };
  }],
  ['nydus-image (RAFS v6, zstd)', async (dir) => {
    const bootstrap = path.join(dir, 'image.boot');
    await buildImage({ source: src, bootstrapPath: bootstrap, blobDir: path.join(dir, 'blobs'), compressor: 'zstd' });
    return { bootstrap, localfsDir: path.join(dir, 'blobs') };
  }],
];

for (const [name, make] of images) {
  test.serial(`${name}: native listings are the handlers' replies, at "/" and at a sub-path`, async (t) => {
    const dir = fs.mkdtempSync(path.join(work, 'img-'));
    const image = await make(dir);
    const { bootstrap } = image;
    const atRoot = await loaded(image);
    const atSub = await loaded(image);
    t.teardown(async () => { await atRoot.close(); await atSub.close(); });
    t.truthy(atRoot.nativeListings(), 'the bootstrap is in memory as a whole');

    const alone = new Vfs();
    alone.mount('/', atRoot, { fsType: 'rafs', source: bootstrap, config: '', prefetchFiles: [] });
    let compared = 0;
    const answered = await countNative(async () => { compared = await compareWalk(t, alone, 1, [4096, 300, 65536]); });
    t.true(compared > 100);
    t.true(answered > compared / 4, `answered natively: ${answered} of ${compared}`);

    // Below another instance: the root lists the mount point (handlers); the image's own directories go native.
    const shared = new Vfs();
    shared.mount('/', await loaded(image), { fsType: 'rafs', source: bootstrap, config: '', prefetchFiles: [] });
    shared.mount('/sub', atSub, { fsType: 'rafs', source: bootstrap, config: '', prefetchFiles: [] });
    t.is(shared.nativeListings(1), undefined, 'the root with a mount point below it is left to the handlers');
    const sub = await shared.lookup({ uid: 0, gid: 0, pid: 0 }, 1, Buffer.from('sub'));
    t.true(sub.nodeid >= 2 ** 36);
    const subAnswered = await countNative(async () => { await compareWalk(t, shared, sub.nodeid, [4096]); });
    t.true(subAnswered > 0);
    await shared.umount('/').fs.destroy?.();

    // Blocks of the bootstrap not in memory (a mirror being filled): those requests go to the handlers.
    const partly = await loaded(image);
    t.teardown(() => partly.close());
    const present = partly.meta.source.memory()?.present;
    if (!present) return t.fail('the bootstrap is mirrored');
    const viaPartly = new Vfs();
    viaPartly.mount('/', partly, { fsType: 'rafs', source: bootstrap, config: '', prefetchFiles: [] });
    present.fill(0);
    t.is(await countNative(async () => { await compareWalk(t, viaPartly, 1, [4096]); }), 0, 'nothing in memory');
    present.forEach((_, i) => { present[i] = i % 2; });
    const some = await countNative(async () => { await compareWalk(t, viaPartly, 1, [4096]); });
    present.fill(1);
    const all = await countNative(async () => { await compareWalk(t, viaPartly, 1, [4096]); });
    t.true(some < all, `half the blocks in: ${some} answered natively, all in: ${all}`);
  });
}

test('hostile images, messages and descriptions: the packer never crashes nor writes past its buffer', (t) => {
  const dir = fs.mkdtempSync(path.join(work, 'fuzz-'));
  const img = path.join(dir, 'fuzz.erofs');
  mkfsErofs(img, path.join(src, 'tree'), []);
  const good = fs.readFileSync(img);
  const conf = new Float64Array(Conf.Length);
  conf[Conf.BlockSize] = 4096;
  conf[Conf.RootNid] = good.readUInt16LE(1024 + 14);
  conf[Conf.RootIsOne] = 1;
  conf[Conf.EntryTimeout] = 1;
  const result = new Float64Array(1);
  let answered = 0;
  for (let i = 0; i < 3000; i++) {
    const image = Buffer.from(good);
    // mutate a few bytes of the metadata (the first blocks), sometimes cut the image short
    for (let k = 0; k < 1 + (i % 8); k++) image[(i * 7919 + k * 104729) % Math.min(image.length, 64 * 1024)] = (i * 31 + k) & 0xff;
    const cut = i % 5 === 0 ? image.subarray(0, (i * 977) % image.length) : image;
    const size = i % 7 === 0 ? [0, 1 << 20][i % 2] : (i * 37) % 4200;
    const msg = listRequest(i % 2 ? Opcode.READDIR : Opcode.READDIRPLUS, 1 + (i % 3 === 0 ? 0 : (i % 40) + 2),
      i % 4 === 0 ? (i * 12) % 8192 : 0, size);
    if (i % 11 === 0) msg.writeUInt32LE(msg.length + 1, 0); // a length field that lies
    // exactly the room a reply may take (size, at most maxWrite 4096), then a guard
    const room = OUT_HEADER_SIZE + Math.min(size, 4096);
    const out = Buffer.alloc(room + 64, 0xee);
    const n = native.packErofsListingReply(msg, cut, undefined, conf, i % 2 === 0, 4096, out.subarray(0, room), result);
    t.true(n === 0 || (n >= OUT_HEADER_SIZE && n <= room && out.readUInt32LE(0) === n));
    t.true(out.subarray(room).every((b) => b === 0xee), 'nothing written past the buffer');
    if (n > 0) answered++;
  }
  t.true(answered > 100, `well-formed enough to answer: ${answered}`);
  // Random bytes as image, message and description.
  for (let i = 0; i < 2000; i++) {
    const random = pseudoRandom(4096 + (i % 7) * 1000, i);
    const c = new Float64Array(Conf.Length).map((_, j) => (i % 3 === 0 ? random[j] * 2 ** (j % 40) : random[j] - 128));
    const out = Buffer.alloc(8192);
    const n = native.packErofsListingReply(random.subarray(0, 80), random, random.subarray(0, i % 5), c, i % 2 === 0, 8192 - OUT_HEADER_SIZE, out, result);
    t.true(n === 0 || (n >= OUT_HEADER_SIZE && n <= out.length));
  }
  t.is(native.packErofsListingReply(Buffer.alloc(10), good, undefined, conf, true, 4096, Buffer.alloc(4112), result), 0, 'a short message');
});
