/**
 * passthrough_fs behind a real FUSE mount (the lead's server): what programs see through the mount must be
 * what the host directory holds. The big program suites (cp, tar, git, sqlite) live with the server's tests.
 */
import test from 'ava';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { cannotMount, mountShare } from './mount-helper';

const PY = '/usr/bin/python3';
const skipReason = cannotMount();
const mountTest = skipReason ? test.skip : test.serial;
if (skipReason) test('real-mount tests are skipped', (t) => { t.log(`skipped: ${skipReason}`); t.pass(); });

function sh(script: string, cwd: string): string {
  return execFileSync('/bin/sh', ['-c', script], { cwd, encoding: 'utf8', stdio: 'pipe' });
}

function py(code: string, cwd: string): string {
  return execFileSync(PY, ['-c', code], { cwd, encoding: 'utf8', stdio: 'pipe' });
}

mountTest('a big directory lists completely through READDIRPLUS, names and inodes as on the host', async (t) => {
  const { share, mnt } = await mountShare(t, {
    writable: false,
    populate: (dir) => {
      for (let i = 0; i < 3000; i++) fs.writeFileSync(path.join(dir, `file-${i}-${'n'.repeat(i % 100)}`), '');
    },
  });
  const viaMount = fs.readdirSync(mnt, { withFileTypes: true });
  t.deepEqual(viaMount.map((d) => d.name).sort(), fs.readdirSync(share).sort());
  const inodes = py('import os\nprint("\\n".join(f"{e.name} {e.inode()}" for e in os.scandir(".")))', mnt);
  for (const line of inodes.trim().split('\n').slice(0, 200)) {
    const [name, ino] = line.split(' ');
    t.is(Number(ino), fs.lstatSync(path.join(share, name)).ino, name);
  }
});

mountTest('files made through the mount belong to the caller and follow its umask', async (t) => {
  const { share, mnt } = await mountShare(t, { writable: true });
  fs.chmodSync(mnt, 0o777);
  sh(`setpriv --reuid=65534 --regid=65534 --clear-groups sh -c 'umask 027; mkdir d; echo x > d/f; ln -s f d/l'`, mnt);
  for (const name of ['d', 'd/f', 'd/l']) {
    const st = fs.lstatSync(path.join(share, name));
    t.is(st.uid, 65534, name);
    t.is(st.gid, 65534, name);
  }
  t.is(fs.statSync(path.join(share, 'd')).mode & 0o777, 0o750);
  t.is(fs.statSync(path.join(share, 'd/f')).mode & 0o777, 0o640);
  fs.mkdirSync(path.join(share, 'private'), 0o700);
  const err = t.throws(() => sh(`setpriv --reuid=65534 --regid=65534 --clear-groups touch private/x`, mnt));
  t.regex(String((err as { stderr?: string }).stderr), /Permission denied/);
});

mountTest('hard links, O_APPEND, sparse files, xattrs and unlinked-open files behave as on the host', async (t) => {
  const { share, mnt } = await mountShare(t, { writable: true });
  sh('echo one > a && ln a b && setfattr -n user.k -v v a', mnt);
  t.is(fs.statSync(path.join(mnt, 'a')).ino, fs.statSync(path.join(mnt, 'b')).ino);
  t.is(fs.statSync(path.join(mnt, 'b')).nlink, 2);
  t.is(sh('getfattr --only-values -n user.k b', mnt), 'v');
  const out = py([
    'import os',
    'fd = os.open("a", os.O_WRONLY | os.O_APPEND)',
    'os.pwrite(fd, b"two\\n", 0); os.close(fd)',
    'fd = os.open("sparse", os.O_CREAT | os.O_RDWR, 0o644)',
    'os.pwrite(fd, b"x", 1 << 20); os.pwrite(fd, b"y", 3 << 20)',
    'print(os.lseek(fd, 0, os.SEEK_DATA), os.lseek(fd, (1 << 20) + 1, os.SEEK_HOLE) >= (1 << 20) + 1)',
    'g = os.open("gone", os.O_CREAT | os.O_RDWR, 0o644); os.write(g, b"kept"); os.unlink("gone")',
    'print(os.pread(g, 10, 0).decode(), os.fstat(g).st_nlink)',
  ].join('\n'), mnt);
  t.is(fs.readFileSync(path.join(share, 'a'), 'utf8'), 'one\ntwo\n');
  const [seek, gone] = out.trim().split('\n');
  const hostData = Number(py(`import os\nfd=os.open("sparse", os.O_RDONLY)\nprint(os.lseek(fd, 0, os.SEEK_DATA))`, share));
  t.is(seek, `${hostData} True`);
  t.is(gone, 'kept 0');
  t.false(fs.existsSync(path.join(share, 'gone')));
});

mountTest('a read-only share refuses writes with EROFS and a symlink cannot take a lookup outside', async (t) => {
  const { mnt } = await mountShare(t, {
    writable: false,
    populate: (dir) => {
      fs.writeFileSync(path.join(dir, 'f'), 'data');
      fs.symlinkSync('../../../../../../../../etc', path.join(dir, 'up'));
    },
  });
  const err = t.throws(() => sh('touch new', mnt));
  t.regex(String((err as { stderr?: string }).stderr), /Read-only file system/);
  t.is(fs.readFileSync(path.join(mnt, 'f'), 'utf8'), 'data');
  // The kernel resolves the link on the client side: ../.. climbs out of the mount point, never into the share's
  // host parents through the daemon. Inside the share, ".." of the root is the mount's own parent.
  t.is(fs.readlinkSync(path.join(mnt, 'up')), '../../../../../../../../etc');
  t.is(fs.statSync(path.join(mnt, '..')).ino, fs.statSync(path.dirname(mnt)).ino);
});

mountTest('the kernel\'s FORGETs after dropping its caches close the inode fds the lookups opened', async (t) => {
  const { mnt, pid } = await mountShare(t, {
    writable: false,
    populate: (dir) => { for (let i = 0; i < 1000; i++) fs.writeFileSync(path.join(dir, `f${i}`), ''); },
  });
  const fdCount = () => fs.readdirSync(`/proc/${pid}/fd`).length;
  const baseline = fdCount();
  for (const name of fs.readdirSync(mnt)) fs.lstatSync(path.join(mnt, name));
  t.true(fdCount() >= baseline + 1000, `one fd per looked-up inode (${fdCount()} vs ${baseline})`);
  fs.writeFileSync('/proc/sys/vm/drop_caches', '2');
  for (let i = 0; i < 50 && fdCount() > baseline + 10; i++) await new Promise((r) => setTimeout(r, 100));
  t.true(fdCount() <= baseline + 10, `forgotten inodes closed (${fdCount()} vs ${baseline})`);
  t.is(fs.readdirSync(mnt).length, 1000, 'and they can be looked up again');
});
