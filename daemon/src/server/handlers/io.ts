/** Handlers for open files: open/create, read/write, flush/fsync/release, lseek, fallocate, copy_file_range. */
import { FSYNC_FDATASYNC, Opcode } from '../../abi/opcodes';
import {
  encodeEntryOut, encodeOpenOut, ENTRY_OUT_SIZE, InSize, LSEEK_OUT_SIZE, OPEN_OUT_SIZE, readU64, writeU64,
  WRITE_OUT_SIZE,
} from '../../abi/structs';
import { E, FsError } from '../../fs/errno';
import { FOPEN_PASSTHROUGH, OpenReply } from '../../fs/filesystem';
import { readBuffers } from '../../fs/read-buffers';
import { cstring, need } from '../body';
import type { Request } from '../request';
import { settle } from '../request';
import { optionalOp as optional } from '../../fs/optional-op';
import type { HandlerTable, ServerContext } from './types';

function encodeOpen(b: Buffer, off: number, o: OpenReply): void {
  if (o.backingId === undefined) encodeOpenOut(b, off, o.fh, o.openFlags);
  else encodeOpenOut(b, off, o.fh, o.openFlags | FOPEN_PASSTHROUGH, o.backingId);
}

function replyOpen(req: Request, s: ServerContext) {
  return (o: OpenReply) => {
    offload(s, req.h.nodeid, o);
    req.reply(OPEN_OUT_SIZE, (b, off) => encodeOpen(b, off, o));
  };
}

/** Registers a handle read with plain pread before its open is answered, so its first READ can find it. */
function offload(s: ServerContext, nodeid: number, o: OpenReply): void {
  const how = o.readFd ?? o.readExtents;
  if (how !== undefined) s.readOffload?.add(nodeid, o.fh, how);
}

/** A READ of an unopened file past its start or larger than this may register the file with the read threads. */
const UNOPENED_READ_BYTES = 64 * 1024;

function replyCount(req: Request) {
  return (n: number) => req.reply(WRITE_OUT_SIZE, (b, off) => {
    b.writeUInt32LE(n >>> 0, off);
    b.writeUInt32LE(0, off + 4);
  });
}

