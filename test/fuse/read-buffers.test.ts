/**
 * READ reply buffers are reused: a filesystem's read() takes one from the pool, and the READ handler gives it
 * back once the reply is written, with the bytes the filesystem put there.
 */
import test from 'ava';
import { Opcode } from '../../daemon/src/abi/opcodes';
import { readBuffers, ReadBuffers } from '../../daemon/src/fs/read-buffers';
import type { FileSystem } from '../../daemon/src/fs/filesystem';
import { Dispatcher } from '../../daemon/src/server/dispatcher';
import { negotiate } from '../../daemon/src/server/init';
import type { Logger } from '../../daemon/src/log';

test('a slab given back is handed out again; small, oversized and foreign buffers are not pooled', (t) => {
  const pool = new ReadBuffers(1 << 20, 2);
  const a = pool.take(512 * 1024);
  t.is(a.length, 512 * 1024);
  pool.give(a);
  t.is(pool.idle, 1);
  const b = pool.take(1 << 20);
  t.is(b.buffer, a.buffer, 'the same memory');
  t.is(pool.idle, 0);
  pool.give(b.subarray(0, 10)); // not what take() returned
  pool.give(Buffer.alloc(1 << 20));
  t.is(pool.idle, 0);
  pool.give(b);
  pool.give(b); // twice: counted once
  t.is(pool.idle, 1);
  pool.give(pool.take(100)); // below the pooled size
  pool.give(pool.take(2 << 20)); // above the slab size
  t.is(pool.idle, 1);
  const [x, y, z] = [pool.take(1 << 20), pool.take(1 << 20), pool.take(1 << 20)];
  for (const buf of [x, y, z]) pool.give(buf);
  t.is(pool.idle, 2, 'keeps at most `keep` slabs');
});

test('the READ handler writes the data, then gives the buffer back to the pool', async (t) => {
  const size = 256 * 1024;
  let lent: Buffer | undefined;
  const fs: FileSystem = {
    lookup: () => { throw new Error('unused'); },
    forget: () => undefined,
    getattr: () => { throw new Error('unused'); },
    read: async (_c, _n, _f, offset, want) => {
      lent = readBuffers.take(want);
      lent.fill(offset & 0xff);
      return lent;
    },
  };
  const replies: Buffer[] = [];
  const quiet = (): void => undefined;
  const log: Logger = { error: quiet, warn: quiet, info: quiet, debug: quiet, trace: quiet };
  const init = negotiate({ major: 7, minor: 45, maxReadahead: 1 << 17, flags: 0xffffffff, flags2: 0 });
  const d = new Dispatcher({ fs, init: init.state, log, write: (p) => { replies.push(Buffer.concat(p)); return 0; } });
  const idleBefore = readBuffers.idle;
  const body = Buffer.alloc(40);
  body.writeBigUInt64LE(7n, 8); // offset 7
  body.writeUInt32LE(size, 16);
  const msg = Buffer.alloc(80);
  msg.writeUInt32LE(80, 0);
  msg.writeUInt32LE(Opcode.READ, 4);
  msg.writeBigUInt64LE(10n, 8);
  msg.writeBigUInt64LE(2n, 16);
  body.copy(msg, 40);
  d.dispatch(msg);
  await new Promise((r) => setImmediate(r));
  t.is(replies.length, 1);
  t.is(replies[0].length, 16 + size);
  t.true(replies[0].subarray(16).every((byte) => byte === 7), 'the reply carries what read() wrote');
  t.is(readBuffers.idle, idleBefore + 1, 'the buffer is back in the pool');
  t.is(readBuffers.take(size).buffer, lent!.buffer, 'and is handed out next');
});
