/**
 * A file's bytes as pieces of the image and blob files, for the server's read threads (OpenReply.readExtents):
 * they then answer its READs with pread, beside the main thread, and several readers of it are served at once.
 * Only a file whose every piece is stored as is in a local file gets one: flat layouts in the bootstrap, extra
 * devices, RAFS chunks the blob keeps uncompressed, holes (zeros), and only when no digest needs checking.
 * Anything else (a compressed chunk, a bootstrap held in memory, a piece past the end of its file) gives none, and
 * the main thread reads the file as before, reporting what is wrong with it. Files under READ_MAP_MIN_BYTES get
 * none either: they are read in a request or two, and while a map is registered the threads read /dev/fuse and
 * hand every other request to the main thread, which costs the lookups and listings around those reads.
 */
import type { ReadExtent, ReadExtents } from '../../fs/filesystem';
import { Inode } from '../layout';
import { mapRange } from '../meta/file-map';
import { RafsMetadata } from '../meta/metadata';
import { BlobBackend } from './backend';
import { ChunkReader } from './chunk-reader';

export const READ_MAP_MIN_BYTES = 1024 * 1024;

/** Whether the file is large enough to be worth a map (the rest is read on the main thread without asking). */
export function wantsReadMap(inode: Inode): boolean {
  return inode.size >= READ_MAP_MIN_BYTES;
}

/** As many pieces as the native side takes (read_threads.c MAX_EXTENTS). */
const MAX_PIECES = 65536;

/** The map of a file wantsReadMap() accepts (RafsFs.open asks first), or undefined when it cannot have one. */
export async function readMapOf(meta: RafsMetadata, backend: BlobBackend, chunks: ChunkReader, inode: Inode,
): Promise<ReadExtents | undefined> {
  const pieces: ReadExtent[] = [];
  let fileOffset = 0;
  for (const e of await mapRange(meta, inode, 0, inode.size)) {
    if (e.length === 0) continue;
    let fd: number;
    let fdOffset = 0;
    if (e.kind === 'zero') {
      fd = -1;
    } else if (e.kind === 'device') {
      const file = e.device === 0 ? { fd: meta.source.fd, size: meta.source.size } : await backend.localFile?.(e.device - 1);
      if (file?.fd === undefined || e.pos + e.length > file.size) return undefined;
      fd = file.fd;
      fdOffset = e.pos;
    } else {
      const raw = await chunks.storedRaw(e.blobIndex, e.ciIndex);
      const file = raw && await backend.localFile?.(e.blobIndex);
      if (!raw || !file || e.offsetInChunk + e.length > raw.uncompressedSize) return undefined;
      fd = file.fd;
      fdOffset = raw.compressedOffset + e.offsetInChunk;
      if (fdOffset + e.length > file.size) return undefined;
    }
    const last = pieces[pieces.length - 1];
    if (last && last.fd === fd && (fd === -1 || last.fdOffset + last.length === fdOffset)) {
      last.length += e.length;
    } else {
      if (pieces.length === MAX_PIECES) return undefined;
      pieces.push({ fileOffset, length: e.length, fd, fdOffset });
    }
    fileOffset += e.length;
  }
  return fileOffset === inode.size ? { size: inode.size, extents: pieces } : undefined;
}
