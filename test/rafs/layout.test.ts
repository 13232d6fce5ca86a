/**
 * layout/ decoders against hand-assembled, byte-annotated vectors (built here, not by the code under test),
 * and every struct cut at every length: a short buffer is a RafsFormatError naming the struct, never a crash.
 */
import test from 'ava';
import {
  decodeChunkAddress, decodeCiV1, decodeCiV2, decodeDirBlock, decodeInode, decodeRdev, decodeSuperblock,
  decodeTocTarHeader, decodeXattrEntry, decodeXattrHeader, deviceIdMask, StructView, subdirectoryNids,
} from '../../daemon/src/rafs/layout';
import { RafsFormatError } from '../../daemon/src/rafs';

function superblock(): Buffer {
  const b = Buffer.alloc(128);
  b.writeUInt32LE(0xe0f5e1e2, 0); // magic
  b.writeUInt32LE(0x40000000, 8); // feature_compat: RAFS v6
  b.writeUInt8(12, 12); //           blkszbits
  b.writeUInt16LE(36, 14); //        root_nid
  b.writeBigUInt64LE(5n, 16); //     inos
  b.writeBigUInt64LE(1000n, 24); //  build_time
  b.writeUInt32LE(7, 32); //         build_time_nsec
  b.writeUInt32LE(9, 36); //         blocks
  b.writeUInt32LE(2, 40); //         meta_blkaddr
  b.writeUInt32LE(0xc, 80); //       feature_incompat: CHUNKED_FILE | DEVICE_TABLE
  b.writeUInt16LE(3, 86); //         extra_devices
  b.writeUInt16LE(11, 88); //        devt_slotoff
  return b;
}

test('decodeSuperblock() reads every field and rejects bad magic and unknown incompat bits', (t) => {
  const sb = decodeSuperblock(superblock());
  t.like(sb, { blockSize: 4096, rootNid: 36, inos: 5, buildTime: 1000, buildTimeNsec: 7, blocks: 9, metaBlkaddr: 2,
    extraDevices: 3, devtSlotoff: 11, isRafsV6: true });
  const bad = superblock(); bad[0] ^= 1;
  t.throws(() => decodeSuperblock(bad), { instanceOf: RafsFormatError, message: /superblock at offset 1024: bad magic/ });
  const inc = superblock(); inc.writeUInt32LE(0x100, 80);
  t.throws(() => decodeSuperblock(inc), { message: /incompatible features 0x100/ });
  t.is(deviceIdMask(3), 3);
  t.is(deviceIdMask(1), 1);
  t.is(deviceIdMask(4), 7);
});

test('decodeInode() compact and extended', (t) => {
  const c = Buffer.alloc(32);
  c.writeUInt16LE(2 << 1, 0); //  format: compact, FLAT_INLINE
  c.writeUInt16LE(2, 2); //       xattr_icount -> 12 + 4 bytes of xattrs
  c.writeUInt16LE(0o100644, 4);
  c.writeUInt16LE(3, 6); //       nlink
  c.writeUInt32LE(5000, 8); //    size
  c.writeUInt32LE(10, 12); //     mtime offset from build_time
  c.writeUInt32LE(77, 16); //     i_u (start block)
  c.writeUInt16LE(1001, 24); c.writeUInt16LE(1002, 26);
  t.like(decodeInode(c, 4, 64, { buildTime: 1000, buildTimeNsec: 5 }), {
    extended: false, inodeSize: 32, layout: 2, xattrSize: 16, mode: 0o100644, nlink: 3, size: 5000, iu: 77,
    uid: 1001, gid: 1002, mtime: 1010, mtimeNsec: 5,
  });
  const x = Buffer.alloc(64);
  x.writeUInt16LE(1 | (4 << 1), 0); // extended, CHUNK_BASED
  x.writeUInt16LE(0o40755, 4);
  x.writeBigUInt64LE(2n ** 40n, 8); //  size
  x.writeUInt32LE(100000, 24); x.writeUInt32LE(200000, 28);
  x.writeBigUInt64LE(1234567890n, 32); x.writeUInt32LE(999, 40); x.writeUInt32LE(4, 44);
  t.like(decodeInode(x, 9, 0, { buildTime: 0, buildTimeNsec: 0 }), {
    extended: true, inodeSize: 64, layout: 4, size: 2 ** 40, uid: 100000, gid: 200000, mtime: 1234567890, mtimeNsec: 999, nlink: 4,
  });
  t.throws(() => decodeInode(x.subarray(0, 40), 9, 4096, { buildTime: 0, buildTimeNsec: 0 }), { message: /inode 9 at offset 4096: truncated/ });
  const badLayout = Buffer.from(c); badLayout.writeUInt16LE(6 << 1, 0);
  t.throws(() => decodeInode(badLayout, 1, 0, { buildTime: 0, buildTimeNsec: 0 }), { message: /unknown data layout 6/ });
  t.deepEqual(decodeRdev((259 << 8) | (300 & 0xff) | ((300 & ~0xff) << 12)), { major: 259, minor: 300 });
});

