import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { native, O_CLOEXEC } from '../../daemon/src/native';
import { FramedChannel } from '../../daemon/src/upgrade/channel';
import { fetchState, sendState } from '../../daemon/src/upgrade/client';
import { encodeFrameHeader, FrameType } from '../../daemon/src/upgrade/frame';
import { encodeMessage } from '../../daemon/src/upgrade/proto';
import { FD_FUSE_DEV, FD_HANDLE, FD_NODE } from '../../daemon/src/upgrade/state-types';
import { eventually, identity, openFdCount, sleep, startServer, tempDir } from './helpers/harness';
import { sampleState } from './helpers/sample-state';

function openTempFiles(dir: string, count: number): number[] {
  const fds: number[] = [];
  for (let i = 0; i < count; i++) {
    const fd = native.openat(-100, path.join(dir, `f${i}`), fs.constants.O_RDWR | fs.constants.O_CREAT | O_CLOEXEC, 0o600);
    if (fd < 0) throw new Error(`open failed: ${fd}`);
    fds.push(fd);
  }
  return fds;
}

test.serial('more than 1 MiB of state and 1,200 fds go to the supervisor and back intact', async (t) => {
  native.raiseNofile(65536);
  const h = startServer();
  const files = tempDir();
  const fds = openTempFiles(files, 1200);
  t.teardown(() => {
    fds.forEach((fd) => native.close(fd));
    h.close();
    fs.rmSync(files, { recursive: true, force: true });
  });
  // 20,000 nodes (> 1 MiB encoded); the first 1,199 hold an fd, the /dev/fuse slot is played by a temp file.
  const state = sampleState({ nodes: 20_000 });
  const tables = state.filesystems[0];
  tables.fdBase = 1;
  tables.fdCount = fds.length - 1;
  tables.passthrough!.nodes.forEach((node, i) => (node.fdIndex = i < fds.length - 1 ? i : -1));
  tables.passthrough!.handles = [];
  state.filesystems[1].fdBase = fds.length;
  state.fds = fds.map((_, i) => ({ kind: i === 0 ? FD_FUSE_DEV : FD_NODE, vfsIndex: 1, ref: i, dev: 0, ino: 0 }));
  await sendState(h.sock, state, fds);
  t.is(h.store.get(state.daemonId)?.live?.fdCount, 1200);

  const fetched = await fetchState(h.sock, state.daemonId);
  t.teardown(() => fetched.fds.forEach((fd) => native.close(fd)));
  t.is(fetched.fds.length, 1200);
  t.is(fetched.state.filesystems[0].passthrough?.nodes.length, 20_000);
  t.deepEqual(fetched.fds.map(identity), fds.map(identity), 'every fd is the same file, in order');
  t.false(fetched.resend);
});

test.serial('a new state replaces the old one and the supervisor closes the replaced fds', async (t) => {
  const h = startServer();
  t.teardown(() => h.close());
  const before = openFdCount();
  const files = tempDir();
  t.teardown(() => fs.rmSync(files, { recursive: true, force: true }));
  for (let round = 0; round < 5; round++) {
    const fds = openTempFiles(files, 10);
    const state = noFdState();
    state.fds = fds.map((_, i) => ({ kind: FD_HANDLE, vfsIndex: 1, ref: i, dev: 0, ino: 0 }));
    await sendState(h.sock, state, fds);
    fds.forEach((fd) => native.close(fd));
  }
  t.is(openFdCount() - before, 10, 'only the latest 10 fds are held');
});

test.serial('a frame split into single bytes is reassembled', async (t) => {
  const pair = native.socketPair();
  if (typeof pair === 'number') return t.fail(`socketpair: ${pair}`);
  const receiver = new FramedChannel(pair[0]);
  t.teardown(() => {
    receiver.close();
    native.close(pair[1]);
  });
  const body = encodeMessage('Ack', { ok: false, error: 'split me' });
  const bytes = Buffer.concat([encodeFrameHeader(FrameType.Ack, body.length, 0), body]);
  const received = receiver.receive(5000);
  for (let i = 0; i < bytes.length; i++) {
    t.is(native.write(pair[1], bytes, i, 1), 1);
    await sleep(1);
  }
  const frame = await received;
  t.is(frame.type, FrameType.Ack);
  t.deepEqual(frame.body, body);
});

