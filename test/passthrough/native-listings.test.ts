/**
 * passthrough_fs listings answered natively (server/native-listings.ts, daemon/native/src/dir_cursor.c) must be
 * the replies the handlers give, byte for byte: READDIR and names-only READDIRPLUS of every directory of a tree,
 * from every cookie reached, in pages of several sizes. Listings with subdirectories (whose READDIRPLUS entries
 * carry attributes, and whose start reads them ahead) go to the handlers; the end of a listing closes its
 * directory fd either way. Hostile messages never crash the packer nor make it write past its buffer.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { Opcode } from '../../daemon/src/abi/opcodes';
import { IN_HEADER_SIZE, OUT_HEADER_SIZE } from '../../daemon/src/abi/structs';
import { FUSE_ROOT_ID } from '../../daemon/src/fs/filesystem';
import { native, AT_FDCWD, O_DIRECTORY } from '../../daemon/src/native';
import { PassthroughFs } from '../../daemon/src/passthrough';
import { Vfs } from '../../daemon/src/vfs/vfs';
import { countNativeReplies, dispatchWire, listingRecords, listRequest, sameListingReply } from '../helpers/dispatch-wire';
import { makeShare, openFdCount } from './helpers';

const DT_DIR = 4;

/** root: leaf/ (300 files, long names), mixed/ (files and 3 subdirectories), empty/ */
function tree(t: ExecutionContext): string {
  const { host } = makeShare(t);
  const root = host('');
  fs.mkdirSync(path.join(root, 'leaf'));
  for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(root, 'leaf', `file-${i}-${'n'.repeat(i % 90)}`), '');
  fs.mkdirSync(path.join(root, 'mixed'));
  for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(root, 'mixed', `f${i}`), '');
  for (let i = 0; i < 3; i++) fs.mkdirSync(path.join(root, 'mixed', `sub${i}`));
  fs.symlinkSync('leaf', path.join(root, 'link'));
  fs.mkdirSync(path.join(root, 'empty'));
  // A directory's first listing moves its atime (relatime): done here, not between the two wires' lookups of it.
  for (const dir of ['', 'leaf', 'mixed', 'mixed/sub0', 'mixed/sub1', 'mixed/sub2', 'empty']) fs.readdirSync(path.join(root, dir));
  return root;
}

/** A Dispatcher over a fresh passthrough_fs of `root`: answering natively, or (hooks set) all through the handlers. */
function wire(root: string, handlersOnly: boolean): (msg: Buffer) => Promise<Buffer> {
  const vfs = new Vfs();
  vfs.mount('/', new PassthroughFs({ sharedDir: root, writable: false }),
    { fsType: 'passthrough_fs', source: root, config: '', prefetchFiles: [] });
  return dispatchWire(vfs, handlersOnly);
}

const records = listingRecords;
const countNative = (fn: () => Promise<void>) => countNativeReplies('dirCursorPack', fn);

test.serial('READDIR and names-only READDIRPLUS answered natively are the handlers\' replies, byte for byte', async (t) => {
  const root = tree(t);
  const viaNative = wire(root, false);
  const viaHandlers = wire(root, true);
  let compared = 0;
  const answered = await countNative(async () => {
    const dirs = [FUSE_ROOT_ID];
    while (dirs.length > 0) {
      const dir = dirs.pop()!;
      for (const size of [4096, 512, 80]) {
        for (const opcode of [Opcode.READDIRPLUS, Opcode.READDIR]) {
          const plus = opcode === Opcode.READDIRPLUS;
          for (let offset = 0; ;) {
            const a = await sameListingReply(t, viaNative, viaHandlers, opcode, dir, offset, size);
            compared++;
            const recs = records(a, plus);
            if (recs.length === 0 || a.readInt32LE(4) !== 0) break;
            if (plus && size === 4096 && offset === 0) {
              for (const r of recs) if (r.type === DT_DIR && r.nodeid !== 0 && !['.', '..'].includes(r.name)) dirs.push(r.nodeid);
            }
            offset = recs[recs.length - 1].next;
          }
        }
      }
    }
  });
  t.true(compared > 100, `${compared} replies compared`);
  t.true(answered > compared / 2, `${answered} of ${compared} answered natively`);
});

/** Directories read ahead hold a copy of their parent's fd for a moment. */
const readAheadDone = () => new Promise((resolve) => setTimeout(resolve, 100));

