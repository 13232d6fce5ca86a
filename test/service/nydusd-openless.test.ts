/**
 * nydusd with an image at its root (`--bootstrap`): the FUSE mount is read-only, and files are read without OPEN.
 * The first OPEN and FLUSH are answered ENOSYS and the kernel sends no other, nor any RELEASE, while tar and cat
 * read every file with the right bytes; the kernel keeps the attributes it has (no GETATTR after each read). Only
 * images may join such a mount; a large file of one mounted at a sub-path is read by the read threads, and
 * unmounting that instance leaves the root serving; unmounted while a file of it is open, it keeps serving that file
 * until the kernel forgets it. With --writable the mount is read-write and files are
 * opened. A read-only directory at the root makes a read-only mount too, which no writable filesystem may join.
 */
import { status } from '@grpc/grpc-js';
import type { ExecutionContext } from 'ava';
import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { mountingTests, RunningNydusd, startNydusd } from './nydusd-process';
import { mkfsErofs } from '../rafs/helpers/system';

const e2e = mountingTests('nydusd openless tests need root and /dev/fuse');

interface OpcodeCount { opcode: string; count: number; errors: number }
interface SessionMetrics { reads_on_threads: number; opcodes: OpcodeCount[] }

async function sessionMetrics(d: RunningNydusd): Promise<SessionMetrics> {
  const metrics = await d.client.call<{ filesystems: Array<SessionMetrics & { mountpoint: string }> }>('GetMetrics');
  return metrics.filesystems.find((f) => f.mountpoint === '')!;
}

function count(m: SessionMetrics, opcode: string): OpcodeCount {
  return m.opcodes.find((op) => op.opcode === opcode) ?? { opcode, count: 0, errors: 0 };
}

/** A tree of `files` small files in 5 directories, plus a 3 MiB file; returns its directory. */
function sourceTree(work: string, files: number): string {
  const src = path.join(work, 'src');
  for (let i = 0; i < files; i++) {
    fs.mkdirSync(path.join(src, `d${i % 5}`), { recursive: true });
    fs.writeFileSync(path.join(src, `d${i % 5}`, `f${i}`), crypto.randomBytes(100 + i * 13));
  }
  fs.writeFileSync(path.join(src, 'big'), crypto.randomBytes(3 << 20));
  return src;
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** nydusd serving a mkfs.erofs image of a sourceTree() of `files` files; the tree's directory comes along. */
async function imageDaemon(t: ExecutionContext, files: number, mkfsArgs: string[], nydusdArgs: string[] = []) {
  const work = fs.mkdtempSync('/tmp/nydus-openless-');
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
  const src = sourceTree(work, files);
  const img = path.join(work, 'img');
  mkfsErofs(img, src, mkfsArgs);
  const d = await startNydusd(t, nydusdArgs, ['--bootstrap', img]);
  await d.waitState('DAEMON_STATE_RUNNING');
  return { d, src, img, work };
}

e2e('an image at the root: read-only mount, no OPEN, FLUSH or RELEASE after the first, every byte right', async (t) => {
  const { d, src, work } = await imageDaemon(t, 200, []);

  const options = execFileSync('findmnt', ['-n', '-o', 'OPTIONS', d.mnt], { encoding: 'utf8' });
  t.true(options.split(',').includes('ro'), `mount options ${options.trim()}`);
  t.throws(() => fs.writeFileSync(path.join(d.mnt, 'new'), 'x'), { code: 'EROFS' });

  // tar reads every file and lstat()s it again after reading: with the atime kept, no GETATTR goes out for that.
  const before = count(await sessionMetrics(d), 'GETATTR').count;
  fs.mkdirSync(path.join(work, 'out'));
  execFileSync('bash', ['-c', `tar -C ${d.mnt} -cf - . | tar -C ${work}/out -xf -`], { stdio: 'pipe' });
  t.is(count(await sessionMetrics(d), 'GETATTR').count - before, 0, 'no GETATTR while tar read 201 files');
  execFileSync('diff', ['-r', src, path.join(work, 'out')]);
  // Read again through cat, and once more: the kernel keeps the pages and asks nothing.
  for (let i = 0; i < 200; i += 17) {
    const name = path.join(`d${i % 5}`, `f${i}`);
    t.is(sha256(path.join(d.mnt, name)), sha256(path.join(src, name)), name);
  }

  const m = await sessionMetrics(d);
  t.like(count(m, 'OPEN'), { count: 1, errors: 1 }, 'one OPEN, answered ENOSYS');
  t.like(count(m, 'FLUSH'), { count: 1, errors: 1 }, 'one FLUSH, answered ENOSYS');
  t.is(count(m, 'RELEASE').count, 0);
  t.true(count(m, 'READ').count >= 201, `${count(m, 'READ').count} READs`);
});

e2e('only images join an image-rooted mount; a sub-path image\'s large file is read by the read threads, and its umount leaves the root serving', async (t) => {
  const { d, src, img } = await imageDaemon(t, 20, ['--chunksize=1048576']);

  const refused = await d.client.call('Mount', { fs_type: 'passthrough_fs', source: d.shared, mountpoint: '/dir', config: '' })
    .catch((err) => err);
  t.is(refused.code, status.INVALID_ARGUMENT);
  t.regex(refused.details, /read without OPEN/);
  t.false(fs.existsSync(path.join(d.mnt, 'dir')), 'nothing mounted');

  await d.client.call('Mount', { fs_type: 'rafs', source: img, mountpoint: '/img', config: '' });
  const bigSum = sha256(path.join(src, 'big'));
  t.is(execFileSync('bash', ['-c', `dd if=${d.mnt}/img/big iflag=direct bs=64k status=none | sha256sum`], { encoding: 'utf8' }).split(' ')[0], bigSum);
  const m = await sessionMetrics(d);
  t.true(m.reads_on_threads >= 40, `${m.reads_on_threads} of ${count(m, 'READ').count} READs on the read threads`);
  t.is(count(m, 'OPEN').count, 1);

  await d.client.call('Umount', { mountpoint: '/img' });
  t.false(fs.existsSync(path.join(d.mnt, 'img', 'big')));
  t.is(execFileSync('bash', ['-c', `dd if=${d.mnt}/big iflag=direct bs=64k status=none | sha256sum`], { encoding: 'utf8' }).split(' ')[0], bigSum);
  t.is(sha256(path.join(d.mnt, 'd3', 'f3')), sha256(path.join(src, 'd3', 'f3')));
});

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (check()) return true;
  return check();
}

