/**
 * A tiny RAFS v6 writer for tests, written from the format notes (not from the reader): one blob, one flat
 * root directory of chunk-based files, compact inodes, chunks compressed with zstd or lz4_block (stored raw
 * when that is not smaller), a ci array (v1 or v2) inside the blob, identical chunks deduplicated, null
 * chunks as holes. Enough to test the chunk read path where the fixtures are too small.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { native } from '../../../daemon/src/native';
import type { RafsOptions } from '../../../daemon/src/rafs';

export interface BuildInput {
  files: Array<{ name: string; chunks: Array<Buffer | null> }>;
  chunkSize: number;
  codec: 'zstd' | 'lz4' | 'none';
  ciVersion: 1 | 2;
  blobId?: string;
}

export interface Built { bootstrap: Buffer; blob: Buffer; blobId: string; chunkCount: number }

const CODEC = { none: 0, lz4: 1, zstd: 3 } as const;

export function buildRafs(input: BuildInput): Built {
  const blobId = input.blobId ?? 'ab'.repeat(32);
  const chunkBits = Math.log2(input.chunkSize);
  // --- blob: unique chunks, then the ci array ---
  const uniq = new Map<string, number>();
  const stored: Buffer[] = [];
  const ci: Array<{ coff: number; csize: number; uoff: number; usize: number }> = [];
  let coff = 0;
  let uoff = 0;
  const chunkIndex = (data: Buffer): number => {
    const key = data.toString('base64');
    const hit = uniq.get(key);
    if (hit !== undefined) return hit;
    let enc = input.codec === 'zstd' ? native.zstdCompress(data, 3) : input.codec === 'lz4' ? native.lz4Compress(data) : data;
    if (enc.length >= data.length) enc = data;
    ci.push({ coff, csize: enc.length, uoff, usize: data.length });
    stored.push(enc);
    coff += enc.length;
    uoff += Math.ceil(data.length / 4096) * 4096;
    uniq.set(key, ci.length - 1);
    return ci.length - 1;
  };
  const fileChunks = input.files.map((f) => f.chunks.map((c) => (c ? chunkIndex(c) : -1)));
  const entrySize = input.ciVersion === 2 ? 24 : 16;
  const ciArray = Buffer.alloc(ci.length * entrySize);
  ci.forEach((e, i) => {
    const at = i * entrySize;
    if (input.ciVersion === 1) {
      const u = BigInt(e.uoff) | (BigInt((e.usize - 1) & 0xfffff) << 44n) | (BigInt(((e.usize - 1) >> 20) & 0xf) << 8n);
      const c = BigInt(e.coff) | (BigInt((e.csize - 1) & 0xfffff) << 44n) | (BigInt(((e.csize - 1) >> 20) & 0xf) << 40n);
      ciArray.writeBigUInt64LE(u, at);
      ciArray.writeBigUInt64LE(c, at + 8);
    } else {
      const compressedFlag = e.csize !== e.usize ? 1n << 56n : 0n;
      ciArray.writeBigUInt64LE(BigInt(e.uoff / 4096) | (BigInt(e.usize - 1) << 32n) | compressedFlag, at);
      ciArray.writeBigUInt64LE(BigInt(e.coff) | (BigInt(e.csize) << 40n), at + 8);
    }
  });
  const blob = Buffer.concat([...stored, ciArray]);

  // --- bootstrap ---
  const META_BLK = 2;
  const meta: Buffer[] = [];
  const names = ['.', '..', ...input.files.map((f) => f.name)];
  const dirLen = names.length * 12 + names.reduce((n, s) => n + Buffer.byteLength(s), 0);
  let next = Math.ceil((32 + dirLen) / 32);
  const fileNids = input.files.map((f, i) => {
    const nid = next;
    next += Math.ceil((32 + 8 * Math.max(1, fileChunks[i].length)) / 32) + 1;
    return nid;
  });
  const metaBuf = Buffer.alloc(next * 32 + 64);
  const sorted = names.map((name, i) => ({ name, nid: i < 2 ? 0 : fileNids[i - 2], type: i < 2 ? 2 : 1 }))
    .sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
  writeInode(metaBuf, 0, 2 << 1, 0o40755, 2, dirLen, 0);
  let nameOff = sorted.length * 12;
  sorted.forEach((d, i) => {
    metaBuf.writeBigUInt64LE(BigInt(d.nid), 32 + i * 12);
    metaBuf.writeUInt16LE(nameOff, 32 + i * 12 + 8);
    metaBuf.writeUInt8(d.type, 32 + i * 12 + 10);
    nameOff += metaBuf.write(d.name, 32 + nameOff, 'latin1');
  });
  input.files.forEach((f, i) => {
    const at = fileNids[i] * 32;
    const size = f.chunks.length * input.chunkSize;
    writeInode(metaBuf, at, 4 << 1, 0o100644, 1, size, 0x20 | (chunkBits - 12));
    fileChunks[i].forEach((ciIndex, c) => {
      const o = at + 32 + c * 8;
      if (ciIndex < 0) { metaBuf.writeUInt32LE(0xffffffff, o + 4); return; }
      metaBuf.writeUInt16LE(ciIndex & 0xffff, o);
      metaBuf.writeUInt8(1, o + 2);
      metaBuf.writeUInt8(ciIndex >> 16, o + 3);
      metaBuf.writeUInt32LE(ci[ciIndex].uoff / 4096, o + 4);
    });
  });
  meta.push(metaBuf);
  const head = Buffer.alloc(META_BLK * 4096);
  head.writeUInt32LE(0xe0f5e1e2, 1024);
  head.writeUInt32LE(0x40000000, 1024 + 8);
  head.writeUInt8(12, 1024 + 12);
  head.writeUInt16LE(0, 1024 + 14);
  head.writeBigUInt64LE(BigInt(input.files.length + 1), 1024 + 16);
  head.writeBigUInt64LE(1700000000n, 1024 + 24);
  head.writeUInt32LE(META_BLK + Math.ceil(metaBuf.length / 4096), 1024 + 36);
  head.writeUInt32LE(META_BLK, 1024 + 40);
  head.writeUInt32LE(0x4 | 0x8, 1024 + 80);
  head.writeUInt16LE(1, 1024 + 86);
  head.writeUInt16LE(11, 1024 + 88);
  // ext superblock at 1152
  head.writeBigUInt64LE(BigInt(0x4 | 0x10 | (input.codec === 'zstd' ? 0x80 : input.codec === 'lz4' ? 0x2 : 0x1)), 1152);
  head.writeBigUInt64LE(4096n, 1152 + 8);
  head.writeUInt32LE(256, 1152 + 16);
  head.writeUInt32LE(input.chunkSize, 1152 + 20);
  // device slot at 1408
  head.write(blobId, 1408, 'latin1');
  // blob table at 4096
  const b = 4096;
  head.write(blobId, b, 'latin1');
  head.writeUInt32LE(input.chunkSize, b + 68);
  head.writeUInt32LE(ci.length, b + 72);
  head.writeUInt32LE(CODEC[input.codec], b + 76);
  head.writeUInt32LE(input.ciVersion === 2 ? 0x4 : 0, b + 84);
  head.writeBigUInt64LE(BigInt(coff), b + 88);
  head.writeBigUInt64LE(BigInt(uoff), b + 96);
  head.writeBigUInt64LE(BigInt(coff), b + 112);
  head.writeBigUInt64LE(BigInt(ciArray.length), b + 120);
  head.writeBigUInt64LE(BigInt(ciArray.length), b + 128);
  return { bootstrap: Buffer.concat([head, ...meta]), blob, blobId, chunkCount: ci.length };
}

/** Builds an image named `name` into `dir` (bootstrap `<name>.boot`, blob by id beside it); how to open it. */
export function writeRafs(dir: string, name: string, input: BuildInput): RafsOptions {
  const built = buildRafs({ ...input, blobId: createHash('sha256').update(name).digest('hex') });
  const boot = path.join(dir, `${name}.boot`);
  fs.writeFileSync(boot, built.bootstrap);
  fs.writeFileSync(path.join(dir, built.blobId), built.blob);
  return { bootstrap: boot, localfsDir: dir };
}

function writeInode(buf: Buffer, at: number, format: number, mode: number, nlink: number, size: number, iu: number): void {
  buf.writeUInt16LE(format, at);
  buf.writeUInt16LE(mode, at + 4);
  buf.writeUInt16LE(nlink, at + 6);
  buf.writeUInt32LE(size, at + 8);
  buf.writeUInt32LE(iu, at + 16);
  buf.writeUInt32LE(at / 32, at + 20);
}
