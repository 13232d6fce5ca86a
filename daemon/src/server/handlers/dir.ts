/**
 * Directory handlers. READDIRPLUS either looks up every entry it actually sends (except "." and ".."), because
 * the kernel counts each of those as a lookup, or sends names only (nodeid 0, but subdirectories the filesystem
 * has at hand get their entry): the ReaddirplusAdvisor decides per directory. Entries that do not fit in the
 * reply are neither sent nor counted.
 */
import { Opcode, FSYNC_FDATASYNC } from '../../abi/opcodes';
import {
  direntSize, encodeDirent, encodeEntryOut, encodeOpenOut, ENTRY_OUT_SIZE, InSize, OPEN_OUT_SIZE, readU64,
} from '../../abi/structs';
import { errnoOf } from '../../fs/errno';
import { isDotOrDotDot } from '../../fs/filesystem';
import type { DirEntry, Entry, FileSystem, RequestContext } from '../../fs/filesystem';
import { need } from '../body';
import { Request, settle } from '../request';
import { optionalOp as optional } from '../../fs/optional-op';
import type { HandlerTable, ServerContext } from './types';

const NO_ENTRIES = Buffer.alloc(0);

/**
 * How many of `entries`, from the first, fit in a `size`-byte reply, and their bytes (READDIRPLUS records when
 * `plus`). Replies are sized to this: the kernel asks with a buffer of 4 KiB or more, and the listing's last
 * READDIR (one per directory a walk reads) finds nothing.
 */
function fitting(entries: DirEntry[], size: number, plus: boolean): { count: number; bytes: number } {
  let bytes = 0;
  let count = 0;
  for (const e of entries) {
    const rec = direntSize(e.name.length, plus);
    if (bytes + rec > size) break;
    bytes += rec;
    count++;
  }
  return { count, bytes };
}

function packPlain(entries: DirEntry[], size: number): Buffer {
  const { count, bytes } = fitting(entries, size, false);
  if (count === 0) return NO_ENTRIES;
  const out = Buffer.allocUnsafe(bytes);
  let used = 0;
  for (let i = 0; i < count; i++) {
    const e = entries[i];
    used += encodeDirent(out, used, e.ino, e.nextOffset, e.type, e.name);
  }
  return out;
}

const NEGATIVE_ENTRY: Entry = {
  nodeid: 0, generation: 0, entryTimeout: 0, attrTimeout: 0,
  attr: {
    ino: 0, size: 0, blocks: 0, atimeSec: 0, atimeNsec: 0, mtimeSec: 0, mtimeNsec: 0, ctimeSec: 0, ctimeNsec: 0,
    mode: 0, nlink: 0, uid: 0, gid: 0, rdev: 0, blksize: 0,
  },
};

const DT_DIR = 4;

/**
 * READDIRPLUS entries without attributes: the kernel instantiates nothing and counts no lookup. Subdirectories
 * are the exception: a walk goes into every one of them, and their entry spares it a LOOKUP round trip each.
 * Those the filesystem has at hand (FileSystem.entryAtHand) are encoded at once; the others (rafs: inodes not
 * read yet) are looked up after the listing is packed and filled in, a subdirectory that went away meanwhile
 * staying names-only. `names` counts the non-directories sent, the ReaddirplusAdvisor's unit.
 */
function packNamesOnly(fs: FileSystem, ctx: RequestContext, parent: number, entries: DirEntry[], size: number,
): { data: Buffer | Promise<Buffer>; names: number } {
  const out = Buffer.alloc(fitting(entries, size, true).bytes); // zeroed: an entry_out left all zeros means nodeid 0
  let used = 0;
  let names = 0;
  let missing: Array<{ at: number; e: DirEntry }> | undefined;
  for (const e of entries) {
    if (used >= out.length) break;
    if (e.type !== DT_DIR) names++;
    else if (fs.entryAtHand && !isDotOrDotDot(e.name)) {
      const entry = fs.entryAtHand(ctx, parent, e);
      if (entry) encodeEntryOut(out, used, entry);
      else (missing ??= []).push({ at: used, e });
    }
    used += ENTRY_OUT_SIZE;
    used += encodeDirent(out, used, e.ino, e.nextOffset, e.type, e.name);
  }
  return { data: missing ? fillSubdirectories(fs, ctx, parent, out, missing) : out, names };
}

