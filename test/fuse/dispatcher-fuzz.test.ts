/**
 * The dispatcher never throws and always answers with a well-formed reply, whatever it is fed: random
 * messages, truncations of valid messages at every offset, and requests before INIT.
 */
import test from 'ava';
import * as crypto from 'crypto';
import { Opcode } from '../../daemon/src/abi/opcodes';
import { Dispatcher } from '../../daemon/src/server/dispatcher';
import type { Logger } from '../../daemon/src/log';
import { E, FsError } from '../../daemon/src/fs/errno';
import type { Attr, FileSystem } from '../../daemon/src/fs/filesystem';

const attr: Attr = { ino: 1, size: 0, blocks: 0, atimeSec: 0, atimeNsec: 0, mtimeSec: 0, mtimeNsec: 0, ctimeSec: 0,
  ctimeNsec: 0, mode: 0o040755, nlink: 2, uid: 0, gid: 0, rdev: 0, blksize: 4096 };

/** A tiny filesystem: a root directory holding one file "f". */
const fs: FileSystem = {
  lookup: (_c, parent, name) => {
    if (parent !== 1 || name.toString() !== 'f') throw new FsError(E.ENOENT);
    return { nodeid: 2, generation: 0, attr: { ...attr, ino: 2, mode: 0o100644, size: 3 }, entryTimeout: 1, attrTimeout: 1 };
  },
  forget: () => undefined,
  getattr: () => ({ attr, attrTimeout: 1 }),
  open: () => ({ fh: 1, openFlags: 0 }),
  read: async () => Buffer.from('abc'),
  readdir: (_c, _n, _f, offset) => (offset === 0 ? [{ ino: 2, nextOffset: 1, type: 8, name: Buffer.from('f') }] : []),
};

function header(len: number, opcode: number, unique: bigint, nodeid = 1): Buffer {
  const b = Buffer.alloc(40);
  b.writeUInt32LE(len, 0);
  b.writeUInt32LE(opcode, 4);
  b.writeBigUInt64LE(unique, 8);
  b.writeBigUInt64LE(BigInt(nodeid), 16);
  return b;
}

function message(opcode: number, unique: bigint, body: Buffer, nodeid = 1): Buffer {
  return Buffer.concat([header(40 + body.length, opcode, unique, nodeid), body]);
}

function initMessage(): Buffer {
  const body = Buffer.alloc(64);
  body.writeUInt32LE(7, 0);
  body.writeUInt32LE(45, 4);
  body.writeUInt32LE(131072, 8);
  body.writeUInt32LE(0x73fffffb, 12);
  body.writeUInt32LE(0x5fd, 16);
  return message(Opcode.INIT, 2n, body);
}

const quiet = () => undefined;
const silent: Logger = { error: quiet, warn: quiet, info: quiet, debug: quiet, trace: quiet };

function makeDispatcher() {
  const replies: Buffer[] = [];
  const d = new Dispatcher({ fs, write: (p) => { replies.push(Buffer.concat(p)); return 0; }, log: silent });
  return { d, replies };
}

function checkReply(t: { true: (v: boolean, m?: string) => void }, r: Buffer): void {
  t.true(r.length >= 16 && r.readUInt32LE(0) === r.length, 'reply length field matches');
  const err = r.readInt32LE(4);
  t.true(err <= 0 && err > -4096, `error ${err} is 0 or -errno`);
}

test('INIT negotiates and records HAS_RESEND; requests before INIT get EIO', (t) => {
  const { d, replies } = makeDispatcher();
  d.dispatch(message(Opcode.GETATTR, 4n, Buffer.alloc(16)));
  t.is(replies[0].readInt32LE(4), -E.EIO);
  d.dispatch(initMessage());
  t.is(replies[1].readInt32LE(4), 0);
  t.is(replies[1].readUInt32LE(16), 7);
  t.is(replies[1].readUInt32LE(20), 40);
  t.true(d.init!.hasResend);
  t.is(d.init!.maxWrite, 1 << 20);
});

test('unknown opcodes get ENOSYS; forget gets no reply', (t) => {
  const { d, replies } = makeDispatcher();
  d.dispatch(initMessage());
  d.dispatch(message(999, 6n, Buffer.alloc(8)));
  t.is(replies[1].readInt32LE(4), -E.ENOSYS);
  d.dispatch(message(Opcode.FORGET, 8n, Buffer.alloc(8), 2));
  t.is(replies.length, 2);
});

test('every truncation of valid requests is answered with a well-formed reply, never a throw', async (t) => {
  const { d, replies } = makeDispatcher();
  d.dispatch(initMessage());
  const valid = [
    message(Opcode.LOOKUP, 10n, Buffer.from('f\0')),
    message(Opcode.READ, 12n, Buffer.alloc(40), 2),
    message(Opcode.READDIRPLUS, 14n, Buffer.alloc(40)),
    message(Opcode.SETXATTR, 16n, Buffer.concat([Buffer.alloc(16), Buffer.from('user.a\0v')])),
    message(Opcode.RENAME2, 18n, Buffer.concat([Buffer.alloc(16), Buffer.from('a\0b\0')])),
    message(Opcode.CREATE, 20n, Buffer.concat([Buffer.alloc(16), Buffer.from('n\0')])),
  ];
  let sent = 0;
  for (const m of valid) {
    for (let cut = 40; cut <= m.length; cut++) {
      const part = Buffer.from(m.subarray(0, cut));
      part.writeUInt32LE(cut, 0);
      t.notThrows(() => d.dispatch(part));
      sent++;
    }
  }
  await new Promise((r) => setTimeout(r, 50));
  t.is(replies.length - 1, sent);
  for (const r of replies) checkReply(t, r);
});

test('100,000 random messages never throw and every answer is well-formed', async (t) => {
  const { d, replies } = makeDispatcher();
  d.dispatch(initMessage());
  for (let i = 0; i < 100_000; i++) {
    const len = 40 + crypto.randomInt(0, 200);
    const m = crypto.randomBytes(len);
    if (i % 2) m.writeUInt32LE(len, 0);
    m.writeUInt32LE(1 + crypto.randomInt(0, 60), 4);
    m.writeUInt16LE(0, 36);
    d.dispatch(m);
  }
  for (let i = 0; i < 1000; i++) d.dispatch(crypto.randomBytes(crypto.randomInt(0, 40)));
  await new Promise((r) => setTimeout(r, 100));
  for (const r of replies) checkReply(t, r);
  t.true(replies.length > 1000);
});
