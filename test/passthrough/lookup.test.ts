import test from 'ava';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { FUSE_ROOT_ID } from '../../daemon/src/fs/filesystem';
import { PassthroughFs } from '../../daemon/src/passthrough';
import { assertSameAsHost, b, makeShare, openFdCount, rootCtx, throwsErrno, walk } from './helpers';

test('constructor throws a clear Error for a missing or non-directory shared dir', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-ctor-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const missing = path.join(dir, 'nope');
  const err = t.throws(() => new PassthroughFs({ sharedDir: missing, writable: false }));
  t.true(err?.message.includes(missing));
  fs.writeFileSync(path.join(dir, 'file'), 'x');
  const err2 = t.throws(() => new PassthroughFs({ sharedDir: path.join(dir, 'file'), writable: false }));
  t.regex(err2?.message ?? '', /not a directory/);
});

test('lookup() and getattr() report what lstat shows on the host', (t) => {
  const { pfs, host } = makeShare(t);
  fs.mkdirSync(host('d'));
  fs.writeFileSync(host('d/f'), 'hello world');
  fs.symlinkSync('f', host('d/l'));
  const d = pfs.lookup(rootCtx, FUSE_ROOT_ID, b('d'));
  assertSameAsHost(t, d.attr, host('d'));
  for (const name of ['f', 'l']) {
    const e = pfs.lookup(rootCtx, d.nodeid, b(name));
    assertSameAsHost(t, e.attr, host(`d/${name}`));
    assertSameAsHost(t, pfs.getattr(rootCtx, e.nodeid, undefined).attr, host(`d/${name}`));
  }
  assertSameAsHost(t, pfs.getattr(rootCtx, FUSE_ROOT_ID, undefined).attr, host(''));
  t.is(pfs.lookup(rootCtx, d.nodeid, b('l')).attr.mode & 0o170000, 0o120000, 'the symlink itself, not its target');
});

test('lookup() errors: ENOENT, ENOTDIR, ENAMETOOLONG, EINVAL for a slash, ESTALE for an unknown nodeid', (t) => {
  const { pfs, host } = makeShare(t);
  fs.writeFileSync(host('f'), '');
  throwsErrno(t, () => pfs.lookup(rootCtx, FUSE_ROOT_ID, b('missing')), 'ENOENT');
  const f = pfs.lookup(rootCtx, FUSE_ROOT_ID, b('f')).nodeid;
  throwsErrno(t, () => pfs.lookup(rootCtx, f, b('x')), 'ENOTDIR');
  throwsErrno(t, () => pfs.lookup(rootCtx, FUSE_ROOT_ID, Buffer.alloc(256, 0x61)), 'ENAMETOOLONG');
  throwsErrno(t, () => pfs.lookup(rootCtx, FUSE_ROOT_ID, b('a/b')), 'EINVAL');
  throwsErrno(t, () => pfs.lookup(rootCtx, 9999, b('f')), 'ESTALE');
  // 255 bytes is allowed: it just is not there
  throwsErrno(t, () => pfs.lookup(rootCtx, FUSE_ROOT_ID, Buffer.alloc(255, 0x61)), 'ENOENT');
});

test('".." from the root stays at the root; ".." below it is the parent', (t) => {
  const { pfs, host } = makeShare(t);
  fs.mkdirSync(host('a/b'), { recursive: true });
  t.is(pfs.lookup(rootCtx, FUSE_ROOT_ID, b('..')).nodeid, FUSE_ROOT_ID);
  const up = pfs.lookup(rootCtx, FUSE_ROOT_ID, b('..'));
  assertSameAsHost(t, up.attr, host(''));
  const a = walk(pfs, 'a');
  const bNode = pfs.lookup(rootCtx, a, b('b')).nodeid;
  t.is(pfs.lookup(rootCtx, bNode, b('..')).nodeid, a);
  t.is(pfs.lookup(rootCtx, pfs.lookup(rootCtx, a, b('..')).nodeid, b('..')).nodeid, FUSE_ROOT_ID);
  t.is(pfs.lookup(rootCtx, a, b('.')).nodeid, a);
});