test.serial('garbage, an oversized length and an unknown frame type are refused; the server keeps serving', async (t) => {
  const h = startServer();
  t.teardown(() => h.close());
  const attacks = [
    Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
    encodeFrameHeader(FrameType.SaveState, 0xffffffff, 0),
    Buffer.from([8, 0, 0, 0, 0x99, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]),
    Buffer.concat([encodeFrameHeader(FrameType.SaveState, 5, 0), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff])]),
  ];
  for (const attack of attacks) {
    const fd = native.unixConnect(h.sock);
    t.true(fd >= 0);
    native.write(fd, attack, 0, attack.length);
    await eventually(() => readEof(fd), 3000, 'the server to close the connection');
    native.close(fd);
  }
  t.true(h.server.stats.refused >= attacks.length);
  await sendState(h.sock, noFdState(), []);
  t.is(h.server.stats.saved, 1);
});

test.serial('undeclared fds are refused and closed by the server', async (t) => {
  const h = startServer();
  t.teardown(() => h.close());
  await sleep(50);
  const before = openFdCount();
  const pipe = native.socketPair();
  if (typeof pipe === 'number') return t.fail();
  const fd = native.unixConnect(h.sock);
  const body = encodeMessage('Control', { command: 'status', json: '' });
  const frame = Buffer.concat([encodeFrameHeader(FrameType.Control, body.length, 0), body]);
  t.is(native.sendFds(fd, frame, 0, frame.length, [pipe[0], pipe[1]]), frame.length);
  await eventually(() => readEof(fd), 3000, 'refusal');
  native.close(fd);
  native.close(pipe[0]);
  native.close(pipe[1]);
  await eventually(() => openFdCount() === before, 3000, 'the server to close the received fds');
  t.pass();
});

test.serial('a slow peer (slow loris) is cut off after the frame timeout', async (t) => {
  const h = startServer({ frameTimeoutMs: 300 });
  t.teardown(() => h.close());
  const fd = native.unixConnect(h.sock);
  const header = encodeFrameHeader(FrameType.SaveState, 1000, 0);
  native.write(fd, header, 0, header.length);
  const started = Date.now();
  await eventually(() => readEof(fd), 3000, 'the server to drop the slow peer');
  const elapsed = Date.now() - started;
  native.close(fd);
  t.true(elapsed >= 250 && elapsed < 2000, `cut off after ${elapsed} ms`);
});

test.serial('a silent peer is dropped after the first-frame timeout', async (t) => {
  const h = startServer({ firstFrameTimeoutMs: 200 });
  t.teardown(() => h.close());
  const fd = native.unixConnect(h.sock);
  await eventually(() => readEof(fd), 3000, 'the server to drop the silent peer');
  native.close(fd);
  t.true(h.server.stats.refused >= 1);
});

test.serial('fetchState() times out against a supervisor that never answers', async (t) => {
  const dir = tempDir();
  const sock = path.join(dir, 'mute.sock');
  const listenFd = native.unixListen(sock, 4);
  t.teardown(() => {
    native.close(listenFd);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const started = Date.now();
  await t.throwsAsync(fetchState(sock, 'x', 300), { message: /within 300 ms/ });
  t.true(Date.now() - started < 2000);
});

test.serial('the socket is 0600: another user cannot connect', (t) => {
  const h = startServer();
  t.teardown(() => h.close());
  t.is(fs.statSync(h.sock).mode & 0o777, 0o600);
  fs.chmodSync(h.dir, 0o755);
  const probe = `const n=require(${JSON.stringify(require.resolve('../../daemon/src/native'))}).native; process.stdout.write(String(n.unixConnect(${JSON.stringify(h.sock)})))`;
  const result = spawnSync(process.execPath, ['-e', probe], { uid: 65534, gid: 65534, encoding: 'utf8' });
  t.is(result.stdout, String(-13), `connect as nobody: ${result.stdout} ${result.stderr}`);
});

test.serial('fetching an unknown daemon says so', async (t) => {
  const h = startServer();
  t.teardown(() => h.close());
  await t.throwsAsync(fetchState(h.sock, 'nobody-here'), { message: /no state for daemon nobody-here/ });
});

/** A state without passthrough tables (so any fd list is consistent with it). */
function noFdState() {
  const state = sampleState({ nodes: 0 });
  state.fds = [];
  state.filesystems = state.filesystems.filter((fs) => !fs.passthrough).map((fs) => ({ ...fs, fdBase: 0 }));
  return state;
}

/** True once the peer closed: a read returns 0 (EOF) or ECONNRESET. */
function readEof(fd: number): boolean {
  const buf = Buffer.alloc(4096);
  const r = native.recvFds(fd, buf, 0, buf.length);
  if (typeof r === 'number') return r !== -11;
  r.fds.forEach((x) => native.close(x));
  return r.n === 0;
}
