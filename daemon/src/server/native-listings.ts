/**
 * READDIR and names-only READDIRPLUS answered with one native call, before any Request is made, for directories
 * whose filesystem holds them in memory (FileSystem.nativeListings: rafs, its bootstrap as far as it is mirrored)
 * or lists them through a host cursor (FileSystem.nativeDirListing: passthrough_fs, listings by nodeid, fh 0).
 * A find walk is these two requests and nothing else; through the handlers, a fresh daemon's first find of a
 * 5,000-file image spent most of its time in JavaScript not yet compiled. The ReaddirplusAdvisor still decides
 * each READDIRPLUS (one that is to carry attributes goes to the handlers) and hears what was sent, and the metrics
 * count every request answered here. Whatever the native packer does not take (a malformed request, a bad cookie,
 * a block not in memory yet, an image fault) goes to the handlers, which answer it, read it or name the fault.
 */
import { Opcode } from '../abi/opcodes';
import { IN_HEADER_SIZE, InSize, OUT_HEADER_SIZE, readU64 } from '../abi/structs';
import { E } from '../fs/errno';
import type { FileSystem } from '../fs/filesystem';
import type { Logger } from '../log';
import { native } from '../native';
import type { FuseMetrics } from './metrics';
import type { ReaddirplusAdvisor } from './readdirplus-advisor';

export interface NativeListingContext {
  fs: FileSystem;
  maxWrite: number;
  advisor: ReaddirplusAdvisor;
  metrics: FuseMetrics;
  instanceOf: ((nodeid: number) => number) | undefined;
  write: (pieces: Buffer[]) => number;
  log: Logger;
}

export class NativeListingReplies {
  /** The reply is packed here, then written (and so copied) at once. */
  private out = Buffer.alloc(0);
  private readonly result = new Float64Array(2);

  /** Answers `msg` if it is a READDIR or a names-only READDIRPLUS the filesystem lists natively. */
  answer(msg: Buffer, c: NativeListingContext): boolean {
    const opcode = msg.readUInt32LE(4);
    const plus = opcode === Opcode.READDIRPLUS;
    if ((!plus && opcode !== Opcode.READDIR) || msg.length < IN_HEADER_SIZE + InSize.READ) return false;
    if (!c.fs.nativeListings && !c.fs.nativeDirListing) return false;
    const nodeid = readU64(msg, 16);
    const offset = readU64(msg, IN_HEADER_SIZE + 8);
    if (plus && c.advisor.wouldSendAttributes(nodeid, offset)) return false;
    const started = process.hrtime.bigint();
    const n = this.pack(msg, nodeid, plus, c);
    if (n === 0) return false;
    if (plus) {
      c.advisor.withAttributes(nodeid, offset);
      c.advisor.sentNames(nodeid, this.result[0]);
    }
    const rc = c.write([this.out.subarray(0, n)]);
    // ENOENT: the kernel no longer waits for this unique (interrupted, or the connection was aborted).
    if (rc < 0 && rc !== -E.ENOENT) c.log.warn('writing a FUSE reply failed', { errno: -rc });
    c.metrics.record(c.instanceOf ? c.instanceOf(nodeid) : 0, opcode, Number(process.hrtime.bigint() - started), 0, 0);
    return true;
  }

  /** The reply's length in `out`, or 0 when the handlers are to answer. */
  private pack(msg: Buffer, nodeid: number, plus: boolean, c: NativeListingContext): number {
    const listings = c.fs.nativeListings?.(nodeid);
    if (listings) {
      this.ensureOut(c.maxWrite);
      this.result[1] = 0;
      const n = native.packErofsListingReply(msg, listings.image, listings.present, listings.conf, plus, c.maxWrite, this.out,
        this.result);
      if (n > 0 && this.result[1] > 0) listings.handedOut?.(this.result[1]);
      return n;
    }
    if (readU64(msg, IN_HEADER_SIZE) !== 0) return 0; // through a directory handle a predecessor opened
    const listing = c.fs.nativeDirListing?.(nodeid);
    if (!listing) return 0;
    this.ensureOut(c.maxWrite);
    const n = native.dirCursorPack(listing.cursor, msg, plus, c.maxWrite, this.out, this.result);
    if (n > 0 && this.result[1] === 1) listing.ended();
    return n;
  }

  private ensureOut(maxWrite: number): void {
    if (this.out.length < OUT_HEADER_SIZE + maxWrite) this.out = Buffer.alloc(OUT_HEADER_SIZE + maxWrite);
  }
}