e2e('a sub-path image unmounted while a file of it is open keeps serving that file, and is released once the kernel forgets it', async (t) => {
  const { d, src, img, work } = await imageDaemon(t, 20, ['--chunksize=1048576']);
  await d.client.call('Mount', { fs_type: 'rafs', source: img, mountpoint: '/img', config: '' });
  // Opened, not read yet: without OPEN the daemon does not see it.
  const fd = fs.openSync(path.join(d.mnt, 'img', 'big'), 'r');
  let open = true;
  t.teardown(() => { if (open) fs.closeSync(fd); });

  await d.client.call('Umount', { mountpoint: '/img' });
  t.false(fs.existsSync(path.join(d.mnt, 'img', 'big')), 'gone from the mount');
  t.true(await waitFor(() => /filesystem unmounted; kept serving the files the kernel still holds/.test(d.stderr()), 5_000),
    'logged as retired (the log reaches us through a pipe)');
  // The path takes another image meanwhile.
  const src2 = path.join(work, 'src2');
  fs.mkdirSync(src2);
  fs.writeFileSync(path.join(src2, 'other'), 'second image\n');
  const img2 = path.join(work, 'img2');
  mkfsErofs(img2, src2, []);
  await d.client.call('Mount', { fs_type: 'rafs', source: img2, mountpoint: '/img', config: '' });
  t.is(fs.readFileSync(path.join(d.mnt, 'img', 'other'), 'utf8'), 'second image\n');

  // Every byte of the open file, read only now, comes from the first image.
  const data = Buffer.alloc(3 << 20);
  let got = 0;
  for (let n = 1; n > 0 && got < data.length; got += n) n = fs.readSync(fd, data, got, data.length - got, got);
  t.is(got, data.length);
  t.is(crypto.createHash('sha256').update(data).digest('hex'), sha256(path.join(src, 'big')));
  t.false(/retired filesystem released/.test(d.stderr()), 'not released while the file is open');

  fs.closeSync(fd);
  open = false;
  fs.writeFileSync('/proc/sys/vm/drop_caches', '2'); // the kernel drops the unused dentries and forgets their nodes
  t.true(await waitFor(() => /retired filesystem released/.test(d.stderr()), 10_000), 'released once forgotten');
  t.is(fs.readFileSync(path.join(d.mnt, 'img', 'other'), 'utf8'), 'second image\n');
  t.is(sha256(path.join(d.mnt, 'd3', 'f3')), sha256(path.join(src, 'd3', 'f3')), 'the root still serves');
});