function dirBlock(entries: Array<[number, string, number]>, padTo = 0): Buffer {
  const head = Buffer.alloc(entries.length * 12);
  const names: Buffer[] = [];
  let off = head.length;
  entries.forEach(([nid, name, type], i) => {
    head.writeBigUInt64LE(BigInt(nid), i * 12);
    head.writeUInt16LE(off, i * 12 + 8);
    head.writeUInt8(type, i * 12 + 10);
    names.push(Buffer.from(name));
    off += name.length;
  });
  const b = Buffer.concat([head, ...names]);
  return padTo > b.length ? Buffer.concat([b, Buffer.alloc(padTo - b.length)]) : b;
}

test('decodeDirBlock(): names end at the next nameoff, the last at the block end or first NUL', (t) => {
  const block = dirBlock([[5, '!x', 1], [1, '.', 2], [0, '..', 2], [9, 'zz', 7]], 4096);
  const got = decodeDirBlock(new StructView(block, 'dir', 0)).map((d) => [d.nid, d.name.toString(), d.fileType]);
  t.deepEqual(got, [[5, '!x', 1], [1, '.', 2], [0, '..', 2], [9, 'zz', 7]]);
  const bad = Buffer.from(block); bad.writeUInt16LE(13, 8);
  t.throws(() => decodeDirBlock(new StructView(bad, 'directory block 0 of inode 3', 8192)),
    { message: /directory block 0 of inode 3 at offset 8192: bad first nameoff 13/ });
  const backwards = Buffer.from(block); backwards.writeUInt16LE(10, 20);
  t.throws(() => decodeDirBlock(new StructView(backwards, 'dir', 0)), { instanceOf: RafsFormatError });
});

test('subdirectoryNids(): the directories of a block, without "." and "..", also when the last name is NUL-padded', (t) => {
  const entries: [number, string, number][] = [
    [5, '!x', 2], [1, '.', 2], [0, '..', 2], [7, '.a', 2], [8, '..b', 2], [9, 'file', 1], [10, '...', 2], [11, 'z', 2],
  ];
  const block = dirBlock(entries, 4096); // "z" runs to the block end: NUL padding
  const view = new StructView(block, 'dir', 0);
  t.deepEqual(subdirectoryNids(view, entries.length), [5, 7, 8, 10, 11]);
  t.deepEqual(subdirectoryNids(view, entries.length),
    decodeDirBlock(view).filter((d) => d.fileType === 2 && !['.', '..'].includes(d.name.toString())).map((d) => d.nid));
  const lastIsDot = dirBlock([[5, 'a', 2], [3, '.', 2]], 4096);
  t.deepEqual(subdirectoryNids(new StructView(lastIsDot, 'dir', 0), 2), [5]);
});

test('xattr header and entries', (t) => {
  const body = Buffer.alloc(12 + 4 + 4 + 8);
  body.writeUInt8(1, 4); //         shared_count
  body.writeUInt32LE(42, 12); //    shared id
  body.writeUInt8(3, 16); body.writeUInt8(1, 17); body.writeUInt16LE(2, 18); // name_len 3, "user.", value 2 bytes
  body.write('abcXY', 20);
  const v = new StructView(body, 'xattrs', 0);
  const h = decodeXattrHeader(v, 5);
  t.deepEqual(h, { sharedIds: [42], entriesOffset: 16 });
  const e = decodeXattrEntry(v, 16);
  t.is(e.suffix.toString(), 'abc');
  t.is(e.value.toString(), 'XY');
  t.is(e.entrySize, 12);
  t.throws(() => decodeXattrHeader(v, 1), { message: /shared xattr count 1 exceeds/ });
});

