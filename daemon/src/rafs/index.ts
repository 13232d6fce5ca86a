/**
 * The rafs backend: serves EROFS images (mkfs.erofs, with or without --blobdev) and RAFS v6 images
 * (bootstrap + blobs, or one self-contained blob) as a read-only FileSystem. openRafs() wires the layers:
 * meta/ (lazy metadata over the bootstrap), storage/ (blob backend, chunk cache, data), rafs-fs.ts (the
 * FileSystem methods). layout/ holds the pure on-disk decoders.
 */
import * as path from 'path';
import { openBootstrap } from './meta/bootstrap-open';
import { readAheadTree } from './meta/directory';
import { RafsMetadata } from './meta/metadata';
import { LocalFsBackend } from './storage/localfs';
import { BlobBackend } from './storage/backend';
import { ChunkReader } from './storage/chunk-reader';
import { DataReader } from './storage/data-reader';
import { RafsFs } from './rafs-fs';
import { RafsOptions } from './config';

export { RafsFs } from './rafs-fs';
export { RafsOptions, rafsOptionsFromConfig } from './config';
export { RafsFormatError, RafsUnsupportedError } from './errors';
export { BlobBackend } from './storage/backend';
export { LocalFsBackend } from './storage/localfs';

export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_TIMEOUT = 3600;

export interface OpenRafsHooks {
  /** Wraps the blob backend (tests count reads through it). */
  wrapBackend?: (backend: BlobBackend) => BlobBackend;
}

export async function openRafs(opts: RafsOptions, hooks: OpenRafsHooks = {}): Promise<RafsFs> {
  const { source, selfContainedBlob } = await openBootstrap(opts.bootstrap);
  let backend: BlobBackend | undefined;
  try {
    const meta = await RafsMetadata.open(source);
    void source.preload().then(() => readAheadTree(meta));
    const localfsDir = opts.localfsDir ?? (opts.blobs ? undefined : path.dirname(opts.bootstrap));
    const local = new LocalFsBackend({ blobIds: meta.blobIds(), dir: localfsDir, paths: opts.blobs, fallback: selfContainedBlob });
    backend = hooks.wrapBackend ? hooks.wrapBackend(local) : local;
    const chunks = new ChunkReader(meta, backend, {
      cacheBytes: opts.cacheBytes ?? DEFAULT_CACHE_BYTES, digestValidate: opts.digestValidate ?? false,
    });
    const data = new DataReader(meta, backend, chunks, opts.readahead ?? true);
    const b = backend;
    return new RafsFs(meta, data, {
      entryTimeout: opts.entryTimeout ?? DEFAULT_TIMEOUT,
      attrTimeout: opts.attrTimeout ?? DEFAULT_TIMEOUT,
      onClose: async () => { await b.close(); await source.close(); },
    });
  } catch (err) {
    await backend?.close().catch(() => undefined);
    await source.close().catch(() => undefined);
    throw err;
  }
}

export async function closeRafs(fs: RafsFs): Promise<void> {
  await fs.close();
}