e2e('an image at the root with --writable: read-write mount, files opened, a writable passthrough_fs joins', async (t) => {
  const { d, src } = await imageDaemon(t, 10, [], ['--writable']);
  t.true(execFileSync('findmnt', ['-n', '-o', 'OPTIONS', d.mnt], { encoding: 'utf8' }).split(',').includes('rw'));
  t.is(sha256(path.join(d.mnt, 'd1', 'f1')), sha256(path.join(src, 'd1', 'f1')));
  t.throws(() => fs.writeFileSync(path.join(d.mnt, 'd1', 'f1'), 'x'), { code: 'EROFS' }, 'the image itself stays read-only');
  await d.client.call('Mount', { fs_type: 'passthrough_fs', source: d.shared, mountpoint: '/dir', config: '{"writable":true}' });
  fs.writeFileSync(path.join(d.mnt, 'dir', 'note'), 'through passthrough_fs\n');
  t.is(fs.readFileSync(path.join(d.shared, 'note'), 'utf8'), 'through passthrough_fs\n');
  const m = await sessionMetrics(d);
  t.true(count(m, 'OPEN').count >= 2, 'the read and the refused write');
  t.is(count(m, 'OPEN').errors, 1, 'the write open (EROFS)');
});

e2e('a read-only directory at the root: read-only mount; a writable passthrough_fs may not join, a read-only one may', async (t) => {
  const d = await startNydusd(t);
  await d.waitState('DAEMON_STATE_RUNNING');
  t.true(execFileSync('findmnt', ['-n', '-o', 'OPTIONS', d.mnt], { encoding: 'utf8' }).split(',').includes('ro'));
  t.throws(() => fs.writeFileSync(path.join(d.mnt, 'new'), 'x'), { code: 'EROFS' });
  const other = fs.mkdtempSync('/tmp/nydus-openless-');
  t.teardown(() => fs.rmSync(other, { recursive: true, force: true }));
  fs.writeFileSync(path.join(other, 'f'), 'other share\n');
  const refused = await d.client.call('Mount', { fs_type: 'passthrough_fs', source: other, mountpoint: '/w', config: '{"writable":true}' })
    .catch((err) => err);
  t.is(refused.code, status.INVALID_ARGUMENT);
  t.regex(refused.details, /read-only \(nydusd was started without --writable\)/);
  await d.client.call('Mount', { fs_type: 'passthrough_fs', source: other, mountpoint: '/r', config: '' });
  t.is(fs.readFileSync(path.join(d.mnt, 'r', 'f'), 'utf8'), 'other share\n');
  t.is(fs.readFileSync(path.join(d.mnt, 'hello.txt'), 'utf8'), 'hello from the shared dir\n');
});

e2e('a daemon serving a directory opens its files and mounts read-write', async (t) => {
  const d = await startNydusd(t, ['--writable']);
  await d.waitState('DAEMON_STATE_RUNNING');
  const options = execFileSync('findmnt', ['-n', '-o', 'OPTIONS', d.mnt], { encoding: 'utf8' });
  t.true(options.split(',').includes('rw'), `mount options ${options.trim()}`);
  fs.writeFileSync(path.join(d.mnt, 'new'), 'written\n');
  t.is(fs.readFileSync(path.join(d.mnt, 'new'), 'utf8'), 'written\n');
  const m = await sessionMetrics(d);
  t.true(count(m, 'OPEN').count + count(m, 'CREATE').count >= 2);
  t.is(count(m, 'OPEN').errors, 0);
});