async function fillSubdirectories(fs: FileSystem, ctx: RequestContext, parent: number, out: Buffer,
  missing: Array<{ at: number; e: DirEntry }>): Promise<Buffer> {
  for (const { at, e } of missing) {
    try {
      const found = fs.readdirplusEntry ? fs.readdirplusEntry(ctx, parent, e) : fs.lookup(ctx, parent, e.name);
      encodeEntryOut(out, at, found instanceof Promise ? await found : found);
    } catch (err) {
      if (errnoOf(err) === undefined) throw err; // gone since the listing was read: names only
    }
  }
  return out;
}

async function packPlus(fs: FileSystem, ctx: RequestContext, parent: number, entries: DirEntry[], size: number) {
  const out = Buffer.allocUnsafe(fitting(entries, size, true).bytes); // entries that go away are skipped: at most this
  let used = 0;
  for (const e of entries) {
    const rec = direntSize(e.name.length, true);
    if (used + rec > out.length) break;
    let entry = NEGATIVE_ENTRY;
    if (!isDotOrDotDot(e.name)) {
      try {
        const found = fs.readdirplusEntry ? fs.readdirplusEntry(ctx, parent, e) : fs.lookup(ctx, parent, e.name);
        entry = found instanceof Promise ? await found : found;
      } catch (err) {
        if (errnoOf(err) === undefined) throw err;
        continue; // the name went away since the listing was read: skip it
      }
    }
    encodeEntryOut(out, used, entry);
    used += ENTRY_OUT_SIZE;
    used += encodeDirent(out, used, e.ino, e.nextOffset, e.type, e.name);
  }
  return out.subarray(0, used);
}

export function registerDirHandlers(t: HandlerTable): void {
  t.set(Opcode.OPENDIR, (req, s) => {
    const flags = req.buf.readUInt32LE(need(req, req.bodyOffset, InSize.OPEN));
    settle(req, () => optional(s.fs, 'opendir')(req.ctx, req.h.nodeid, flags), (o) =>
      req.reply(OPEN_OUT_SIZE, (b, off) => encodeOpenOut(b, off, o.fh, o.openFlags)));
  });

  const readdir = (plus: boolean) => (req: Request, s: ServerContext) => {
    const off = need(req, req.bodyOffset, InSize.READ);
    const fh = readU64(req.buf, off);
    const offset = readU64(req.buf, off + 8);
    const size = Math.min(req.buf.readUInt32LE(off + 16), s.maxWrite);
    const dir = req.h.nodeid;
    settle(req, () => optional(s.fs, 'readdir')(req.ctx, dir, fh, offset, size), (entries) => {
      if (!plus) return req.replyData(packPlain(entries, size));
      if (!s.readdirplus.withAttributes(dir, offset)) {
        const { data, names } = packNamesOnly(s.fs, req.ctx, dir, entries, size);
        s.readdirplus.sentNames(dir, names);
        if (!(data instanceof Promise)) return req.replyData(data);
        return settle(req, () => data, (filled) => req.replyData(filled));
      }
      settle(req, () => packPlus(s.fs, req.ctx, dir, entries, size), (data) => req.replyData(data));
    });
  };
  t.set(Opcode.READDIR, readdir(false));
  t.set(Opcode.READDIRPLUS, readdir(true));

  t.set(Opcode.RELEASEDIR, (req, s) => {
    const fh = readU64(req.buf, need(req, req.bodyOffset, InSize.RELEASE));
    if (!s.fs.releasedir) return req.reply(0);
    settle(req, () => s.fs.releasedir!(req.ctx, req.h.nodeid, fh), () => req.reply(0));
  });

  t.set(Opcode.FSYNCDIR, (req, s) => {
    const off = need(req, req.bodyOffset, InSize.FSYNC);
    const fh = readU64(req.buf, off);
    const datasync = (req.buf.readUInt32LE(off + 8) & FSYNC_FDATASYNC) !== 0;
    settle(req, () => optional(s.fs, 'fsyncdir')(req.ctx, req.h.nodeid, fh, datasync), () => req.reply(0));
  });
}
