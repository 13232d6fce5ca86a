/**
 * The read threads on a socket pair standing in for /dev/fuse: the test writes FUSE requests on one end, the
 * threads read the other. A READ of a registered handle is answered by them with the file's bytes (or the pread
 * errno); every other message reaches the main thread unchanged; nothing is read while no handle is registered or
 * while paused. An image's bytes that had to come from the disk bring their neighbours into the page cache.
 */
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Opcode } from '../../daemon/src/abi/opcodes';
import { E } from '../../daemon/src/fs/errno';
import { native, O_DIRECTORY } from '../../daemon/src/native';
import { ReadThreads } from '../../daemon/src/transport/read-threads';
import { mountingTests, startNydusd } from '../service/nydusd-process';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A FUSE request: in header (40 bytes) and body. */
function request(opcode: number, unique: number, nodeid: number, body: Buffer): Buffer {
  const b = Buffer.alloc(40 + body.length);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt32LE(opcode, 4);
  b.writeBigUInt64LE(BigInt(unique), 8);
  b.writeBigUInt64LE(BigInt(nodeid), 16);
  body.copy(b, 40);
  return b;
}

function readRequest(unique: number, nodeid: number, fh: number, offset: number, size: number): Buffer {
  const body = Buffer.alloc(40);
  body.writeBigUInt64LE(BigInt(fh), 0);
  body.writeBigUInt64LE(BigInt(offset), 8);
  body.writeUInt32LE(size, 16);
  return request(Opcode.READ, unique, nodeid, body);
}

interface Rig {
  threads: ReadThreads;
  /** The test's end of the pair. */
  peer: number;
  forwarded: Buffer[];
  /** How many times the threads said they had all stopped reading (onIdle). */
  idles: number;
  content: Buffer;
  /** The file the threads read, and an fd of it. */
  file: string;
  fileFd: number;
  send(msg: Buffer): void;
  reply(): Promise<{ len: number; error: number; unique: bigint; data: Buffer }>;
}