export function registerIoHandlers(t: HandlerTable): void {
  t.set(Opcode.OPEN, (req, s) => {
    const flags = req.buf.readUInt32LE(need(req, req.bodyOffset, InSize.OPEN));
    // The kernel then opens every file itself (fh 0, its page cache kept) and sends no RELEASE.
    if (s.fs.openless) return req.error(E.ENOSYS);
    settle(req, () => optional(s.fs, 'open')(req.ctx, req.h.nodeid, flags), replyOpen(req, s));
  });

  t.set(Opcode.CREATE, (req, s) => {
    const off = need(req, req.bodyOffset, InSize.CREATE);
    const flags = req.buf.readUInt32LE(off);
    const mode = req.buf.readUInt32LE(off + 4);
    const umask = req.buf.readUInt32LE(off + 8);
    const { name } = cstring(req, off + InSize.CREATE);
    settle(req, () => optional(s.fs, 'create')(req.ctx, req.h.nodeid, name, mode, flags, umask), (c) => {
      offload(s, c.entry.nodeid, c.open);
      req.reply(ENTRY_OUT_SIZE + OPEN_OUT_SIZE, (b, o) => {
        encodeEntryOut(b, o, c.entry);
        encodeOpen(b, o + ENTRY_OUT_SIZE, c.open);
      });
    });
  });

  t.set(Opcode.READ, (req, s) => {
    const off = need(req, req.bodyOffset, InSize.READ);
    const fh = readU64(req.buf, off);
    const offset = readU64(req.buf, off + 8);
    const size = Math.min(req.buf.readUInt32LE(off + 16), s.maxWrite);
    // A file read whole at once (the small files of a tar, say) is not worth a read map.
    const more = offset > 0 || size > UNOPENED_READ_BYTES;
    if (more && fh === 0 && s.fs.openless) s.readOffload?.addUnopened(req.h.nodeid);
    // The read threads answer it: this thread never waits for the file's storage (which may hang).
    if (s.readOffload?.mainRead(req.h.nodeid, fh, req.buf)) return req.handedOver();
    settle(req, () => optional(s.fs, 'read')(req.ctx, req.h.nodeid, fh, offset, size), (data) => {
      req.replyData(data.length > size ? data.subarray(0, size) : data);
      readBuffers.give(data); // written: the kernel has its copy
    });
  });

  t.set(Opcode.WRITE, (req, s) => {
    const off = need(req, req.bodyOffset, InSize.WRITE);
    const fh = readU64(req.buf, off);
    const offset = readU64(req.buf, off + 8);
    const size = req.buf.readUInt32LE(off + 16);
    const writeFlags = req.buf.readUInt32LE(off + 20);
    const dataOff = off + InSize.WRITE;
    if (dataOff + size > req.bodyEnd) throw new FsError(E.EINVAL, 'write data shorter than its size');
    const data = req.buf.subarray(dataOff, dataOff + size);
    settle(req, () => optional(s.fs, 'write')(req.ctx, req.h.nodeid, fh, offset, data, writeFlags), replyCount(req));
  });

  t.set(Opcode.FLUSH, (req, s) => {
    const off = need(req, req.bodyOffset, InSize.FLUSH);
    const fh = readU64(req.buf, off);
    const lockOwner = req.buf.readBigUInt64LE(off + 16);
    // Nothing is buffered: the kernel stops sending FLUSH at close(2) for this connection.
    if (s.fs.openless) return req.error(E.ENOSYS);
    settle(req, () => optional(s.fs, 'flush')(req.ctx, req.h.nodeid, fh, lockOwner), () => req.reply(0));
  });

  t.set(Opcode.RELEASE, (req, s) => {
    const off = need(req, req.bodyOffset, InSize.RELEASE);
    const fh = readU64(req.buf, off);
    const flags = req.buf.readUInt32LE(off + 8);
    s.readOffload?.remove(req.h.nodeid, fh); // before the filesystem closes the fd
    if (!s.fs.release) return req.reply(0);
    settle(req, () => s.fs.release!(req.ctx, req.h.nodeid, fh, flags), () => req.reply(0));
  });

  t.set(Opcode.FSYNC, (req, s) => {
    const off = need(req, req.bodyOffset, InSize.FSYNC);
    const fh = readU64(req.buf, off);
    const datasync = (req.buf.readUInt32LE(off + 8) & FSYNC_FDATASYNC) !== 0;
    settle(req, () => optional(s.fs, 'fsync')(req.ctx, req.h.nodeid, fh, datasync), () => req.reply(0));
  });

  t.set(Opcode.LSEEK, (req, s) => {
    const off = need(req, req.bodyOffset, InSize.LSEEK);
    const fh = readU64(req.buf, off);
    const offset = readU64(req.buf, off + 8);
    const whence = req.buf.readUInt32LE(off + 16);
    settle(req, () => optional(s.fs, 'lseek')(req.ctx, req.h.nodeid, fh, offset, whence), (pos) =>
      req.reply(LSEEK_OUT_SIZE, (b, o) => writeU64(b, o, pos)));
  });

  t.set(Opcode.FALLOCATE, (req, s) => {
    const off = need(req, req.bodyOffset, InSize.FALLOCATE);
    const fh = readU64(req.buf, off);
    const offset = readU64(req.buf, off + 8);
    const length = readU64(req.buf, off + 16);
    const mode = req.buf.readUInt32LE(off + 24);
    settle(req, () => optional(s.fs, 'fallocate')(req.ctx, req.h.nodeid, fh, mode, offset, length),
      () => req.reply(0));
  });

  t.set(Opcode.COPY_FILE_RANGE, (req, s) => {
    const off = need(req, req.bodyOffset, InSize.COPY_FILE_RANGE);
    const b = req.buf;
    settle(req, () => optional(s.fs, 'copyFileRange')(req.ctx, req.h.nodeid, readU64(b, off), readU64(b, off + 8),
      readU64(b, off + 16), readU64(b, off + 24), readU64(b, off + 32), readU64(b, off + 40), readU64(b, off + 48)),
    replyCount(req));
  });
}
