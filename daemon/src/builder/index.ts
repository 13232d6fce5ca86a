/**
 * nydus-image's builder: turns a directory or an OCI layer tarball into a RAFS v6 bootstrap plus one
 * data blob (named by its sha256, or for self-contained images by the sha256 of everything before the
 * embedded bootstrap). Output is reproducible: sorted traversal, build time = newest mtime, uuid from
 * content. It does not read images back (see ./inspect and ./check, and daemon/src/rafs for the reader).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as C from './constants';
import { BlobWriter, BlobFinalInfo, BlobSealInfo } from './blob-writer';
import { writeBootstrap, BlobEntryFields } from './bootstrap-writer';
import { ChunkSink } from './chunk-sink';
import { layoutInodes } from './layout';
import { BuildOptions, BuildResult, ResolvedOptions, UsageError, resolveOptions } from './options';
import { scanDirectory } from './source-dir';
import { scanTar } from './source-tar';
import { Inode, walkInodes } from './tree';

export { BuildOptions, BuildResult, BuildProgress, UsageError, parseSize } from './options';
export { Compressor, Digester } from './digest';

const META_BLKADDR = 1;
const PROGRESS_INTERVAL_MS = 250;

function blobFeatures(selfContained: boolean): number {
  return (C.BLOB_FEATURE_ALIGNED | C.BLOB_FEATURE_INLINED_CHUNK_DIGEST | C.BLOB_FEATURE_HAS_TAR_HEADER
    | C.BLOB_FEATURE_HAS_TOC | C.BLOB_FEATURE_CAP_TAR_TOC | (selfContained ? C.BLOB_FEATURE_INLINED_FS_META : 0)) >>> 0;
}

function newestMtime(root: Inode): [number, number] {
  let best: [number, number] = [0, 0];
  walkInodes(root, (i) => {
    if (i.mtimeSec > best[0] || (i.mtimeSec === best[0] && i.mtimeNsec > best[1])) best = [i.mtimeSec, i.mtimeNsec];
  });
  return best;
}

async function scanSource(o: ResolvedOptions, sink: ChunkSink, blobTmpPath: string): Promise<Inode> {
  let st: fs.Stats;
  try {
    st = fs.statSync(o.source);
  } catch (err) {
    throw new UsageError(`cannot read source ${o.source}: ${(err as Error).message}`);
  }
  if (st.isDirectory()) {
    const blob = fs.statSync(blobTmpPath, { bigint: true });
    return scanDirectory(o.source, sink, new Set([`${blob.dev}:${blob.ino}`]));
  }
  if (st.isFile()) return scanTar(o.source, sink);
  throw new UsageError(`source ${o.source} is neither a directory nor a tar file`);
}

export async function buildImage(opts: BuildOptions): Promise<BuildResult> {
  const o = resolveOptions(opts);
  fs.mkdirSync(o.blobDir, { recursive: true });
  const features = blobFeatures(o.selfContained);
  const tmpPath = path.join(o.blobDir, `.nydus-image-${process.pid}-${Date.now()}.blob.tmp`);
  const blob = new BlobWriter(tmpPath, o.compressor, o.digester, features, o.selfContained, o.holes);
  const started = Date.now();
  let files = 0;
  let lastReport = started;
  const sink: ChunkSink = {
    chunkSize: o.chunkSize,
    addChunk: (data, off) => blob.addChunk(data, off),
    addZeroChunk: (length, off) => blob.addZeroChunk(length, off),
    fileDone: () => {
      files += 1;
      const now = Date.now();
      if (o.onProgress && now - lastReport >= PROGRESS_INTERVAL_MS) {
        lastReport = now;
        o.onProgress({ files, bytesIn: blob.bytesIn, bytesOut: blob.bytesOut, elapsedMs: now - started });
      }
    },
  };
  try {
    const root = await scanSource(o, sink, tmpPath);
    const [buildTimeSec, buildTimeNsec] = newestMtime(root);
    const sealed = blob.seal();
    const layout = layoutInodes(root, {
      metaBlkaddr: META_BLKADDR, metaReserved: C.BLOB_TABLE_ENTRY_SIZE, buildTimeSec, buildTimeNsec,
      onSkippedXattr: (p, name) => o.onWarning(`${p}: xattr "${name}" has no EROFS prefix; left out`),
    });
    let hasXattr = false;
    walkInodes(root, (i) => { hasXattr ||= i.xattrs.size > 0; });
    const entry = (blobId: string, info: BlobSealInfo, compressedSize: number, tocDigest: Buffer): BlobEntryFields => ({
      blobId, chunkSize: o.chunkSize, chunks: blob.chunks, compressor: o.compressor, digester: o.digester, features,
      compressedSize, uncompressedSize: info.uncompressedSize, tocSize: info.tocSize, tocDigest,
      ciOffset: info.ciOffset, ciSize: info.ciSize,
    });
    const boot = (fields: BlobEntryFields): Buffer => writeBootstrap({
      layout, root, blob: fields, metaBlkaddr: META_BLKADDR, buildTimeSec, buildTimeNsec, hasXattr,
    });
    let blobId: string;
    let bootstrap: Buffer;
    let final: BlobFinalInfo;
    if (o.selfContained) {
      blobId = sealed.prefixDigest;
      bootstrap = boot(entry(blobId, sealed, sealed.prefixSize, Buffer.alloc(32)));
      final = blob.finish(bootstrap);
    } else {
      final = blob.finish();
      blobId = final.fileDigest;
      bootstrap = boot(entry(blobId, final, final.fileSize, final.tocDigest));
    }
    const blobPath = blob.commit(o.blobDir, blobId);
    writeFileAtomic(o.bootstrapPath, bootstrap);
    o.onProgress?.({ files, bytesIn: blob.bytesIn, bytesOut: final.fileSize, elapsedMs: Date.now() - started });
    return {
      bootstrapPath: o.bootstrapPath, blobId, blobPath, files: layout.placed.length, chunks: blob.chunks.length,
      bytesIn: blob.bytesIn, bytesOut: final.fileSize + bootstrap.length,
    };
  } catch (err) {
    blob.abort();
    throw err;
  }
}

function writeFileAtomic(file: string, data: Buffer): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

export { checkImage, CheckReport } from './check';
export { inspectImage, InspectReport } from './inspect';
export { ImageError } from './image-reader';
