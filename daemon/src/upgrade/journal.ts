/**
 * The result journal: what a successor needs to answer a request its crashed predecessor had read, which the
 * kernel delivers again after FUSE_NOTIFY_RESEND (same unique, bit 63 set). Re-running an idempotent request is
 * harmless; re-running create, mkdir, unlink, rename, link or an appending write is not (EEXIST, ENOENT, data
 * written twice). So for those the dispatcher records an INTENT before it acts and the full reply (DONE) before it
 * writes the reply to /dev/fuse; both are one pwrite into a file on tmpfs, so they survive SIGKILL.
 * On a resent request the successor looks the unique up: DONE -> send the recorded reply again (replay());
 * INTENT -> the operation may or may not have happened: the dispatcher checks (see reconcile notes in
 * the supervisor report); absent -> it never started: run it. The file is a ring of fixed-size slots: old
 * entries are overwritten, which is safe because a request is only in flight for a short while.
 * It does not execute or reconcile anything itself.
 */
import * as fs from 'fs';
import { native } from '../native';

const SLOT_MAGIC = 0x4e594a4c; // "NYJL"
const SLOT_HEADER = 40;
export const RESEND_BIT = 1n << 63n;

export enum JournalPhase {
  Intent = 1,
  Done = 2,
}

export interface JournalEntry {
  unique: bigint;
  opcode: number;
  nodeid: number;
  phase: JournalPhase;
  /** What the dispatcher needs to reconcile an INTENT (e.g. name, file size before an append). */
  detail: Buffer;
  /** The complete reply as written to /dev/fuse (out header included); empty for an INTENT. */
  reply: Buffer;
  seq: number;
}

export interface JournalOptions {
  slots?: number;
  slotSize?: number;
}

/** The unique the kernel first used for a request, whether or not this delivery is a resend. */
export function originalUnique(unique: bigint): bigint {
  return unique & ~RESEND_BIT;
}

export function isResent(unique: bigint): boolean {
  return (unique & RESEND_BIT) !== 0n;
}

export class ResultJournal {
  private readonly index = new Map<bigint, JournalEntry>();
  private readonly owners: Array<bigint | undefined> = [];
  private seq = 0;
  private readonly slot: Buffer;

  private constructor(readonly path: string, private fd: number, readonly slots: number, readonly slotSize: number) {
    this.slot = Buffer.alloc(slotSize);
  }

  /** Opens (or creates, 0600) the journal at `path`, loading what a predecessor left in it. */
  static open(path: string, options: JournalOptions = {}): ResultJournal {
    const slots = options.slots ?? 4096;
    const slotSize = options.slotSize ?? 512;
    const fd = native.openat(-100, path, fs.constants.O_RDWR | fs.constants.O_CREAT | 0o2000000, 0o600);
    if (fd < 0) throw new Error(`Cannot open the result journal ${path}: errno ${-fd}`);
    const journal = new ResultJournal(path, fd, slots, slotSize);
    if (native.ftruncate(fd, slots * slotSize) < 0) {
      native.close(fd);
      throw new Error(`Cannot size the result journal ${path}`);
    }
    journal.load();
    return journal;
  }

  /** Largest detail + reply a slot holds. */
  get capacity(): number {
    return this.slotSize - SLOT_HEADER;
  }

  begin(unique: bigint, opcode: number, nodeid: number, detail: Buffer = Buffer.alloc(0)): void {
    this.write({ unique: originalUnique(unique), opcode, nodeid, phase: JournalPhase.Intent, detail, reply: Buffer.alloc(0), seq: 0 });
  }

  /** Records the reply before it is written to the kernel. */
  complete(unique: bigint, opcode: number, nodeid: number, reply: Buffer, detail: Buffer = Buffer.alloc(0)): void {
    this.write({ unique: originalUnique(unique), opcode, nodeid, phase: JournalPhase.Done, detail, reply, seq: 0 });
  }

  lookup(unique: bigint): JournalEntry | undefined {
    return this.index.get(originalUnique(unique));
  }

  /** Every entry currently held (latest record per unique). */
  entries(): JournalEntry[] {
    return [...this.index.values()];
  }