test('symlinks pointing outside the share are never followed by lookups', (t) => {
  const { pfs, host } = makeShare(t);
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-outside-'));
  t.teardown(() => fs.rmSync(outside, { recursive: true, force: true }));
  fs.writeFileSync(path.join(outside, 'secret'), 'secret');
  fs.symlinkSync(outside, host('out'));
  fs.symlinkSync('../../../../../../..' + outside, host('rel'));
  fs.symlinkSync(path.join(outside, 'secret'), host('file'));
  for (const name of ['out', 'rel']) {
    const link = pfs.lookup(rootCtx, FUSE_ROOT_ID, b(name));
    t.is(link.attr.mode & 0o170000, 0o120000);
    throwsErrno(t, () => pfs.lookup(rootCtx, link.nodeid, b('secret')), 'ENOTDIR', `${name}/secret`);
    throwsErrno(t, () => pfs.opendir(rootCtx, link.nodeid, 0), 'ENOTDIR', `opendir ${name}`);
  }
  const file = pfs.lookup(rootCtx, FUSE_ROOT_ID, b('file'));
  throwsErrno(t, () => pfs.open(rootCtx, file.nodeid, 0), 'ELOOP', 'open of a symlink to an outside file');
  t.is(pfs.readlink(rootCtx, file.nodeid).toString(), path.join(outside, 'secret'), 'the target is only text');
  // climbing with ".." never gets above the root
  let node = walk(pfs, '');
  for (let i = 0; i < 5; i++) node = pfs.lookup(rootCtx, node, b('..')).nodeid;
  t.is(node, FUSE_ROOT_ID);
  throwsErrno(t, () => pfs.lookup(rootCtx, node, b(path.basename(outside))), 'ENOENT');
});

test('hard links share one nodeid and repeated lookups count', (t) => {
  const { pfs, host } = makeShare(t);
  fs.writeFileSync(host('a'), 'x');
  fs.linkSync(host('a'), host('b'));
  const a = pfs.lookup(rootCtx, FUSE_ROOT_ID, b('a'));
  const bEntry = pfs.lookup(rootCtx, FUSE_ROOT_ID, b('b'));
  t.is(a.nodeid, bEntry.nodeid);
  t.is(a.attr.nlink, 2);
  t.is(pfs.counts.inodes, 2, 'root + one inode');
  pfs.forget(a.nodeid, 1);
  t.notThrows(() => pfs.getattr(rootCtx, a.nodeid, undefined), 'one lookup left');
  pfs.forget(a.nodeid, 1);
  throwsErrno(t, () => pfs.getattr(rootCtx, a.nodeid, undefined), 'ESTALE');
});

test('forget() closes the inode fd at zero and nodeids are never reused', (t) => {
  const { pfs, host } = makeShare(t);
  for (let i = 0; i < 20; i++) fs.writeFileSync(host(`f${i}`), String(i));
  const before = openFdCount();
  const seen = new Set<number>();
  const ids = [];
  for (let i = 0; i < 20; i++) {
    const e = pfs.lookup(rootCtx, FUSE_ROOT_ID, b(`f${i}`));
    pfs.lookup(rootCtx, FUSE_ROOT_ID, b(`f${i}`));
    ids.push(e.nodeid);
    seen.add(e.nodeid);
  }
  t.is(openFdCount(), before + 20, 'one fd per inode, not per lookup');
  for (const id of ids) pfs.forget(id, 2);
  t.is(openFdCount(), before, 'all closed at zero');
  t.is(pfs.counts.inodes, 1);
  for (let i = 0; i < 20; i++) {
    const e = pfs.lookup(rootCtx, FUSE_ROOT_ID, b(`f${i}`));
    t.false(seen.has(e.nodeid), `nodeid ${e.nodeid} reused`);
    t.true(e.nodeid > Math.max(...ids));
  }
  pfs.forget(FUSE_ROOT_ID, 100);
  t.notThrows(() => pfs.getattr(rootCtx, FUSE_ROOT_ID, undefined), 'the root is never dropped');
  pfs.forget(424242, 1);
  t.pass('forget of an unknown nodeid is ignored');
});

test('a renamed file keeps its nodeid and getattr follows the inode, not the name', (t) => {
  const { pfs, host } = makeShare(t);
  fs.mkdirSync(host('d'));
  fs.writeFileSync(host('d/x'), '123');
  const x = walk(pfs, 'd/x');
  fs.renameSync(host('d/x'), host('y'));
  t.is(pfs.getattr(rootCtx, x, undefined).attr.size, 3);
  t.is(pfs.lookup(rootCtx, FUSE_ROOT_ID, b('y')).nodeid, x);
});

test('statfs() reports the host filesystem', (t) => {
  const { pfs, dir } = makeShare(t);
  const s = pfs.statfs(rootCtx, FUSE_ROOT_ID);
  const host = fs.statfsSync(dir);
  t.is(s.bsize, host.bsize);
  t.is(s.blocks, host.blocks);
  t.is(s.files, host.files);
  t.is(s.namelen, 255);
});

test('close() closes every inode and handle fd, and is idempotent', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pt-close-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'd'));
  fs.writeFileSync(path.join(dir, 'd', 'f'), 'x');
  const before = openFdCount();
  const pfs = new PassthroughFs({ sharedDir: dir, writable: false });
  const f = walk(pfs, 'd/f');
  pfs.open(rootCtx, f, 0);
  pfs.opendir(rootCtx, FUSE_ROOT_ID, 0);
  t.deepEqual(pfs.counts, { inodes: 3, handles: 2 });
  t.is(openFdCount(), before + 5);
  pfs.close();
  t.is(openFdCount(), before);
  t.notThrows(() => pfs.close());
});
