/**
 * A Dispatcher over a Vfs with no kernel attached, for tests that compare listing replies: requests in, replies
 * out. `handlersOnly` sets the failover hooks, which send every request through the handlers (no native listings).
 */
import { direntSize, encodeInHeader, ENTRY_OUT_SIZE, IN_HEADER_SIZE, OUT_HEADER_SIZE, readU64 } from '../../daemon/src/abi/structs';
import type { ExecutionContext } from 'ava';
import { Opcode } from '../../daemon/src/abi/opcodes';
import type { Logger } from '../../daemon/src/log';
import { native } from '../../daemon/src/native';
import { Dispatcher } from '../../daemon/src/server/dispatcher';
import { negotiate } from '../../daemon/src/server/init';
import type { Vfs } from '../../daemon/src/vfs/vfs';

const quiet = () => undefined;
const silent: Logger = { error: quiet, warn: quiet, info: quiet, debug: quiet, trace: quiet };

export function dispatchWire(vfs: Vfs, handlersOnly: boolean): (msg: Buffer) => Promise<Buffer> {
  const init = negotiate({ major: 7, minor: 45, maxReadahead: 1 << 17, flags: 0xffffffff, flags2: 0 });
  const waiting = new Map<bigint, (b: Buffer) => void>();
  const d = new Dispatcher({
    fs: vfs, instanceOf: (n) => vfs.instanceOf(n), init: init.state, log: silent,
    hooks: handlersOnly ? {} : undefined,
    write: (pieces) => {
      const reply = Buffer.concat(pieces);
      waiting.get(reply.readBigUInt64LE(8))?.(reply);
      return reply.length;
    },
  });
  return (msg) => new Promise((resolve) => {
    waiting.set(msg.readBigUInt64LE(8), resolve);
    d.dispatch(msg);
  });
}

let unique = 1n;

/** A READDIR or READDIRPLUS of `nodeid` from cookie `offset`, `size` bytes, through handle `fh` (0: by nodeid). */
export function listRequest(opcode: number, nodeid: number, offset: number, size: number, fh = 0): Buffer {
  const msg = Buffer.alloc(IN_HEADER_SIZE + 40);
  encodeInHeader(msg, opcode, unique++, nodeid, process.pid);
  msg.writeBigUInt64LE(BigInt(fh), IN_HEADER_SIZE);
  msg.writeBigUInt64LE(BigInt(offset), IN_HEADER_SIZE + 8);
  msg.writeUInt32LE(size, IN_HEADER_SIZE + 16);
  return msg;
}

/** The records of a listing reply: name, type, cookie after it, and (READDIRPLUS) the nodeid its entry carries. */
export function listingRecords(reply: Buffer, plus: boolean): Array<{ name: string; type: number; next: number; nodeid: number }> {
  const out = [];
  for (let off = OUT_HEADER_SIZE; off < reply.length;) {
    const dirent = off + (plus ? ENTRY_OUT_SIZE : 0);
    const length = reply.readUInt32LE(dirent + 16);
    out.push({
      name: reply.subarray(dirent + 24, dirent + 24 + length).toString(), type: reply.readUInt32LE(dirent + 20),
      next: readU64(reply, dirent + 8), nodeid: plus ? readU64(reply, off) : 0,
    });
    off += direntSize(length, plus);
  }
  return out;
}

/** Counts the replies the native packer `packer` wrote while `fn` runs (tests using it must be serial). */
export async function countNativeReplies(packer: 'packErofsListingReply' | 'dirCursorPack', fn: () => Promise<void>): Promise<number> {
  const addon = native as unknown as Record<string, (...args: unknown[]) => number>;
  const real = addon[packer];
  let answered = 0;
  addon[packer] = (...args: unknown[]) => {
    const n = real(...args);
    if (n > 0) answered++;
    return n;
  };
  try {
    await fn();
  } finally {
    addon[packer] = real;
  }
  return answered;
}

type Wire = (msg: Buffer) => Promise<Buffer>;

/**
 * Sends the same listing request through both wires and asserts the replies are equal byte for byte (but their
 * unique); returns the first one.
 */
export async function sameListingReply(t: ExecutionContext, viaNative: Wire, viaHandlers: Wire, opcode: number, nodeid: number,
  offset: number, size: number): Promise<Buffer> {
  const a = await viaNative(listRequest(opcode, nodeid, offset, size));
  const b = await viaHandlers(listRequest(opcode, nodeid, offset, size));
  a.writeBigUInt64LE(0n, 8);
  b.writeBigUInt64LE(0n, 8);
  t.deepEqual(a, b, `${Opcode[opcode]} of ${nodeid} from ${offset}, ${size} bytes`);
  return a;
}
