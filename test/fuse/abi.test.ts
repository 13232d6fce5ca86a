/**
 * The FUSE ABI pinned against the kernel's fuse.h: struct sizes, and golden byte vectors written out by
 * hand (offsets from include/uapi/linux/fuse.h), independent of the encoders under test.
 */
import test from 'ava';
import * as S from '../../daemon/src/abi/structs';
import { Opcode } from '../../daemon/src/abi/opcodes';
import type { Attr } from '../../daemon/src/fs/filesystem';

test('struct sizes match fuse.h', (t) => {
  t.is(S.IN_HEADER_SIZE, 40);
  t.is(S.OUT_HEADER_SIZE, 16);
  t.is(S.ATTR_SIZE, 88);
  t.is(S.ENTRY_OUT_SIZE, 128);
  t.is(S.ATTR_OUT_SIZE, 104);
  t.is(S.OPEN_OUT_SIZE, 16);
  t.is(S.INIT_IN_SIZE, 64);
  t.is(S.INIT_OUT_SIZE, 64);
  t.is(S.STATFS_OUT_SIZE, 80);
  t.is(S.DIRENT_BASE_SIZE, 24);
  t.is(S.DIRENTPLUS_BASE_SIZE, 152);
  t.is(S.InSize.SETATTR, 88);
  t.is(S.InSize.READ, 40);
  t.is(S.InSize.WRITE, 40);
  t.is(S.InSize.COPY_FILE_RANGE, 56);
  t.is(Opcode.READDIRPLUS, 44);
  t.is(Opcode.RENAME2, 45);
});

/** Little-endian hex of `n` bytes of an integer, for writing vectors by hand. */
function le(v: number | bigint, n: number): string {
  let x = BigInt(v);
  let s = '';
  for (let i = 0; i < n; i++) {
    s += (x & 0xffn).toString(16).padStart(2, '0');
    x >>= 8n;
  }
  return s;
}

test('in_header decodes a hand-written vector', (t) => {
  const hex = le(56, 4) + le(Opcode.LOOKUP, 4) + le(0x8000000000000012n, 8) + le(0x1_0000_0005, 8)
    + le(1000, 4) + le(100, 4) + le(4242, 4) + le(0, 2) + le(0, 2);
  const h = S.decodeInHeader(Buffer.from(hex, 'hex'));
  t.deepEqual(h, { len: 56, opcode: 1, unique: 0x8000000000000012n, nodeid: 0x1_0000_0005, uid: 1000, gid: 100, pid: 4242, totalExtlen: 0 });
});

test('in_header encodes to the hand-written vector (uid and gid 0), only the message length in len', (t) => {
  const b = Buffer.alloc(S.IN_HEADER_SIZE + 8, 0xee);
  S.encodeInHeader(b, Opcode.FORGET, 0x8000000000000012n, 0x1_0000_0005, 4242);
  const want = le(48, 4) + le(Opcode.FORGET, 4) + le(0x8000000000000012n, 8) + le(0x1_0000_0005, 8)
    + le(0, 4) + le(0, 4) + le(4242, 4) + le(0, 2) + le(0, 2) + 'eeeeeeeeeeeeeeee';
  t.is(b.toString('hex'), want);
});

test('encoders reach no byte outside their buffer: a view into a larger one is bounded by its own length', (t) => {
  const whole = Buffer.alloc(S.ENTRY_OUT_SIZE + 16, 0xee);
  const part = whole.subarray(8, 8 + S.ENTRY_OUT_SIZE - 1);
  t.throws(() => S.encodeEntryOut(part, 0, { nodeid: 2, generation: 0, entryTimeout: 1, attrTimeout: 1, attr }), { instanceOf: RangeError });
  t.is(whole.subarray(0, 8).toString('hex'), 'eeeeeeeeeeeeeeee');
  t.is(whole.subarray(8 + S.ENTRY_OUT_SIZE - 1).toString('hex'), 'ee'.repeat(9));
});

