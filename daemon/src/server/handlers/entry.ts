/** Handlers for the namespace: lookup, forget, attributes, and everything that makes or removes names. */
import { Opcode, GETATTR_FH } from '../../abi/opcodes';
import {
  ATTR_OUT_SIZE, decodeSetattrIn, encodeAttrOut, encodeEntryOut, ENTRY_OUT_SIZE, FORGET_ONE_SIZE, InSize, readU64,
} from '../../abi/structs';
import { AttrReply, Entry, S_IFDIR, S_IFMT } from '../../fs/filesystem';
import { optionalOp as optional } from '../../fs/optional-op';
import { cstring, need } from '../body';
import { Request, settle } from '../request';
import type { HandlerTable, ServerContext } from './types';

function replyEntry(req: Request) {
  return (e: Entry) => req.reply(ENTRY_OUT_SIZE, (b, off) => encodeEntryOut(b, off, e));
}

function replyAttr(req: Request) {
  return (a: AttrReply) => req.reply(ATTR_OUT_SIZE, (b, off) => encodeAttrOut(b, off, a.attr, a.attrTimeout));
}

export function registerEntryHandlers(t: HandlerTable): void {
  t.set(Opcode.LOOKUP, (req, s) => {
    const { name } = cstring(req, req.bodyOffset);
    const reply = replyEntry(req);
    settle(req, () => s.fs.lookup(req.ctx, req.h.nodeid, name), (e) => {
      if (e.nodeid !== 0 && (e.attr.mode & S_IFMT) !== S_IFDIR) s.readdirplus.lookedUp(req.h.nodeid);
      reply(e);
    });
  });

  t.set(Opcode.FORGET, (req, s) => {
    need(req, req.bodyOffset, InSize.FORGET);
    s.fs.forget(req.h.nodeid, readU64(req.buf, req.bodyOffset));
    req.noReply();
  });

  t.set(Opcode.BATCH_FORGET, (req, s) => {
    const off = need(req, req.bodyOffset, InSize.BATCH_FORGET);
    const count = req.buf.readUInt32LE(off);
    let p = off + InSize.BATCH_FORGET;
    for (let i = 0; i < count && p + FORGET_ONE_SIZE <= req.bodyEnd; i++, p += FORGET_ONE_SIZE) {
      s.fs.forget(readU64(req.buf, p), readU64(req.buf, p + 8));
    }
    req.noReply();
  });

  t.set(Opcode.GETATTR, (req, s) => {
    let fh: number | undefined;
    if (req.bodyEnd - req.bodyOffset >= InSize.GETATTR) {
      const flags = req.buf.readUInt32LE(req.bodyOffset);
      if (flags & GETATTR_FH) fh = readU64(req.buf, req.bodyOffset + 8);
    }
    settle(req, () => s.fs.getattr(req.ctx, req.h.nodeid, fh), replyAttr(req));
  });

  t.set(Opcode.SETATTR, (req, s) => {
    const attr = decodeSetattrIn(req.buf, need(req, req.bodyOffset, InSize.SETATTR));
    settle(req, () => optional(s.fs, 'setattr')(req.ctx, req.h.nodeid, attr), replyAttr(req));
  });

  t.set(Opcode.READLINK, (req, s) => {
    settle(req, () => optional(s.fs, 'readlink')(req.ctx, req.h.nodeid), (target) => req.replyData(target));
  });

  t.set(Opcode.SYMLINK, (req, s) => {
    const { name, next } = cstring(req, req.bodyOffset);
    const { name: target } = cstring(req, next);
    settle(req, () => optional(s.fs, 'symlink')(req.ctx, req.h.nodeid, name, target), replyEntry(req));
  });

  t.set(Opcode.MKNOD, (req, s) => {
    const off = need(req, req.bodyOffset, InSize.MKNOD);
    const mode = req.buf.readUInt32LE(off);
    const rdev = req.buf.readUInt32LE(off + 4);
    const umask = req.buf.readUInt32LE(off + 8);
    const { name } = cstring(req, off + InSize.MKNOD);
    settle(req, () => optional(s.fs, 'mknod')(req.ctx, req.h.nodeid, name, mode, rdev, umask), replyEntry(req));
  });

  t.set(Opcode.MKDIR, (req, s) => {
    const off = need(req, req.bodyOffset, InSize.MKDIR);
    const mode = req.buf.readUInt32LE(off);
    const umask = req.buf.readUInt32LE(off + 4);
    const { name } = cstring(req, off + InSize.MKDIR);
    settle(req, () => optional(s.fs, 'mkdir')(req.ctx, req.h.nodeid, name, mode, umask), replyEntry(req));
  });

  t.set(Opcode.UNLINK, (req, s) => {
    const { name } = cstring(req, req.bodyOffset);
    settle(req, () => optional(s.fs, 'unlink')(req.ctx, req.h.nodeid, name), () => req.reply(0));
  });

  t.set(Opcode.RMDIR, (req, s) => {
    const { name } = cstring(req, req.bodyOffset);
    settle(req, () => optional(s.fs, 'rmdir')(req.ctx, req.h.nodeid, name), () => req.reply(0));
  });

  const rename = (req: Request, s: ServerContext, fixed: number, withFlags: boolean) => {
    const off = need(req, req.bodyOffset, fixed);
    const newParent = readU64(req.buf, off);
    const flags = withFlags ? req.buf.readUInt32LE(off + 8) : 0;
    const { name, next } = cstring(req, off + fixed);
    const { name: newName } = cstring(req, next);
    settle(req, () => optional(s.fs, 'rename')(req.ctx, req.h.nodeid, name, newParent, newName, flags),
      () => req.reply(0));
  };
  t.set(Opcode.RENAME, (req, s) => rename(req, s, InSize.RENAME, false));
  t.set(Opcode.RENAME2, (req, s) => rename(req, s, InSize.RENAME2, true));

  t.set(Opcode.LINK, (req, s) => {
    const off = need(req, req.bodyOffset, InSize.LINK);
    const oldNodeid = readU64(req.buf, off);
    const { name } = cstring(req, off + InSize.LINK);
    settle(req, () => optional(s.fs, 'link')(req.ctx, oldNodeid, req.h.nodeid, name), replyEntry(req));
  });
}

