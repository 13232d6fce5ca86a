/** `nydus-image inspect`: a summary of a bootstrap (superblock, blobs, counts) as an object or text. */
import { loadBootstrap } from './bootstrap-load';
import { BlobInfo, SuperInfo, parseBlobTable, parseSuper } from './image-reader';
import { WalkStats, walkImage } from './image-walk';

export interface InspectReport {
  /** The bootstrap came out of a self-contained blob's ToC. */
  embedded: boolean;
  superblock: Omit<SuperInfo, 'flags'> & { flags: string };
  blobs: BlobInfo[];
  counts: WalkStats;
}

/** `bootstrapPath` may also be a self-contained blob. */
export function inspectImage(bootstrapPath: string): InspectReport {
  const { boot, fromBlob } = loadBootstrap(bootstrapPath);
  const sb = parseSuper(boot);
  const blobs = parseBlobTable(boot, sb);
  const counts = walkImage(boot, sb, blobs, () => undefined);
  return { embedded: fromBlob, superblock: { ...sb, flags: `0x${sb.flags.toString(16)}` }, blobs, counts };
}

export function formatInspect(r: InspectReport): string {
  const s = r.superblock;
  const lines = [
    `RAFS v6 bootstrap${r.embedded ? ' (embedded in the blob)' : ''}: ${s.inos} inodes, ${s.blocks} blocks, root nid ${s.rootNid}, meta block ${s.metaBlkaddr}`,
    `  build time ${s.buildTimeSec}.${String(s.buildTimeNsec).padStart(9, '0')}, uuid ${s.uuid}`,
    `  flags ${s.flags}: compressor ${s.compressor}, digester ${s.digester}, chunk size ${s.chunkSize}`,
    `  chunk table at ${s.chunkTableOffset}, ${s.chunkTableSize / 80} entries`,
    `blobs (${r.blobs.length}):`,
    ...r.blobs.map((b) => `  [${b.index}] ${b.blobId} chunks ${b.chunkCount} compressed ${b.compressedSize} uncompressed ${b.uncompressedSize} features 0x${b.features.toString(16)} toc ${b.tocSize}`),
    `counts: ${Object.entries(r.counts).map(([k, v]) => `${k} ${v}`).join(', ')}`,
  ];
  return lines.join('\n');
}
