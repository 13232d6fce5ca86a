/** What a source feeds file content into: the blob writer behind it, plus progress counters. */
import * as fs from 'fs';
import * as os from 'os';
import { native, SEEK_DATA } from '../native';
import { ChunkRef } from './tree';

const ENXIO = os.constants.errno.ENXIO;

export interface ChunkSink {
  readonly chunkSize: number;
  /** ci index of the stored (or deduplicated) chunk, -1 for a hole. */
  addChunk(data: Buffer, fileOffset: number): number;
  /** Same for a chunk of zeros the source did not even have to read. */
  addZeroChunk(length: number, fileOffset: number): number;
  /** Called after each file object, for progress display. */
  fileDone(): void;
}

/** Reads a regular file chunk by chunk; chunks inside holes (SEEK_DATA) are not even read. */
export function chunkFile(sink: ChunkSink, path: Buffer | string, size: number): ChunkRef[] {
  const chunks: ChunkRef[] = [];
  if (size === 0) return chunks;
  const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    const buf = Buffer.allocUnsafe(Math.min(sink.chunkSize, size));
    for (let off = 0; off < size; off += sink.chunkSize) {
      const len = Math.min(sink.chunkSize, size - off);
      const data = native.lseek(fd, off, SEEK_DATA);
      // ENXIO: no data after off; other errors (no SEEK_DATA support): read it all
      if (data === -ENXIO || data >= off + len) {
        chunks.push({ ciIndex: sink.addZeroChunk(len, off) });
        continue;
      }
      let got = 0;
      while (got < len) {
        const n = fs.readSync(fd, buf, got, len - got, off + got);
        if (n === 0) throw new Error(`${String(path)}: file shrank while it was being read`);
        got += n;
      }
      chunks.push({ ciIndex: sink.addChunk(buf.subarray(0, len), off) });
    }
  } finally {
    fs.closeSync(fd);
  }
  return chunks;
}
