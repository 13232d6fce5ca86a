/**
 * Opens the metadata of an image given one file: either a bootstrap (EROFS superblock at 1024), read lazily
 * from disk, or a self-contained RAFS blob whose ToC holds a (zstd/lz4/plain) `image.boot`, unpacked into
 * memory. In the second case the blob file also serves as the image's data blob.
 */
import { promises as fsp } from 'fs';
import { EROFS_MAGIC, SUPERBLOCK_OFFSET, TAR_HEADER_SIZE, TOC_FLAG_LZ4, TOC_FLAG_NONE, TOC_FLAG_ZSTD, TocEntry,
  decodeToc, decodeTocTarHeader, CODEC_LZ4_BLOCK, CODEC_NONE, CODEC_ZSTD } from '../layout';
import { RafsFormatError, formatError } from '../errors';
import { BufferMetaSource, FileMetaSource, MetaSource } from './source';
import { decompress } from '../storage/codec';

const MAX_EMBEDDED_BOOTSTRAP = 512 * 1024 * 1024;

export interface OpenedBootstrap {
  source: MetaSource;
  /** Set when `path` was a self-contained blob: it is also the data blob. */
  selfContainedBlob?: string;
}

async function readExact(fh: fsp.FileHandle, offset: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, offset);
  return buf.subarray(0, bytesRead);
}

export async function openBootstrap(path: string, cacheBytes?: number): Promise<OpenedBootstrap> {
  const fh = await fsp.open(path, 'r');
  let embedded: Buffer;
  try {
    const size = (await fh.stat()).size;
    const magic = await readExact(fh, SUPERBLOCK_OFFSET, 4);
    if (magic.length === 4 && magic.readUInt32LE(0) === EROFS_MAGIC) {
      await fh.close();
      return { source: await FileMetaSource.open(path, cacheBytes) };
    }
    embedded = await readEmbeddedBootstrap(fh, size, path);
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err;
  }
  await fh.close();
  return { source: new BufferMetaSource(embedded, `bootstrap inside ${path}`), selfContainedBlob: path };
}

async function readEmbeddedBootstrap(fh: fsp.FileHandle, size: number, path: string): Promise<Buffer> {
  if (size < TAR_HEADER_SIZE) {
    throw new RafsFormatError(`${path}: neither a bootstrap (no EROFS superblock) nor a blob with a ToC (${size} bytes)`);
  }
  let tocSize: number;
  try {
    tocSize = decodeTocTarHeader(await readExact(fh, size - TAR_HEADER_SIZE, TAR_HEADER_SIZE), size - TAR_HEADER_SIZE);
  } catch (err) {
    throw new RafsFormatError(`${path}: neither a bootstrap (no EROFS superblock) nor a blob with a ToC: ${(err as Error).message}`);
  }
  const tocOffset = size - TAR_HEADER_SIZE - tocSize;
  if (tocOffset < 0) throw formatError('blob ToC', 0, `ToC size ${tocSize} exceeds the blob`);
  const toc = decodeToc(await readExact(fh, tocOffset, tocSize), tocOffset);
  const boot = toc.find((e) => e.name === 'image.boot');
  if (!boot) throw new RafsFormatError(`${path}: the blob ToC has no image.boot entry (not a self-contained image)`);
  return unpackEntry(fh, boot, tocOffset);
}

async function unpackEntry(fh: fsp.FileHandle, e: TocEntry, limit: number): Promise<Buffer> {
  const what = `ToC entry ${e.name}`;
  if (e.compressedOffset + e.compressedSize > limit) throw formatError(what, e.compressedOffset, `range runs past the ToC`);
  if (e.uncompressedSize > MAX_EMBEDDED_BOOTSTRAP) throw formatError(what, e.compressedOffset, `size ${e.uncompressedSize}`);
  const raw = await readExact(fh, e.compressedOffset, e.compressedSize);
  const codec = e.flags & TOC_FLAG_ZSTD ? CODEC_ZSTD : e.flags & TOC_FLAG_LZ4 ? CODEC_LZ4_BLOCK
    : e.flags & TOC_FLAG_NONE ? CODEC_NONE : -1;
  if (codec < 0) throw formatError(what, e.compressedOffset, `unknown flags 0x${e.flags.toString(16)}`);
  return decompress(codec, raw, e.uncompressedSize, what, e.compressedOffset);
}
