/**
 * A names-only READDIRPLUS (the advisor's choice for a directory nobody stats the files of) still carries the
 * entries of its subdirectories, so that a walk goes down into them without a LOOKUP each: at once when the
 * filesystem has them at hand, otherwise looked up after the listing is packed. Files stay names-only, and a
 * subdirectory that went away in between stays names-only instead of failing the listing.
 */
import test from 'ava';
import { Opcode } from '../../daemon/src/abi/opcodes';
import { direntSize, encodeInHeader, ENTRY_OUT_SIZE, IN_HEADER_SIZE, OUT_HEADER_SIZE, readU64 } from '../../daemon/src/abi/structs';
import { E, FsError } from '../../daemon/src/fs/errno';
import type { Attr, DirEntry, Entry, FileSystem } from '../../daemon/src/fs/filesystem';
import type { Logger } from '../../daemon/src/log';
import { Dispatcher } from '../../daemon/src/server/dispatcher';
import { negotiate } from '../../daemon/src/server/init';

const DT_DIR = 4;
const DT_REG = 8;

const attr = (ino: number, mode: number): Attr => ({ ino, size: 0, blocks: 0, atimeSec: 0, atimeNsec: 0, mtimeSec: 0,
  mtimeNsec: 0, ctimeSec: 0, ctimeNsec: 0, mode, nlink: 1, uid: 0, gid: 0, rdev: 0, blksize: 4096 });

/** The root lists: ".", "at-hand" (dir), "file" (file), "on-disk" (dir), "gone" (dir, removed after the listing). */
const LISTING: Array<[string, number]> = [['.', DT_DIR], ['at-hand', DT_DIR], ['file', DT_REG], ['on-disk', DT_DIR], ['gone', DT_DIR]];

function makeFs(looked: string[]): FileSystem {
  const entryOf = (e: DirEntry): Entry => ({ nodeid: 100 + e.ino, generation: 0, attr: attr(e.ino, 0o040755), entryTimeout: 1, attrTimeout: 1 });
  return {
    lookup: () => { throw new FsError(E.ENOENT); },
    forget: () => undefined,
    getattr: () => ({ attr: attr(1, 0o040755), attrTimeout: 1 }),
    readdir: (_c, _n, _f, offset) => (offset > 0 ? [] : LISTING.map(([name, type], i) => (
      { ino: i + 1, nextOffset: i + 1, type, name: Buffer.from(name), handle: i + 1 }))),
    entryAtHand: (_c, _p, e) => (e.name.toString() === 'at-hand' ? entryOf(e) : undefined),
    readdirplusEntry: async (_c, _p, e) => {
      looked.push(e.name.toString());
      await new Promise((resolve) => setImmediate(resolve)); // an inode read that waits for the disk
      if (e.name.toString() === 'gone') throw new FsError(E.ENOENT);
      return entryOf(e);
    },
  };
}

const quiet = () => undefined;
const silent: Logger = { error: quiet, warn: quiet, info: quiet, debug: quiet, trace: quiet };

/** READDIRPLUS of the root from offset 0: each record's name and the nodeid of its entry_out (0: names only). */
async function listRoot(fs: FileSystem): Promise<{ error: number; records: Array<[string, number]>; atOnce: boolean }> {
  const init = negotiate({ major: 7, minor: 45, maxReadahead: 1 << 17, flags: 0xffffffff, flags2: 0 });
  let resolveReply!: (b: Buffer) => void;
  const replied = new Promise<Buffer>((resolve) => { resolveReply = resolve; });
  const d = new Dispatcher({ fs, init: init.state, log: silent, write: (p) => { resolveReply(Buffer.concat(p)); return 0; } });
  const msg = Buffer.alloc(IN_HEADER_SIZE + 40);
  encodeInHeader(msg, Opcode.READDIRPLUS, 7n, 1, process.pid);
  msg.writeUInt32LE(4096, IN_HEADER_SIZE + 16);
  let answered = false;
  void replied.then(() => { answered = true; });
  d.dispatch(msg);
  await Promise.resolve();
  const atOnce = answered;
  const reply = await replied;
  const records: Array<[string, number]> = [];
  for (let off = OUT_HEADER_SIZE; off < reply.length;) {
    const dirent = off + ENTRY_OUT_SIZE;
    const nameLength = reply.readUInt32LE(dirent + 16);
    records.push([reply.subarray(dirent + 24, dirent + 24 + nameLength).toString(), readU64(reply, off)]);
    off += direntSize(nameLength, true);
  }
  return { error: reply.readInt32LE(4), records, atOnce };
}

test('a names-only listing carries every subdirectory\'s entry, looking up those not at hand after packing', async (t) => {
  const looked: string[] = [];
  const { error, records, atOnce } = await listRoot(makeFs(looked));
  t.is(error, 0);
  t.false(atOnce);
  t.deepEqual(records, [['.', 0], ['at-hand', 102], ['file', 0], ['on-disk', 104], ['gone', 0]]);
  t.deepEqual(looked, ['on-disk', 'gone'], 'only subdirectories not at hand are looked up; "." and files never');
});

test('a listing whose subdirectories are all at hand is answered without waiting for anything', async (t) => {
  const looked: string[] = [];
  const fs = makeFs(looked);
  fs.entryAtHand = (_c, _p, e) => ({ nodeid: 100 + e.ino, generation: 0, attr: attr(e.ino, 0o040755), entryTimeout: 1, attrTimeout: 1 });
  const { records, atOnce } = await listRoot(fs);
  t.deepEqual(records, [['.', 0], ['at-hand', 102], ['file', 0], ['on-disk', 104], ['gone', 105]]);
  t.true(atOnce, 'answered within the dispatch');
  t.deepEqual(looked, []);
});
