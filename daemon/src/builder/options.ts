/** Build options, their defaults and validation (every bad value is a UsageError with a clear message). */
import * as C from './constants';
import { COMPRESSORS, Compressor, DIGESTERS, Digester } from './digest';

export interface BuildProgress {
  files: number;
  bytesIn: number;
  bytesOut: number;
  elapsedMs: number;
}

export interface BuildOptions {
  /** A directory or an OCI layer tarball (.tar, .tar.gz). */
  source: string;
  bootstrapPath: string;
  blobDir: string;
  compressor?: Compressor;
  digester?: Digester;
  /** Power of two, 4 KiB .. 16 MiB; default 1 MiB. */
  chunkSize?: number;
  /** Put the bootstrap into the blob's ToC as image.boot (upstream --blob-inline-meta). */
  selfContained?: boolean;
  /**
   * All-zero chunks become EROFS holes (null chunk addresses) instead of one stored zero chunk. Smaller
   * images; the kernel and our reader handle them, upstream nydusd does not. Default false.
   */
  holes?: boolean;
  /** Called every few hundred milliseconds while building. */
  onProgress?: (p: BuildProgress) => void;
  /** Non-fatal notes (xattrs EROFS cannot store, ...). */
  onWarning?: (message: string) => void;
}

export interface BuildResult {
  bootstrapPath: string;
  blobId: string;
  blobPath: string;
  /** Inodes written (hard links counted once). */
  files: number;
  /** Distinct chunks stored in the blob. */
  chunks: number;
  /** File content bytes read from the source. */
  bytesIn: number;
  /** Bytes of the blob plus the bootstrap. */
  bytesOut: number;
}

export class UsageError extends Error {}

export interface ResolvedOptions extends Required<Omit<BuildOptions, 'onProgress' | 'onWarning'>> {
  onProgress?: (p: BuildProgress) => void;
  onWarning: (message: string) => void;
}

export function resolveOptions(opts: BuildOptions): ResolvedOptions {
  const compressor = opts.compressor ?? 'zstd';
  const digester = opts.digester ?? 'sha256';
  const chunkSize = opts.chunkSize ?? C.DEFAULT_CHUNK_SIZE;
  if (!COMPRESSORS.includes(compressor)) throw new UsageError(`unknown compressor "${compressor}" (use ${COMPRESSORS.join(', ')})`);
  if (!DIGESTERS.includes(digester)) throw new UsageError(`unknown digester "${digester}" (use ${DIGESTERS.join(', ')})`);
  if (!Number.isInteger(chunkSize) || chunkSize < C.BLOCK_SIZE || chunkSize > C.MAX_CHUNK_SIZE || (chunkSize & (chunkSize - 1)) !== 0) {
    throw new UsageError(`chunk size ${chunkSize} must be a power of two between 4 KiB and 16 MiB`);
  }
  if (!opts.source) throw new UsageError('no SOURCE given');
  if (!opts.bootstrapPath) throw new UsageError('--bootstrap is required');
  if (!opts.blobDir) throw new UsageError('--blob-dir is required');
  return {
    source: opts.source, bootstrapPath: opts.bootstrapPath, blobDir: opts.blobDir, compressor, digester, chunkSize,
    selfContained: opts.selfContained ?? false, holes: opts.holes ?? false, onProgress: opts.onProgress, onWarning: opts.onWarning ?? (() => undefined),
  };
}

/** "1048576", "0x100000", "1M", "1MiB", "512K" -> bytes. */
export function parseSize(text: string): number {
  const m = /^(0x[0-9a-f]+|\d+)\s*([kmg]?)(i?b)?$/i.exec(text.trim());
  if (!m) throw new UsageError(`cannot parse size "${text}"`);
  const base = m[1].toLowerCase().startsWith('0x') ? parseInt(m[1], 16) : parseInt(m[1], 10);
  const unit = { '': 1, k: 1024, m: 1024 * 1024, g: 1024 * 1024 * 1024 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return base * unit;
}
