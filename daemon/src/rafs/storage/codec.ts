/**
 * Chunk codecs and digests: zstd and lz4_block through the native addon, gzip through node:zlib, blake3
 * (@noble/hashes) and sha256 (node:crypto). Output sizes are always known in advance, so a decoder that
 * yields any other size is a format error. blake3 is loaded at its first use (digest_validate is off by default).
 */
import { createHash } from 'crypto';
import { gunzipSync } from 'zlib';
import { native } from '../../native';
import { CODEC_GZIP, CODEC_LZ4_BLOCK, CODEC_NONE, CODEC_ZSTD, DIGEST_BLAKE3, DIGEST_SHA256 } from '../layout';
import { RafsUnsupportedError, formatError } from '../errors';

export function codecName(codec: number): string {
  return ({ [CODEC_NONE]: 'none', [CODEC_LZ4_BLOCK]: 'lz4_block', [CODEC_GZIP]: 'gzip', [CODEC_ZSTD]: 'zstd' } as Record<number, string>)[codec]
    ?? `codec ${codec}`;
}

/** Decodes `src` into exactly `size` bytes; `what` names the struct for errors. */
export function decompress(codec: number, src: Buffer, size: number, what: string, offset: number): Buffer {
  if (codec === CODEC_NONE) {
    if (src.length !== size) throw formatError(what, offset, `stored size ${src.length} != ${size}`);
    return src;
  }
  if (codec === CODEC_GZIP) {
    let out: Buffer;
    try { out = gunzipSync(src, { maxOutputLength: size + 1 }); } catch (err) {
      throw formatError(what, offset, `gzip: ${(err as Error).message}`);
    }
    if (out.length !== size) throw formatError(what, offset, `gzip gave ${out.length} bytes, expected ${size}`);
    return out;
  }
  if (codec !== CODEC_ZSTD && codec !== CODEC_LZ4_BLOCK) throw new RafsUnsupportedError(`${what}: unsupported ${codecName(codec)}`);
  let dst: Buffer;
  try { dst = Buffer.allocUnsafe(size); } catch {
    throw formatError(what, offset, `cannot allocate ${size} bytes for the decompressed data`);
  }
  const n = codec === CODEC_ZSTD ? native.zstdDecompress(src, dst) : native.lz4Decompress(src, dst);
  if (n < 0) throw formatError(what, offset, `${codecName(codec)} decompression failed (${n})`);
  if (n !== size) throw formatError(what, offset, `${codecName(codec)} gave ${n} bytes, expected ${size}`);
  return dst;
}

export function chunkDigest(algorithm: number, data: Buffer): Buffer {
  if (algorithm === DIGEST_BLAKE3) {
    const { blake3 } = require('@noble/hashes/blake3') as typeof import('@noble/hashes/blake3');
    return Buffer.from(blake3(data));
  }
  if (algorithm === DIGEST_SHA256) return createHash('sha256').update(data).digest();
  throw new RafsUnsupportedError(`unsupported digest algorithm ${algorithm}`);
}
