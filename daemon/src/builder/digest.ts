/** Chunk digesters (blake3 or sha256 over the uncompressed chunk) and the compressors the blob may use. */
import { createHash } from 'crypto';
import { native } from '../native';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { blake3 } = require('@noble/hashes/blake3') as { blake3: (data: Uint8Array) => Uint8Array };

export type Digester = 'blake3' | 'sha256';
export type Compressor = 'none' | 'zstd' | 'lz4_block';

export const DIGESTERS: readonly Digester[] = ['blake3', 'sha256'];
export const COMPRESSORS: readonly Compressor[] = ['none', 'zstd', 'lz4_block'];

/** zstd level: upstream nydus-image uses the library default. */
const ZSTD_LEVEL = 3;

export function chunkDigest(algo: Digester, data: Uint8Array): Buffer {
  if (algo === 'sha256') return createHash('sha256').update(data).digest();
  const d = blake3(data);
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Compresses a chunk; returns undefined when compressing would not make it smaller. */
export function compressChunk(algo: Compressor, data: Buffer): Buffer | undefined {
  if (algo === 'none' || data.length === 0) return undefined;
  const out = algo === 'zstd' ? native.zstdCompress(data, ZSTD_LEVEL) : native.lz4Compress(data);
  return out.length < data.length ? out : undefined;
}

export function zstdCompress(data: Buffer): Buffer {
  return native.zstdCompress(data, ZSTD_LEVEL);
}
