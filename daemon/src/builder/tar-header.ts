/**
 * The 512-byte tar headers upstream nydus-image puts after each section of a data blob (the blob is
 * then also a valid tar stream: image.blob, blob.meta, blob.digest, image.boot, rafs.blob.toc). GNU
 * magic, zero mode/uid/gid/mtime, as upstream writes them.
 */
import { TAR_HEADER_SIZE } from './constants';

export function sectionTarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(TAR_HEADER_SIZE);
  h.write(name, 0, 100, 'ascii');
  h.write(size.toString(8).padStart(11, '0') + '\0', 124, 12, 'ascii');
  h.write('00000000000\0', 136, 12, 'ascii');
  h.write('0', 156, 1, 'ascii');
  h.write('ustar  \0', 257, 8, 'ascii');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(7, '0') + '\0', 148, 8, 'ascii');
  return h;
}
