/**
 * Loads a bootstrap for inspect/check: either a bootstrap file, or a self-contained blob whose ToC holds
 * image.boot (decompressed and checked against its sha256).
 */
import * as fs from 'fs';
import { native } from '../native';
import * as C from './constants';
import { decodeTocEntry } from './blob-meta';
import { ImageError } from './image-reader';
import { sha256 } from './digest';

function readAt(fd: number, offset: number, size: number): Buffer {
  const buf = Buffer.alloc(size);
  const n = fs.readSync(fd, buf, 0, size, offset);
  if (n !== size) throw new ImageError(`short read at ${offset}`);
  return buf;
}

export function loadBootstrap(file: string): { boot: Buffer; fromBlob: boolean } {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size >= C.EROFS_SUPER_OFFSET + 4 && readAt(fd, C.EROFS_SUPER_OFFSET, 4).readUInt32LE(0) === C.EROFS_SUPER_MAGIC) {
      return { boot: fs.readFileSync(file), fromBlob: false };
    }
    if (size < C.TAR_HEADER_SIZE) throw new ImageError(`${file} is neither a bootstrap nor a blob with a ToC`);
    const header = readAt(fd, size - C.TAR_HEADER_SIZE, C.TAR_HEADER_SIZE);
    const tocBytes = parseInt(header.subarray(124, 135).toString('latin1'), 8);
    if (!header.subarray(0, 13).equals(Buffer.from(C.TOC_NAME)) || !Number.isFinite(tocBytes) || tocBytes % C.TOC_ENTRY_SIZE !== 0 || tocBytes + C.TAR_HEADER_SIZE > size) {
      throw new ImageError(`${file} is neither a bootstrap (no EROFS magic) nor a blob with a ToC`);
    }
    const toc = readAt(fd, size - C.TAR_HEADER_SIZE - tocBytes, tocBytes);
    for (let at = 0; at < toc.length; at += C.TOC_ENTRY_SIZE) {
      const e = decodeTocEntry(toc, at);
      if (e.name !== C.TOC_BOOTSTRAP) continue;
      const raw = readAt(fd, e.offset, e.csize);
      let boot = raw;
      if (e.flags & (C.TOC_FLAG_ZSTD | C.TOC_FLAG_LZ4_BLOCK)) {
        boot = Buffer.alloc(e.usize);
        const n = e.flags & C.TOC_FLAG_ZSTD ? native.zstdDecompress(raw, boot) : native.lz4Decompress(raw, boot);
        if (n !== e.usize) throw new ImageError(`${file}: image.boot decompressed to ${n} bytes, ToC says ${e.usize}`);
      }
      if (!sha256(boot).equals(e.digest)) throw new ImageError(`${file}: image.boot digest mismatch`);
      return { boot, fromBlob: true };
    }
    throw new ImageError(`${file} is a blob without an embedded bootstrap (image.boot)`);
  } finally {
    fs.closeSync(fd);
  }
}