function rig(t: ExecutionContext, threads = 2, spinUs = 0): Rig {
  const pair = native.socketPair();
  if (typeof pair === 'number') throw new Error(`socketpair: ${pair}`);
  const [ours, peer] = pair;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nydus-rt-'));
  const content = crypto.randomBytes(10_000);
  const file = path.join(dir, 'f');
  fs.writeFileSync(file, content, { flush: true }); // written back: clean pages, which can be dropped
  const fileFd = fs.openSync(file, 'r');
  const forwarded: Buffer[] = [];
  const rt = new ReadThreads(ours, threads, 64 * 1024, 16 * 1024, (msg) => forwarded.push(msg), () => rigged.idles++, spinUs);
  t.teardown(() => {
    rt.close();
    native.close(ours);
    native.close(peer);
    fs.closeSync(fileFd);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const rigged: Rig = {
    threads: rt, peer, forwarded, idles: 0, content, file, fileFd,
    send: (msg) => t.is(native.write(peer, msg, 0, msg.length), msg.length),
    async reply() {
      const buf = Buffer.alloc(64 * 1024);
      for (let i = 0; i < 200; i++) {
        const n = native.read(peer, buf, 0, buf.length);
        if (n > 0) {
          return {
            len: buf.readUInt32LE(0), error: buf.readInt32LE(4), unique: buf.readBigUInt64LE(8), data: buf.subarray(16, n),
          };
        }
        if (n !== -E.EAGAIN) throw new Error(`read: ${n}`);
        await sleep(5);
      }
      throw new Error('no reply within 1 s');
    },
  };
  return rigged;
}

/**
 * Sends `count` READs of 100 bytes of handle (5, 7), each as soon as the reply to the one before came: the reply is
 * read busily, not every 5 ms as reply() does. Returns how many replies were wrong. The threads stop reading 100 ms
 * after their last READ; a daemon's main thread would then take the first one and wake them, as this does first.
 */
function backToBack(r: Rig, firstUnique: number, count: number): number {
  r.threads.mainRead(5, 7);
  const buf = Buffer.alloc(64 * 1024);
  let wrong = 0;
  for (let i = 0; i < count; i++) {
    const unique = firstUnique + i;
    const offset = (i * 100) % 9_000;
    r.send(readRequest(unique, 5, 7, offset, 100));
    let n = -E.EAGAIN;
    for (const end = performance.now() + 2000; n === -E.EAGAIN && performance.now() < end;) n = native.read(r.peer, buf, 0, buf.length);
    if (n <= 0) throw new Error(`no reply to READ ${unique}: ${n}`);
    if (buf.readBigUInt64LE(8) !== BigInt(unique) || !buf.subarray(16, n).equals(r.content.subarray(offset, offset + 100))) wrong++;
  }
  return wrong;
}

async function forwardedCount(r: Rig, n: number): Promise<void> {
  for (let i = 0; i < 200 && r.forwarded.length < n; i++) await sleep(5);
}

test.serial('a READ of a registered handle is answered with the file\'s bytes, short at the end of the file', async (t) => {
  const r = rig(t);
  r.threads.add(5, 7, r.fileFd, 3);
  r.send(readRequest(42, 5, 7, 100, 50));
  const a = await r.reply();
  t.deepEqual([a.len, a.error, a.unique], [16 + 50, 0, 42n]);
  t.deepEqual(a.data, r.content.subarray(100, 150));
  r.send(readRequest(43, 5, 7, 9_000, 4096));
  const b = await r.reply();
  t.deepEqual([b.len, b.error, b.unique], [16 + 1000, 0, 43n]);
  t.deepEqual(b.data, r.content.subarray(9_000));
  r.send(readRequest(44, 5, 7, 0, 1 << 20)); // more than maxRead: cut to it
  t.is((await r.reply()).data.length, 10_000);
  t.deepEqual(r.forwarded, []);
  const stats = r.threads.takeStats();
  t.is(stats.length, 1);
  t.like(stats[0], { tag: 3, count: 3, errors: 0, bytes: 50 + 1000 + 10_000 });
  t.is(stats[0].buckets.reduce((a, b) => a + b, 0), 3);
  t.deepEqual(r.threads.takeStats(), [], 'the counters restart at zero');
});

test.serial('each request wakes one thread: with 8 waiting, 100 READs one after another find no thread that woke for nothing', async (t) => {
  const r = rig(t, 8);
  r.threads.add(5, 7, r.fileFd, 0);
  for (let i = 0; i < 100; i++) {
    r.send(readRequest(1000 + i, 5, 7, i * 10, 10));
    const a = await r.reply();
    t.is(a.unique, BigInt(1000 + i));
    t.deepEqual(a.data, r.content.subarray(i * 10, i * 10 + 10));
  }
  // With all eight in poll() on the fd, each READ woke them all, and all but one found nothing: the test failed.
  t.true(r.threads.emptyReads <= 10, `${r.threads.emptyReads} empty wake-ups`);
});

test.serial('after a READ from the page cache a thread keeps reading for a while, so that the next READ finds it awake; not with no spin time, nor while READs wait for the disk', async (t) => {
  const spinning = rig(t, 1, 1000);
  spinning.threads.add(5, 7, spinning.fileFd, 0);
  t.is(backToBack(spinning, 1, 200), 0);
  // The window starts at 0 and grows while requests come soon after it ran out: most are read during a spin.
  const caught = spinning.threads.spinReads;
  t.true(caught >= 100, `${caught} of 200 READs read during a spin`);

  const sleeping = rig(t, 1);
  sleeping.threads.add(5, 7, sleeping.fileFd, 0);
  t.is(backToBack(sleeping, 1, 200), 0);
  t.is(sleeping.threads.spinReads, 0, 'spinUs 0: the threads sleep at once');

  const probe = Buffer.alloc(4096);
  const dropPages = () => execFileSync('dd', [`if=${spinning.file}`, 'iflag=nocache', 'count=0'], { stdio: 'pipe' });
  dropPages();
  if (native.preadNowait(spinning.fileFd, probe, 0, 4096, 0) === 4096) {
    t.log('the disk half is skipped: this filesystem keeps the file in memory (tmpfs?), so no READ waits for a disk');
    return;
  }
  // The first READ waits for the disk; the 19 after it, sent within 15 ms, find the page cache holding their bytes
  // but no thread spinning. A preempted test thread takes longer than that; the attempt is then made again.
  let checked = false;
  for (let attempt = 0; attempt < 5 && !checked; attempt++) {
    await sleep(25);
    dropPages();
    const before = spinning.threads.spinReads;
    const start = performance.now();
    t.is(backToBack(spinning, 1000 + attempt * 100, 20), 0);
    checked = performance.now() - start < 15;
    if (checked) t.is(spinning.threads.spinReads, before, 'no spin within 20 ms of a READ that waited for the disk');
  }
  t.true(checked, 'no attempt sent its 20 READs within 15 ms');
  await sleep(25);
  const before = spinning.threads.spinReads;
  t.is(backToBack(spinning, 2000, 50), 0);
  t.true(spinning.threads.spinReads > before, 'once no READ has waited for 20 ms, the threads spin again');
});

test.serial('other messages, and READs of other handles, reach the main thread unchanged and in order', async (t) => {
  const r = rig(t, 1);
  r.threads.add(5, 7, r.fileFd, 0);
  const lookup = request(Opcode.LOOKUP, 1, 1, Buffer.from('name\0'));
  const otherFh = readRequest(2, 5, 8, 0, 10);
  const otherNode = readRequest(3, 6, 7, 0, 10);
  const truncated = readRequest(4, 5, 7, 0, 10).subarray(0, 60);
  truncated.writeUInt32LE(60, 0);
  for (const msg of [lookup, otherFh, otherNode, truncated]) {
    r.send(msg);
    await forwardedCount(r, r.forwarded.length + 1);
  }
  t.deepEqual(r.forwarded, [lookup, otherFh, otherNode, truncated]);
});

test.serial('a pread error is the reply\'s errno', async (t) => {
  const r = rig(t);
  const dirFd = native.openat(-100, os.tmpdir(), O_DIRECTORY, 0);
  t.teardown(() => native.close(dirFd));
  r.threads.add(9, 1, dirFd, 1);
  r.send(readRequest(77, 9, 1, 0, 10));
  const a = await r.reply();
  t.deepEqual([a.len, a.error, a.unique, a.data.length], [16, -E.EISDIR, 77n, 0]);
  t.like(r.threads.takeStats()[0], { tag: 1, count: 1, errors: 1, bytes: 0 });
});

test.serial('nothing is read while no handle is registered or while paused', async (t) => {
  const r = rig(t);
  const waiting = request(Opcode.GETATTR, 5, 1, Buffer.alloc(16));
  r.send(waiting);
  await sleep(50);
  t.deepEqual(r.forwarded, [], 'no handle: the threads do not read');
  t.false(r.threads.reading);
  r.threads.add(5, 7, r.fileFd, 0);
  t.true(r.threads.reading);
  await forwardedCount(r, 1);
  t.deepEqual(r.forwarded, [waiting], 'registered: the waiting message is read and handed over');

  await r.threads.pause();
  t.false(r.threads.reading);
  r.send(readRequest(6, 5, 7, 0, 10));
  await sleep(50);
  const buf = Buffer.alloc(100);
  t.is(native.read(r.peer, buf, 0, buf.length), -E.EAGAIN, 'paused: no reply');
  r.threads.resume();
  t.deepEqual((await r.reply()).data, r.content.subarray(0, 10), 'resumed: answered');

  r.threads.remove(5, 7);
  t.false(r.threads.reading);
  r.send(readRequest(7, 5, 7, 0, 10));
  await sleep(50);
  t.is(r.forwarded.length, 1, 'removed: nothing read any more');
});

test.serial('a pause that gave up waiting for the threads still keeps a thread that sleeps in epoll from taking a request', async (t) => {
  const pair = native.socketPair();
  if (typeof pair === 'number') throw new Error(`socketpair: ${pair}`);
  const [ours, peer] = pair;
  const content = crypto.randomBytes(4096);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nydus-rt-pause-'));
  fs.writeFileSync(path.join(dir, 'f'), content);
  const fileFd = fs.openSync(path.join(dir, 'f'), 'r');
  const h = native.readThreadsStart(ours, 2, 64 * 1024, 16 * 1024, () => undefined, 50);
  if (typeof h === 'number') throw new Error(`readThreadsStart: ${h}`);
  t.teardown(() => {
    native.readThreadsClose(h);
    for (const fd of [ours, peer, fileFd]) native.close(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  t.is(native.readThreadsAdd(h, 5, 7, fileFd, 0), 0);
  const buf = Buffer.alloc(64 * 1024);
  const replyWithin = async (ms: number): Promise<number> => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(2)) {
      const n = native.read(peer, buf, 0, buf.length);
      if (n !== -E.EAGAIN) return n;
    }
    return -E.EAGAIN;
  };
  // pause(h, 0) waits for no thread: it returns -EAGAIN when one had not parked yet, and drains the kick that
  // would have woken it. A thread that missed the kick goes on sleeping in epoll until a request comes.
  let gaveUp = false;
  for (let attempt = 0; attempt < 50 && !gaveUp; attempt++) {
    native.readThreadsResume(h);
    const sent = readRequest(100 + attempt, 5, 7, 0, 100);
    native.write(peer, sent, 0, sent.length);
    t.true(await replyWithin(2000) > 0, 'answered while the threads read');
    await sleep(5);
    gaveUp = native.readThreadsPause(h, 0) === -E.EAGAIN;
  }
  if (!gaveUp) {
    t.log('every pause found the threads parked at once: nothing to check on this machine');
    return;
  }
  await sleep(20);
  const late = readRequest(999, 5, 7, 0, 100);
  native.write(peer, late, 0, late.length);
  t.is(await replyWithin(200), -E.EAGAIN, 'paused: the request waits');
  native.readThreadsResume(h);
  t.true(await replyWithin(2000) > 0, 'resumed: answered');
  t.is(buf.readBigUInt64LE(8), 999n);
  t.deepEqual(buf.subarray(16, 116), content.subarray(0, 100));
});

test.serial('a READ of a handle registered with extents is pieced together from them, zeros for holes', async (t) => {
  const r = rig(t);
  // A 25,000-byte file: 3,000 bytes of the rig's file from 1,000; 2,000 zeros; 10,000 bytes from 0; 10,000 zeros.
  const map = {
    size: 25_000,
    extents: [
      { fileOffset: 0, length: 3_000, fd: r.fileFd, fdOffset: 1_000 },
      { fileOffset: 3_000, length: 2_000, fd: -1, fdOffset: 0 },
      { fileOffset: 5_000, length: 10_000, fd: r.fileFd, fdOffset: 0 },
      { fileOffset: 15_000, length: 10_000, fd: -1, fdOffset: 0 },
    ],
  };
  const expected = Buffer.concat([
    r.content.subarray(1_000, 4_000), Buffer.alloc(2_000), r.content, Buffer.alloc(10_000),
  ]);
  r.threads.add(5, 0, map, 2);
  for (const [unique, offset, size] of [[1, 0, 16_384], [2, 2_500, 3_000], [3, 14_990, 20], [4, 20_000, 16_384], [5, 16_384, 16_384]]) {
    r.send(readRequest(unique, 5, 0, offset, size));
    const a = await r.reply();
    t.deepEqual([a.error, a.unique], [0, BigInt(unique)]);
    t.deepEqual(a.data, expected.subarray(offset, Math.min(offset + size, 25_000)), `read ${offset}+${size}`);
  }
  r.send(readRequest(6, 5, 0, 25_000, 100));
  t.deepEqual((await r.reply()).data.length, 0, 'at the end of the file: nothing');
  r.send(readRequest(7, 5, 0, 2 ** 62, 100));
  t.deepEqual((await r.reply()).data.length, 0, 'far past it: nothing either');
  t.deepEqual(r.forwarded, []);
  t.like(r.threads.takeStats()[0], { tag: 2, count: 7, errors: 0 });
});

test.serial('a READ of an image extent that waited for the disk reads the aligned 128 KiB around it ahead; one the page cache held does not', async (t) => {
  const r = rig(t);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nydus-rt-around-'));
  const file = path.join(dir, 'image');
  const content = crypto.randomBytes(1 << 20);
  fs.writeFileSync(file, content, { flush: true }); // written back: clean pages, which can be dropped
  const fd = fs.openSync(file, 'r');
  t.teardown(() => { fs.closeSync(fd); fs.rmSync(dir, { recursive: true, force: true }); });
  execFileSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0'], { stdio: 'pipe' }); // drops the file's pages
  const probe = Buffer.alloc(4096);
  const cached = (offset: number) => native.preadNowait(fd, probe, 0, 4096, offset) === 4096;
  if (cached(256 << 10) || cached(300 << 10)) {
    t.log('skipped: this filesystem keeps the file in memory (tmpfs?), so no READ waits for a disk');
    t.pass();
    return;
  }
  r.threads.add(9, 0, { size: content.length, extents: [{ fileOffset: 0, length: content.length, fd, fdOffset: 0 }] }, 1);
  const at = (300 << 10) + 100;
  r.send(readRequest(1, 9, 0, at, 4096));
  const a = await r.reply();
  t.deepEqual(a.data, content.subarray(at, at + 4096));
  t.is(r.threads.fetchesAround, 1, 'the READ waited for the disk: the image around it was read ahead');
  for (let i = 0; i < 100 && !(cached(256 << 10) && cached((384 << 10) - 4096)); i++) await sleep(10);
  t.true(cached(256 << 10), 'the window\'s first page');
  t.true(cached((384 << 10) - 4096), 'and its last');
  // Bytes the page cache holds are read from it, and nothing more is read ahead.
  r.send(readRequest(2, 9, 0, 256 << 10, 8192));
  t.deepEqual((await r.reply()).data, content.subarray(256 << 10, (256 << 10) + 8192));
  t.is(r.threads.fetchesAround, 1);
});

test.serial('a READ whose pread comes back short goes to the main thread, which reports it', async (t) => {
  const r = rig(t);
  // The map says 20,000 bytes of the rig's file, which has 10,000.
  r.threads.add(5, 0, { size: 20_000, extents: [{ fileOffset: 0, length: 20_000, fd: r.fileFd, fdOffset: 0 }] }, 0);
  r.send(readRequest(1, 5, 0, 0, 4096));
  t.deepEqual((await r.reply()).data, r.content.subarray(0, 4096), 'within the file: answered');
  const short = readRequest(2, 5, 0, 8_192, 4096);
  r.send(short);
  await forwardedCount(r, 1);
  t.deepEqual(r.forwarded, [short]);
});

test.serial('extents that do not describe the whole file in order are refused', async (t) => {
  const r = rig(t);
  const piece = (fileOffset: number, length: number) => ({ fileOffset, length, fd: r.fileFd, fdOffset: 0 });
  const bad = [
    { size: 100, extents: [piece(10, 90)] }, // does not start at 0
    { size: 100, extents: [piece(0, 40), piece(50, 50)] }, // a gap
    { size: 100, extents: [piece(0, 60), piece(50, 50)] }, // an overlap
    { size: 100, extents: [piece(0, 50)] }, // shorter than the file
    { size: 100, extents: [piece(0, 50), piece(50, 0), piece(50, 50)] }, // an empty piece
    { size: 100, extents: [piece(0, 100.5)] }, // not an integer
    { size: 100, extents: [{ fileOffset: 0, length: 100, fd: -2, fdOffset: 0 }] }, // no such fd value
    { size: 100, extents: [{ fileOffset: 0, length: 100, fd: 3.5, fdOffset: 0 }] },
    { size: 100, extents: [{ fileOffset: 0, length: 100, fd: 1e20, fdOffset: 0 }] },
    { size: 100, extents: [{ fileOffset: 0, length: 100, fd: NaN, fdOffset: 0 }] },
  ];
  for (const map of bad) {
    r.threads.add(5, 0, map, 0);
    t.false(r.threads.reading, JSON.stringify(map.extents));
  }
  const handle = (r.threads as unknown as { handle: unknown }).handle as never;
  t.is(native.readThreadsAddExtents(handle, 5, 0, 0, 100, new Float64Array([0, 100, r.fileFd])), -E.EINVAL, 'not 4 numbers a piece');
  t.is(native.readThreadsAddExtents(handle, 5, 0, 0, 2 ** 53, new Float64Array([0, 2 ** 53, r.fileFd, 0])), -E.EINVAL, 'past 2^53');
});

test.serial('a handle added twice stays registered until it is removed twice', async (t) => {
  const r = rig(t);
  const map = { size: 10_000, extents: [{ fileOffset: 0, length: 10_000, fd: r.fileFd, fdOffset: 0 }] };
  r.threads.add(5, 0, map, 0);
  r.threads.add(5, 0, map, 0);
  r.threads.remove(5, 0);
  t.true(r.threads.reading);
  r.send(readRequest(1, 5, 0, 0, 10));
  t.deepEqual((await r.reply()).data, r.content.subarray(0, 10));
  r.threads.remove(5, 0);
  t.false(r.threads.reading);
  const buf = Buffer.alloc(100);
  r.send(readRequest(2, 5, 0, 0, 10));
  await sleep(50);
  t.is(native.read(r.peer, buf, 0, buf.length), -E.EAGAIN, 'removed: not answered by the threads');
});

test.serial('100 ms after their last READ the threads stop reading; a READ of a registered handle on the main thread wakes them', async (t) => {
  const r = rig(t);
  r.threads.add(5, 7, r.fileFd, 0);
  r.send(readRequest(1, 5, 7, 0, 10));
  t.deepEqual((await r.reply()).data, r.content.subarray(0, 10));
  t.true(r.threads.active);
  await sleep(200);
  t.false(r.threads.active, 'idle');
  t.true(r.threads.reading, 'still registered');
  const waiting = request(Opcode.GETATTR, 2, 1, Buffer.alloc(16));
  r.send(waiting);
  await sleep(50);
  t.deepEqual(r.forwarded, [], 'idle: the threads do not read');
  r.threads.mainRead(6, 7);
  await sleep(50);
  t.deepEqual(r.forwarded, [], 'a READ of a handle that is not registered wakes nothing');
  r.threads.mainRead(5, 7);
  t.true(r.threads.active);
  await forwardedCount(r, 1);
  t.deepEqual(r.forwarded, [waiting], 'woken: the waiting message is read and handed over');
});

test.serial('a READ the main thread read is handed to the threads, idle or not; one they cannot answer comes back marked, and is not taken again', async (t) => {
  const r = rig(t);
  r.threads.add(5, 7, r.fileFd, 0);
  t.false(r.threads.handOver(6, 7, readRequest(1, 6, 7, 0, 10)), 'not registered: the main thread answers it');
  await sleep(200);
  t.false(r.threads.active, 'idle');
  t.true(r.threads.handOver(5, 7, readRequest(2, 5, 7, 20, 30)), 'taken while idle');
  const a = await r.reply();
  t.is(a.unique, 2n);
  t.deepEqual(a.data, r.content.subarray(20, 50));
  t.true(r.threads.active, 'and the threads read /dev/fuse again');
  t.deepEqual(r.forwarded, []);

  // A map longer than the file: a READ past the file's end comes back short, which the main thread reports.
  r.threads.add(8, 0, { size: 20_000, extents: [{ fileOffset: 0, length: 20_000, fd: r.fileFd, fdOffset: 0 }] }, 0);
  const short = readRequest(3, 8, 0, 12_000, 4096);
  t.true(r.threads.handOver(8, 0, short));
  await forwardedCount(r, 1);
  t.is(r.forwarded.length, 1);
  t.true(r.forwarded[0].equals(short), 'handed back unchanged');
  t.true((r.forwarded[0] as Buffer & { handedBack?: boolean }).handedBack, 'marked as handed back');
  t.false(r.threads.handOver(8, 0, r.forwarded[0]), 'not taken a second time: the main thread answers it');

  await r.threads.pause();
  t.false(r.threads.handOver(5, 7, readRequest(4, 5, 7, 0, 10)), 'paused: the main thread answers it');
  r.threads.resume();
});

test.serial('grow() starts one more thread up to the limit, and it answers READs', async (t) => {
  const r = rig(t, 1);
  r.threads.add(5, 7, r.fileFd, 0);
  t.is(r.threads.grow(3), 2);
  t.is(r.threads.grow(3), 3);
  t.is(r.threads.grow(3), 0, 'at the limit');
  // The socket pair is a stream: one request at a time. Each wakes one of the three waiting threads.
  t.is(backToBack(r, 100, 30), 0);
  await r.threads.pause(); // resolves once every thread, the added ones too, has parked
  t.false(r.threads.active);
});

test.serial('shrink() ends the added threads only once every thread is idle, and the rest go on answering READs', async (t) => {
  const r = rig(t, 1);
  r.threads.add(5, 7, r.fileFd, 0);
  t.is(r.threads.grow(3), 2);
  t.is(r.threads.grow(3), 3);
  t.is(backToBack(r, 100, 10), 0);
  t.is(r.threads.shrink(1), 0, 'not while the threads are reading');
  const seen = r.idles;
  await idlesAfter(r, seen);
  t.false(r.threads.active, 'idle');
  t.is(r.threads.shrink(1), 1, 'idle: back to one thread');
  t.is(r.threads.shrink(1), 0, 'nothing left to end');
  t.is(backToBack(r, 200, 10), 0, 'the thread left answers');
  t.is(r.threads.grow(2), 2, 'a thread can be added again in the freed place');
  t.is(backToBack(r, 300, 10), 0);
  await r.threads.pause(); // resolves once every thread has parked: the count is right after the shrink
  t.false(r.threads.active);
});

/** Waits up to 1 s for onIdle to have been called more than `seen` times; returns the count. */
async function idlesAfter(r: Rig, seen: number): Promise<number> {
  for (let i = 0; i < 200 && r.idles <= seen; i++) await sleep(5);
  return r.idles;
}

test.serial('onIdle tells the main thread each time every thread has stopped reading: idle, paused, or the last handle removed', async (t) => {
  const r = rig(t);
  r.threads.add(5, 7, r.fileFd, 0);
  await sleep(20); // the threads parked once at their start, before the handle was registered
  let seen = r.idles;
  r.send(readRequest(1, 5, 7, 0, 10));
  t.deepEqual((await r.reply()).data, r.content.subarray(0, 10));
  t.is(r.idles, seen, 'reading: not idle');
  await sleep(50);
  t.is(r.idles, seen, 'within 100 ms of a READ: not idle');
  seen = await idlesAfter(r, seen);
  t.false(r.threads.active, 'idle after 100 ms without a READ');
  t.true(seen > 0, 'onIdle was called');

  r.threads.mainRead(5, 7);
  t.true(r.threads.active, 'woken');
  await r.threads.pause();
  t.true(await idlesAfter(r, seen) > seen, 'paused: onIdle');
  seen = r.idles;
  r.threads.resume();
  t.true(r.threads.active);
  r.threads.remove(5, 7);
  t.false(r.threads.active);
  t.true(await idlesAfter(r, seen) > seen, 'last handle removed: onIdle');
});

/** A file whose reads hang: on a nydusd mount (no kernel passthrough) that is stopped, so it reads no request. */
const withStorage = mountingTests('the stalled() test needs root and /dev/fuse');

withStorage('stalled() says when every thread has been stuck in one READ for the given time', async (t) => {
  const storage = await startNydusd(t, ['--no-kernel-passthrough']);
  await storage.waitState('DAEMON_STATE_RUNNING');
  fs.writeFileSync(path.join(storage.shared, 'slow'), crypto.randomBytes(16 << 20));
  const slowFd = fs.openSync(path.join(storage.mnt, 'slow'), 'r');
  t.teardown(() => fs.closeSync(slowFd));
  const r = rig(t);
  r.threads.add(5, 7, slowFd, 0);
  r.send(readRequest(1, 5, 7, 0, 4096));
  t.is((await r.reply()).len, 16 + 4096, 'read while the storage runs');
  t.false(r.threads.stalled(20));

  await storage.client.call('Stop');
  try {
    // Far past what the first read's readahead could have brought into the page cache: these reach the daemon.
    // The threads stop reading 100 ms after their last READ, and a Stop on a loaded machine can take longer; in a
    // daemon, the main thread would then read the next READ and wake them, as mainRead() does here.
    r.threads.mainRead(5, 7);
    r.send(readRequest(2, 5, 7, 8 << 20, 4096));
    await sleep(60);
    t.false(r.threads.stalled(20), 'one of the two threads is still free');
    r.threads.mainRead(5, 7);
    r.send(readRequest(3, 5, 7, 12 << 20, 4096));
    for (let i = 0; i < 200 && !r.threads.stalled(20); i++) await sleep(10);
    t.true(r.threads.stalled(20), 'both stuck for 20 ms or more');
    t.false(r.threads.stalled(5000), 'not for 5 s');
  } finally {
    await storage.client.call('Start');
  }
  // Both replies, read from the stream socket standing in for /dev/fuse (possibly in one read).
  const buf = Buffer.alloc(64 * 1024);
  let got = 0;
  for (let i = 0; i < 200 && got < 2 * (16 + 4096); i++) {
    const n = native.read(r.peer, buf, got, buf.length - got);
    if (n > 0) got += n;
    else await sleep(5);
  }
  t.is(got, 2 * (16 + 4096));
  t.deepEqual([buf.readBigUInt64LE(8), buf.readBigUInt64LE(16 + 4096 + 8)].sort(), [2n, 3n]);
  t.false(r.threads.stalled(20), 'answered: free again');
});
