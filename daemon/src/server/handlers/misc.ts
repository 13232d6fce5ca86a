/** Handlers for statfs, extended attributes and access checks. */
import { Opcode } from '../../abi/opcodes';
import { encodeStatfsOut, GETXATTR_OUT_SIZE, InSize, STATFS_OUT_SIZE } from '../../abi/structs';
import { cstring, need } from '../body';
import { Request, settle } from '../request';
import { optionalOp as optional } from '../../fs/optional-op';
import type { HandlerTable } from './types';

/** A size query (size 0) gets getxattr_out with the length; otherwise the bytes themselves. */
function replySizedOrData(req: Request) {
  return (r: Buffer | number) => {
    if (typeof r === 'number') {
      req.reply(GETXATTR_OUT_SIZE, (b, off) => {
        b.writeUInt32LE(r >>> 0, off);
        b.writeUInt32LE(0, off + 4);
      });
    } else {
      req.replyData(r);
    }
  };
}

export function registerMiscHandlers(t: HandlerTable): void {
  t.set(Opcode.STATFS, (req, s) => {
    settle(req, () => optional(s.fs, 'statfs')(req.ctx, req.h.nodeid), (st) =>
      req.reply(STATFS_OUT_SIZE, (b, off) => encodeStatfsOut(b, off, st)));
  });

  t.set(Opcode.ACCESS, (req, s) => {
    const mask = req.buf.readUInt32LE(need(req, req.bodyOffset, InSize.ACCESS));
    settle(req, () => optional(s.fs, 'access')(req.ctx, req.h.nodeid, mask), () => req.reply(0));
  });

  t.set(Opcode.GETXATTR, (req, s) => {
    const off = need(req, req.bodyOffset, InSize.GETXATTR);
    const size = req.buf.readUInt32LE(off);
    const { name } = cstring(req, off + InSize.GETXATTR);
    settle(req, () => optional(s.fs, 'getxattr')(req.ctx, req.h.nodeid, name, size), replySizedOrData(req));
  });

  t.set(Opcode.LISTXATTR, (req, s) => {
    const size = req.buf.readUInt32LE(need(req, req.bodyOffset, InSize.GETXATTR));
    settle(req, () => optional(s.fs, 'listxattr')(req.ctx, req.h.nodeid, size), replySizedOrData(req));
  });

  t.set(Opcode.SETXATTR, (req, s) => {
    const fixed = s.setxattrExt ? InSize.SETXATTR_EXT : InSize.SETXATTR;
    const off = need(req, req.bodyOffset, fixed);
    const size = req.buf.readUInt32LE(off);
    const flags = req.buf.readUInt32LE(off + 4);
    const { name, next } = cstring(req, off + fixed);
    const value = req.buf.subarray(need(req, next, size), next + size);
    settle(req, () => optional(s.fs, 'setxattr')(req.ctx, req.h.nodeid, name, value, flags), () => req.reply(0));
  });

  t.set(Opcode.REMOVEXATTR, (req, s) => {
    const { name } = cstring(req, req.bodyOffset);
    settle(req, () => optional(s.fs, 'removexattr')(req.ctx, req.h.nodeid, name), () => req.reply(0));
  });
}