  get size(): number {
    return this.index.size;
  }

  /**
   * Reads the file again, forgetting what was read before: a successor opens its journal while it waits, and if
   * the predecessor then dies, what it wrote meanwhile decides how resent requests are answered.
   */
  reload(): void {
    this.index.clear();
    this.owners.length = 0;
    this.seq = 0;
    this.load();
  }

  close(): void {
    if (this.fd >= 0) native.close(this.fd);
    this.fd = -1;
  }

  private write(entry: JournalEntry): void {
    if (entry.detail.length + entry.reply.length > this.capacity) {
      throw new RangeError(`journal entry of ${entry.detail.length + entry.reply.length} bytes exceeds the ${this.capacity}-byte slot`);
    }
    entry.seq = ++this.seq;
    const s = this.slot;
    s.fill(0);
    s.writeUInt32LE(SLOT_MAGIC, 0);
    s.writeUInt8(entry.phase, 4);
    s.writeUInt32LE(entry.opcode, 8);
    s.writeBigUInt64LE(entry.unique, 12);
    s.writeDoubleLE(entry.nodeid, 20);
    s.writeUInt32LE(entry.seq, 28);
    s.writeUInt16LE(entry.detail.length, 32);
    s.writeUInt16LE(entry.reply.length, 34);
    entry.detail.copy(s, SLOT_HEADER);
    entry.reply.copy(s, SLOT_HEADER + entry.detail.length);
    const at = ((entry.seq - 1) % this.slots) * this.slotSize;
    const n = native.pwrite(this.fd, s, 0, this.slotSize, at);
    if (n !== this.slotSize) throw new Error(`Cannot write the result journal ${this.path}: ${n}`);
    this.forgetOverwritten((entry.seq - 1) % this.slots);
    this.owners[(entry.seq - 1) % this.slots] = entry.unique;
    this.index.set(entry.unique, { ...entry, detail: Buffer.from(entry.detail), reply: Buffer.from(entry.reply) });
  }

  /** The entry whose latest record lived in `slot` is gone once the slot is reused. */
  private forgetOverwritten(slot: number): void {
    const previous = this.owners[slot];
    if (previous === undefined) return;
    const entry = this.index.get(previous);
    if (entry && (entry.seq - 1) % this.slots === slot) this.index.delete(previous);
  }

  /** Reads the whole ring with one pread (a successor does this during a takeover: one syscall, not one per slot). */
  private load(): void {
    const all = Buffer.allocUnsafe(this.slots * this.slotSize);
    const got = native.pread(this.fd, all, 0, all.length, 0);
    const slots = got > 0 ? Math.floor(got / this.slotSize) : 0;
    for (let i = 0; i < slots; i++) {
      const s = all.subarray(i * this.slotSize, (i + 1) * this.slotSize);
      if (s.readUInt32LE(0) !== SLOT_MAGIC) continue;
      const detailLength = s.readUInt16LE(32);
      const replyLength = s.readUInt16LE(34);
      if (SLOT_HEADER + detailLength + replyLength > this.slotSize) continue;
      const entry: JournalEntry = {
        phase: s.readUInt8(4), opcode: s.readUInt32LE(8), unique: s.readBigUInt64LE(12), nodeid: s.readDoubleLE(20), seq: s.readUInt32LE(28),
        detail: Buffer.from(s.subarray(SLOT_HEADER, SLOT_HEADER + detailLength)),
        reply: Buffer.from(s.subarray(SLOT_HEADER + detailLength, SLOT_HEADER + detailLength + replyLength)),
      };
      this.owners[i] = entry.unique;
      const known = this.index.get(entry.unique);
      if (!known || known.seq < entry.seq) this.index.set(entry.unique, entry);
      this.seq = Math.max(this.seq, entry.seq);
    }
  }
}

/** The recorded reply, re-addressed to the unique of the resent request (out header: len u32, error i32, unique u64). */
export function replay(entry: JournalEntry, unique: bigint): Buffer {
  const reply = Buffer.from(entry.reply);
  reply.writeBigUInt64LE(unique, 8);
  return reply;
}
