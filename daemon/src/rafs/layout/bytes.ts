/**
 * Bounds-checked little-endian field reads. Every decoder in layout/ goes through these, so a short or
 * corrupt buffer becomes a RafsFormatError naming the struct and its offset in the image, never a RangeError.
 */
import { formatError } from '../errors';

/** The largest high 32-bit half of a u64 that is still a safe integer (2^53 - 1). */
export const MAX_SAFE_HIGH = 0x1f_ffff;

/** A struct's bytes plus where they came from, for error messages. */
export class StructView {
  constructor(readonly buf: Buffer, readonly struct: string, readonly base: number) {}

  need(off: number, len: number): void {
    if (off < 0 || len < 0 || off + len > this.buf.length) {
      throw formatError(this.struct, this.base, `truncated (need bytes ${off}..${off + len}, have ${this.buf.length})`);
    }
  }
  u8(off: number): number { this.need(off, 1); return this.buf.readUInt8(off); }
  u16(off: number): number { this.need(off, 2); return this.buf.readUInt16LE(off); }
  u32(off: number): number { this.need(off, 4); return this.buf.readUInt32LE(off); }
  /** A u64 that must fit a JS number exactly (sizes, offsets); larger is a format error. */
  u64(off: number, field: string): number {
    this.need(off, 8);
    // Two 32-bit halves: no BigInt on the hot path (every dirent and inode has one).
    const high = this.buf.readUInt32LE(off + 4);
    if (high > MAX_SAFE_HIGH) throw this.error(`${field} ${this.buf.readBigUInt64LE(off)} is out of range`);
    return high * 0x1_0000_0000 + this.buf.readUInt32LE(off);
  }
  big64(off: number): bigint { this.need(off, 8); return this.buf.readBigUInt64LE(off); }
  bytes(off: number, len: number): Buffer { this.need(off, len); return this.buf.subarray(off, off + len); }
  /** A fixed-size NUL-padded string field. */
  cstr(off: number, len: number): string {
    const raw = this.bytes(off, len);
    const nul = raw.indexOf(0);
    return raw.subarray(0, nul < 0 ? len : nul).toString('latin1');
  }
  error(problem: string): Error { return formatError(this.struct, this.base, problem); }
}

export function isPowerOfTwo(n: number): boolean {
  return n > 0 && Number.isInteger(n) && (n & (n - 1)) === 0;
}

export function roundUp(n: number, unit: number): number {
  return Math.ceil(n / unit) * unit;
}