test.serial('a listing with subdirectories goes to the handlers at its start, and the end of any listing closes its fd', async (t) => {
  const root = tree(t);
  const viaNative = wire(root, false);
  const fdsBefore = openFdCount();
  // The root holds leaf/, mixed/, empty/: its READDIRPLUS sends their entries, so the handlers answer it.
  const answeredRoot = await countNative(async () => {
    const reply = await viaNative(listRequest(Opcode.READDIRPLUS, FUSE_ROOT_ID, 0, 4096));
    const dirs = records(reply, true).filter((r) => r.type === DT_DIR && !['.', '..'].includes(r.name));
    t.deepEqual(dirs.map((r) => r.name).sort(), ['empty', 'leaf', 'mixed']);
    t.true(dirs.every((r) => r.nodeid !== 0), 'subdirectories carry their entry');
  });
  t.is(answeredRoot, 0);
  await readAheadDone();
  t.is(openFdCount(), fdsBefore + 1 + 3, 'the open listing and the O_PATH fds of the three subdirectories');
  const end = records(await viaNative(listRequest(Opcode.READDIRPLUS, FUSE_ROOT_ID, 0, 4096)), true).pop()!.next;
  const answeredEnd = await countNative(async () => {
    const reply = await viaNative(listRequest(Opcode.READDIR, FUSE_ROOT_ID, end, 4096));
    t.is(reply.length, OUT_HEADER_SIZE, 'the end: no records');
  });
  t.is(answeredEnd, 1, 'the end of the listing is answered natively');
  await readAheadDone();
  t.is(openFdCount(), fdsBefore + 3, 'and closed the listing\'s fd');
});

test.serial('a READDIR through a directory handle (fh != 0, a predecessor\'s) is left to the handlers', async (t) => {
  const root = tree(t);
  const viaNative = wire(root, false);
  const answered = await countNative(async () => {
    const reply = await viaNative(listRequest(Opcode.READDIR, FUSE_ROOT_ID, 0, 4096, 77));
    t.true(reply.readInt32LE(4) < 0, 'an unknown handle is an error from the handlers');
  });
  t.is(answered, 0);
});

test('the packer never crashes and never writes past its buffer on hostile messages', (t) => {
  const root = tree(t);
  const fd = native.openat(AT_FDCWD, path.join(root, 'leaf'), O_DIRECTORY, 0);
  t.teardown(() => native.close(fd));
  const cursor = native.dirCursorCreate(fd, 0);
  const result = new Float64Array(2);
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
  let packed = 0;
  for (let i = 0; i < 3000; i++) {
    const msg = Buffer.alloc(Math.floor(random() * 100));
    for (let j = 0; j < msg.length; j++) msg[j] = Math.floor(random() * 256);
    if (msg.length >= 8 && random() < 0.7) msg.writeUInt32LE(random() < 0.5 ? Opcode.READDIR : Opcode.READDIRPLUS, 4);
    if (msg.length >= IN_HEADER_SIZE + 24 && random() < 0.7) msg.writeBigUInt64LE(BigInt(Math.floor(random() * 400)), IN_HEADER_SIZE + 8);
    const outSize = 16 + Math.floor(random() * 9000);
    const out = Buffer.alloc(outSize + 64, 0xee);
    const n = native.dirCursorPack(cursor, msg, msg.length >= 8 && msg.readUInt32LE(4) === Opcode.READDIRPLUS,
      Math.floor(random() * 8192), out.subarray(0, outSize), result);
    t.true(n >= 0 && n <= outSize, `reply length ${n} within ${outSize}`);
    t.true(out.subarray(outSize).every((x) => x === 0xee), 'nothing written past the buffer');
    if (n > 0) packed++;
  }
  t.true(packed > 0, 'some were well-formed enough to answer');
  t.is(native.dirCursorPack(cursor, Buffer.alloc(10), false, 4096, Buffer.alloc(8192), result), 0, 'a short message');
  t.is(native.dirCursorPack({} as never, Buffer.alloc(80), false, 4096, Buffer.alloc(8192), result), 0, 'not a cursor');
  t.is(native.dirCursorRead(cursor, 0, 4096, Buffer.alloc(100), result), -22, 'a read buffer too small: EINVAL');
});
