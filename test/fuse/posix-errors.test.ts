/**
 * POSIX error cases on a real passthrough mount, in the manner of pjdfstest: each check runs a system call
 * from python3 (as root, or as uid 65534 for permission checks) and asserts the errno it fails with.
 */
import test from 'ava';
import * as fs from 'fs';
import { servePassthrough, sh, Served } from '../helpers/mount';

let served: Served;

test.before(async () => {
  served = await servePassthrough();
  fs.chmodSync(served.src, 0o755);
});

test.after.always(async () => {
  await served?.stop();
  if (served) fs.rmSync(served.src, { recursive: true, force: true });
});

/** Runs `stmt` (python, with os imported and M = the mount) and returns the errno name it raised, or "ok". */
function errnoOf(stmt: string, asUser = false): string {
  const py = `import os, errno\nM = ${JSON.stringify(served.mnt)}\ntry:\n    ${stmt}\n    print("ok")\nexcept OSError as e:\n    print(errno.errorcode[e.errno])\n`;
  const cmd = asUser ? 'setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -' : 'python3 -';
  return sh(cmd, { input: py }).trim();
}

test.serial('ENOENT, EEXIST, ENOTEMPTY, ENOTDIR, EISDIR', (t) => {
  sh(`mkdir -p ${served.mnt}/e/dir/sub && echo x > ${served.mnt}/e/file`);
  t.is(errnoOf('os.stat(M + "/e/missing")'), 'ENOENT');
  t.is(errnoOf('os.open(M + "/e/missing/x", os.O_RDONLY)'), 'ENOENT');
  t.is(errnoOf('os.unlink(M + "/e/missing")'), 'ENOENT');
  t.is(errnoOf('os.mkdir(M + "/e/dir")'), 'EEXIST');
  t.is(errnoOf('os.open(M + "/e/file", os.O_CREAT | os.O_EXCL | os.O_WRONLY)'), 'EEXIST');
  t.is(errnoOf('os.link(M + "/e/file", M + "/e/dir")'), 'EEXIST');
  t.is(errnoOf('os.symlink("x", M + "/e/file")'), 'EEXIST');
  t.is(errnoOf('os.rmdir(M + "/e/dir")'), 'ENOTEMPTY');
  t.is(errnoOf('os.rename(M + "/e/dir/sub", M + "/e/dir")'), 'ENOTEMPTY');
  t.is(errnoOf('os.stat(M + "/e/file/x")'), 'ENOTDIR');
  t.is(errnoOf('os.rmdir(M + "/e/file")'), 'ENOTDIR');
  t.is(errnoOf('os.rename(M + "/e/dir", M + "/e/file")'), 'ENOTDIR');
  t.is(errnoOf('os.open(M + "/e/dir", os.O_WRONLY)'), 'EISDIR');
  t.is(errnoOf('os.unlink(M + "/e/dir")'), 'EISDIR');
  t.is(errnoOf('os.rename(M + "/e/file", M + "/e/dir")'), 'EISDIR');
});

test.serial('ELOOP and ENAMETOOLONG', (t) => {
  sh(`mkdir -p ${served.mnt}/l && ln -s a ${served.mnt}/l/b && ln -s b ${served.mnt}/l/a`);
  t.is(errnoOf('os.stat(M + "/l/a")'), 'ELOOP');
  t.is(errnoOf('os.open(M + "/l/a/x", os.O_RDONLY)'), 'ELOOP');
  t.is(errnoOf('os.open(M + "/l/a", os.O_RDONLY | os.O_NOFOLLOW)'), 'ELOOP');
  const long = 'n'.repeat(256);
  t.is(errnoOf(`os.mkdir(M + "/l/${long}")`), 'ENAMETOOLONG');
  t.is(errnoOf(`open(M + "/l/${long}", "w")`), 'ENAMETOOLONG');
  t.is(errnoOf(`os.mkdir(M + "/l/${'n'.repeat(255)}")`), 'ok');
});

test.serial('EACCES and EPERM for a non-root user; files created by a user belong to that user', (t) => {
  sh(`mkdir -p ${served.mnt}/p/private ${served.mnt}/p/open && chmod 700 ${served.mnt}/p/private && chmod 777 ${served.mnt}/p/open && echo s > ${served.mnt}/p/secret && chmod 600 ${served.mnt}/p/secret && chmod 755 ${served.mnt}/p`);
  t.is(errnoOf('os.listdir(M + "/p/private")', true), 'EACCES');
  t.is(errnoOf('open(M + "/p/secret").read()', true), 'EACCES');
  t.is(errnoOf('open(M + "/p/newfile", "w")', true), 'EACCES');
  t.is(errnoOf('os.chmod(M + "/p/secret", 0o777)', true), 'EPERM');
  t.is(errnoOf('os.chown(M + "/p/open", 65534, 65534)', true), 'EPERM');
  t.is(errnoOf('open(M + "/p/open/mine", "w").write("x")', true), 'ok');
  const st = fs.statSync(`${served.src}/p/open/mine`);
  t.is(st.uid, 65534);
  t.is(st.gid, 65534);
  sh(`chmod 1777 ${served.mnt}/p/open && echo r > ${served.mnt}/p/open/rootfile`);
  t.is(errnoOf('os.unlink(M + "/p/open/rootfile")', true), 'EPERM');
});

test.serial('rename2 flags: RENAME_NOREPLACE and RENAME_EXCHANGE', (t) => {
  sh(`mkdir -p ${served.mnt}/r && echo 1 > ${served.mnt}/r/one && echo 2 > ${served.mnt}/r/two`);
  const rename2 = (flag: number) => `import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\nrc = libc.renameat2(-100, (M + "/r/one").encode(), -100, (M + "/r/two").encode(), ${flag})\nif rc != 0: raise OSError(ctypes.get_errno(), "renameat2")`;
  const run = (flag: number) => sh('python3 -', { input: `import os, errno\nM = ${JSON.stringify(served.mnt)}\ntry:\n${rename2(flag).split('\n').map((l) => '    ' + l).join('\n')}\n    print("ok")\nexcept OSError as e:\n    print(errno.errorcode[e.errno])\n` }).trim();
  t.is(run(1), 'EEXIST');
  t.is(run(2), 'ok');
  t.is(fs.readFileSync(`${served.mnt}/r/one`, 'utf8'), '2\n');
  t.is(fs.readFileSync(`${served.src}/r/two`, 'utf8'), '1\n');
});