const attr: Attr = {
  ino: 0x1122334455, size: 1 << 20, blocks: 2048, atimeSec: 1_700_000_000, atimeNsec: 1, mtimeSec: 1_700_000_001,
  mtimeNsec: 2, ctimeSec: 1_700_000_002, ctimeNsec: 3, mode: 0o100644, nlink: 2, uid: 70000, gid: 80000,
  rdev: 0x0801, blksize: 4096,
};
const attrHex = le(attr.ino, 8) + le(attr.size, 8) + le(attr.blocks, 8) + le(attr.atimeSec, 8) + le(attr.mtimeSec, 8)
  + le(attr.ctimeSec, 8) + le(1, 4) + le(2, 4) + le(3, 4) + le(0o100644, 4) + le(2, 4) + le(70000, 4) + le(80000, 4)
  + le(0x0801, 4) + le(4096, 4) + le(0, 4);

test('entry_out encodes to the hand-written vector (timeouts split into seconds and nanoseconds)', (t) => {
  const b = Buffer.alloc(S.ENTRY_OUT_SIZE);
  S.encodeEntryOut(b, 0, { nodeid: 0x1_0000_0002, generation: 7, entryTimeout: 1.5, attrTimeout: 3600, attr });
  const want = le(0x1_0000_0002, 8) + le(7, 8) + le(1, 8) + le(3600, 8) + le(500_000_000, 4) + le(0, 4) + attrHex;
  t.is(b.toString('hex'), want);
});

test('attr_out encodes to the hand-written vector', (t) => {
  const b = Buffer.alloc(S.ATTR_OUT_SIZE);
  S.encodeAttrOut(b, 0, attr, 0.25);
  t.is(b.toString('hex'), le(0, 8) + le(250_000_000, 4) + le(0, 4) + attrHex);
});

test('dirent records carry the NEXT cookie and are padded to 8 bytes', (t) => {
  const b = Buffer.alloc(64, 0xff);
  const n = S.encodeDirent(b, 0, 99, 5, 8, Buffer.from('abc'));
  t.is(n, 32);
  t.is(b.subarray(0, 32).toString('hex'), le(99, 8) + le(5, 8) + le(3, 4) + le(8, 4) + '616263' + '0000000000');
  t.is(S.direntSize(8, false), 32);
  t.is(S.direntSize(9, false), 40);
  t.is(S.direntSize(1, true), 160);
});

test('init_out encodes to the hand-written vector', (t) => {
  const b = Buffer.alloc(S.INIT_OUT_SIZE, 0xaa);
  S.encodeInitOut(b, 0, { major: 7, minor: 40, maxReadahead: 131072, flags: 0x40000001, maxBackground: 64,
    congestionThreshold: 48, maxWrite: 1 << 20, timeGran: 1, maxPages: 256, flags2: 0x80, maxStackDepth: 0 });
  const want = le(7, 4) + le(40, 4) + le(131072, 4) + le(0x40000001, 4) + le(64, 2) + le(48, 2) + le(1 << 20, 4)
    + le(1, 4) + le(256, 2) + le(0, 2) + le(0x80, 4) + '00'.repeat(28);
  t.is(b.toString('hex'), want);
});

test('setattr_in decodes a hand-written vector', (t) => {
  const hex = le(0x3f, 4) + le(0, 4) + le(9, 8) + le(12345, 8) + le(0, 8) + le(111, 8) + le(222, 8) + le(333, 8)
    + le(11, 4) + le(22, 4) + le(33, 4) + le(0o644, 4) + le(0, 4) + le(1001, 4) + le(1002, 4) + le(0, 4);
  t.deepEqual(S.decodeSetattrIn(Buffer.from(hex, 'hex'), 0), {
    valid: 0x3f, fh: 9, size: 12345, atimeSec: 111, mtimeSec: 222, atimeNsec: 11, mtimeNsec: 22, mode: 0o644,
    uid: 1001, gid: 1002,
  });
});

test('u64 helpers are exact up to 2^53', (t) => {
  const b = Buffer.alloc(8);
  for (const v of [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 36 * 5 + 7, Number.MAX_SAFE_INTEGER]) {
    S.writeU64(b, 0, v);
    t.is(b.readBigUInt64LE(0), BigInt(v));
    t.is(S.readU64(b, 0), v);
  }
});