test('chunk addresses and compression-info entries (v1 and v2)', (t) => {
  const a = Buffer.alloc(8);
  a.writeUInt16LE(0x3456, 0); a.writeUInt8(3, 2); a.writeUInt8(0x12, 3); a.writeUInt32LE(77, 4);
  t.deepEqual(decodeChunkAddress(new StructView(a, 'addr', 0), 0), { blobIndex: 2, ciIndex: 0x123456, uncompressedBlkaddr: 77 });
  // v1: uoff 0x5000, usize 0x123456 -> (usize-1) low 20 bits at 44.., high 4 bits at 8..11; csize 0x200001 likewise.
  const v1 = Buffer.alloc(16);
  const us = 0x123456 - 1; const cs = 0x200001 - 1;
  v1.writeBigUInt64LE(0x5000n | (BigInt(us & 0xfffff) << 44n) | (BigInt(us >> 20) << 8n), 0);
  v1.writeBigUInt64LE(0xabcdefn | (BigInt(cs & 0xfffff) << 44n) | (BigInt(cs >> 20) << 40n), 8);
  t.deepEqual(decodeCiV1(new StructView(v1, 'ci', 0), 0),
    { uncompressedOffset: 0x5000, uncompressedSize: 0x123456, compressedOffset: 0xabcdef, compressedSize: 0x200001, compressed: true, flags: 0 });
  // The offset field stops at bit 43: size bits above must not leak into it.
  const high = Buffer.alloc(16);
  high.writeBigUInt64LE(0xffffffff000n | (0xfffffn << 44n), 0);
  t.is(decodeCiV1(new StructView(high, 'ci', 0), 0).uncompressedOffset, 0xffffffff000);
  const v2 = Buffer.alloc(24);
  v2.writeBigUInt64LE(3n | (4095n << 32n), 0); v2.writeBigUInt64LE(100n | (4096n << 40n), 8);
  t.deepEqual(decodeCiV2(new StructView(v2, 'ci', 0), 0),
    { uncompressedOffset: 3 * 4096, uncompressedSize: 4096, compressedOffset: 100, compressedSize: 4096, compressed: false, flags: 0 });
  // Upstream's old-format sample: uncomp 0x0300_0100_0000_0100 (flags 3 = compressed | zran), comp 0x0fff_ffff_ffff_ffff.
  v2.writeBigUInt64LE(0x0300010000000100n, 0); v2.writeBigUInt64LE(0x0fffffffffffffffn, 8);
  t.deepEqual(decodeCiV2(new StructView(v2, 'ci', 0), 0),
    { uncompressedOffset: 0x100000, uncompressedSize: 0x101, compressedOffset: 0xffffffffff, compressedSize: 0xfffff, compressed: true, flags: 2 });
});

test('decodeTocTarHeader() wants the rafs.blob.toc tar header', (t) => {
  const h = Buffer.alloc(512);
  h.write('rafs.blob.toc', 0); h.write('00000001000\0', 124);
  t.is(decodeTocTarHeader(h, 0), 512);
  const other = Buffer.from(h); other.write('image.blob\0\0\0', 0);
  t.throws(() => decodeTocTarHeader(other, 100), { message: /blob ToC tar header at offset 100: expected a tar header/ });
});

test('every decoder given every prefix of its struct decodes or throws RafsFormatError', (t) => {
  const full = { sb: superblock(), dir: dirBlock([[1, '.', 2], [0, '..', 2], [4, 'a', 1]]) };
  const inode = Buffer.alloc(64); inode.writeUInt16LE(1, 0);
  let checked = 0;
  for (let n = 0; n <= 128; n++) {
    for (const f of [
      () => decodeSuperblock(full.sb.subarray(0, n)),
      () => decodeInode(inode.subarray(0, Math.min(n, 64)), 1, 0, { buildTime: 0, buildTimeNsec: 0 }),
      () => decodeDirBlock(new StructView(full.dir.subarray(0, Math.min(n, full.dir.length)), 'dir', 0)),
      () => decodeCiV1(new StructView(Buffer.alloc(Math.min(n, 16)), 'ci', 0), 0),
    ]) {
      try { f(); } catch (err) { t.true(err instanceof RafsFormatError, String(err)); }
      checked++;
    }
  }
  t.is(checked, 129 * 4);
});
