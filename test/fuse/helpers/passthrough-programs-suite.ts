/**
 * Real programs on a real passthrough_fs mount: cp -a + diff -r, tar round trip, git, SQLite, links,
 * attributes, xattrs, sparse files, O_APPEND, a 200 MiB file, concurrent readers and writers. Registered by two
 * test files: one where the kernel does file I/O itself (FUSE passthrough), one where the daemon serves it.
 */
import test from 'ava';
import * as fs from 'fs';
import * as path from 'path';
import { servePassthrough, sh, Served } from '../../helpers/mount';

/** Registers the suite against a server started with `serverArgs` (extra serve-child flags). */
export function registerProgramTests(serverArgs: string[]): void {
  let served: Served;

  test.before(async () => {
    served = await servePassthrough({ extraArgs: serverArgs });
  });

  test.after.always(async () => {
    await served?.stop();
    if (served) fs.rmSync(served.src, { recursive: true, force: true });
  });

  function dir(name: string): string {
    const d = path.join(served.mnt, name);
    fs.mkdirSync(d, { recursive: true });
    return d;
  }

  test('cp -a of a real tree into the mount matches it (diff -r), as seen through the mount and on the backing dir', (t) => {
    const d = dir('cp');
    const source = path.resolve(require.resolve('typescript'), '../..');
    sh(`cp -a ${source} ${d}/ts`);
    sh(`diff -r ${source} ${d}/ts`);
    sh(`diff -r ${source} ${served.src}/cp/ts`);
    const count = Number(sh(`find ${d}/ts | wc -l`).trim());
    t.true(count > 50);
    t.is(count, Number(sh(`find ${source} | wc -l`).trim()));
  });

  test('tar round trip: pack inside the mount, unpack elsewhere, identical', (t) => {
    const d = dir('tar');
    sh(`mkdir -p ${d}/tree/sub && for i in $(seq 1 200); do head -c $((i * 37)) /dev/urandom > ${d}/tree/sub/f$i; done`);
    sh(`ln -s sub/f1 ${d}/tree/link && ln ${d}/tree/sub/f2 ${d}/tree/hard`);
    sh(`tar -C ${d} -cf ${d}/tree.tar tree`);
    const out = fs.mkdtempSync('/tmp/untar-');
    try {
      sh(`tar -C ${out} -xf ${d}/tree.tar && diff -r ${d}/tree ${out}/tree`);
      t.is(fs.readlinkSync(`${out}/tree/link`), 'sub/f1');
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  test('git init, add, commit, status inside the mount', (t) => {
    const d = dir('git');
    const env = 'GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@e GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@e';
    sh(`cd ${d} && git init -q -b main . && for i in 1 2 3; do echo "file $i" > f$i.txt; done && git add . && ${env} git commit -qm first`);
    sh(`cd ${d} && echo change >> f2.txt && git mv f3.txt g3.txt && ${env} git commit -qam second`);
    t.is(sh(`cd ${d} && git status --porcelain`), '');
    t.is(sh(`cd ${d} && git log --oneline | wc -l`).trim(), '2');
    sh(`cd ${d} && git fsck --strict`);
  });

  test('SQLite database written with transactions passes integrity_check', (t) => {
    const d = dir('sqlite');
    const script = `
import sqlite3, random
db = sqlite3.connect("${d}/test.db")
db.execute("pragma journal_mode=wal")
db.execute("create table t(id integer primary key, v text)")
for batch in range(20):
    with db:
        for i in range(500):
            db.execute("insert into t(v) values (?)", ("x" * random.randint(1, 400),))
with db:
    db.execute("delete from t where id % 3 = 0")
db.execute("vacuum")
print(db.execute("pragma integrity_check").fetchone()[0], db.execute("select count(*) from t").fetchone()[0])
`;
    const out = sh('python3 -', { input: script }).trim();
    t.is(out, 'ok 6667');
  });

  test('hard links, symlinks and renames (also over an existing file)', (t) => {
    const d = dir('links');
    fs.writeFileSync(`${d}/a`, 'A');
    fs.linkSync(`${d}/a`, `${d}/b`);
    const sa = fs.statSync(`${d}/a`);
    const sb = fs.statSync(`${d}/b`);
    t.is(sa.ino, sb.ino);
    t.is(sa.nlink, 2);
    fs.symlinkSync('a', `${d}/s`);
    t.is(fs.readlinkSync(`${d}/s`), 'a');
    t.is(fs.readFileSync(`${d}/s`, 'utf8'), 'A');
    fs.writeFileSync(`${d}/c`, 'C');
    fs.renameSync(`${d}/c`, `${d}/a`);
    t.is(fs.readFileSync(`${d}/a`, 'utf8'), 'C');
    t.is(fs.readFileSync(`${d}/b`, 'utf8'), 'A');
    t.is(fs.statSync(`${d}/b`).nlink, 1);
    fs.renameSync(`${d}/b`, `${d}/moved`);
    t.false(fs.existsSync(`${d}/b`));
    t.is(fs.readFileSync(`${served.src}/links/moved`, 'utf8'), 'A');
  });

  test('chmod, chown, truncate, utimes and xattrs reach the backing files', (t) => {
    const d = dir('attrs');
    const f = `${d}/f`;
    fs.writeFileSync(f, 'x'.repeat(1000));
    fs.chownSync(f, 1234, 5678); // (a chown after the chmod would clear the setuid bit, as on any Linux fs)
    fs.chmodSync(f, 0o4751);
    fs.truncateSync(f, 10);
    fs.utimesSync(f, new Date('2001-02-03T04:05:06Z'), new Date('2002-03-04T05:06:07Z'));
    for (const st of [fs.statSync(f), fs.statSync(`${served.src}/attrs/f`)]) {
      t.is(st.mode & 0o7777, 0o4751);
      t.is(st.uid, 1234);
      t.is(st.gid, 5678);
      t.is(st.size, 10);
      t.is(st.mtime.toISOString(), '2002-03-04T05:06:07.000Z');
    }
    sh(`setfattr -n user.colour -v blue ${f} && setfattr -n user.size -v ${'z'.repeat(3000)} ${f}`);
    t.is(sh(`getfattr --only-values -n user.colour ${f}`), 'blue');
    t.is(sh(`getfattr --only-values -n user.colour ${served.src}/attrs/f`), 'blue');
    t.regex(sh(`getfattr -d ${f}`), /user\.size=/);
    sh(`setfattr -x user.colour ${f}`);
    t.throws(() => sh(`getfattr -n user.colour ${f}`));
  });

  test('sparse files keep their holes, SEEK_DATA/SEEK_HOLE work, O_APPEND appends', (t) => {
    const d = dir('sparse');
    sh(`dd if=/dev/urandom of=${d}/sp bs=4096 count=1 seek=1000 status=none`);
    const st = fs.statSync(`${d}/sp`);
    t.is(st.size, 4096 * 1001);
    t.true(st.blocks * 512 < 64 * 1024, `allocated ${st.blocks * 512} bytes`);
    const py = `
import os
fd = os.open("${d}/sp", os.O_RDONLY)
print(os.lseek(fd, 0, os.SEEK_DATA), os.lseek(fd, 0, os.SEEK_HOLE))
`;
    t.is(sh('python3 -', { input: py }).trim(), `${4096 * 1000} 0`);
    sh(`cp --sparse=always ${d}/sp ${d}/sp2 && cmp ${d}/sp ${d}/sp2`);
    const fd = fs.openSync(`${d}/app`, 'a');
    fs.writeSync(fd, 'one\n');
    fs.writeSync(fd, 'two\n', 0);
    fs.closeSync(fd);
    sh(`echo three >> ${d}/app`);
    t.is(fs.readFileSync(`${d}/app`, 'utf8'), 'one\ntwo\nthree\n');
  });

  test('a 200 MiB file written and read back has the same sha256', (t) => {
    const d = dir('big');
    const src = `${served.src}/../big-src-${process.pid}`;
    sh(`head -c ${200 << 20} /dev/urandom > ${src}`);
    try {
      const want = sh(`sha256sum < ${src}`).split(' ')[0];
      sh(`dd if=${src} of=${d}/big bs=1M status=none conv=fsync`);
      sh(`echo 3 > /proc/sys/vm/drop_caches`);
      t.is(sh(`sha256sum < ${d}/big`).split(' ')[0], want);
      t.is(sh(`sha256sum < ${served.src}/big/big`).split(' ')[0], want);
    } finally {
      fs.rmSync(src, { force: true });
    }
  });

  test('many concurrent readers and writers each see exactly their own data', (t) => {
    const d = dir('concurrent');
    const script = `
set -e
for w in $(seq 1 16); do
  ( for i in $(seq 1 30); do head -c $((w * 1000 + i)) /dev/zero | tr '\\0' "$(printf \\\\$(printf %o $((64 + w))))" > ${d}/w$w.$i; done ) &
done
wait
for w in $(seq 1 16); do
  ( for i in $(seq 1 30); do
      n=$(wc -c < ${d}/w$w.$i); [ "$n" = $((w * 1000 + i)) ] || { echo "bad size w$w.$i $n"; exit 1; }
      c=$(tr -d "$(printf \\\\$(printf %o $((64 + w))))" < ${d}/w$w.$i | wc -c); [ "$c" = 0 ] || { echo "bad content w$w.$i"; exit 1; }
    done ) &
done
wait
ls ${d} | wc -l
`;
    t.is(sh(script).trim(), String(16 * 30));
  });

  test('repeated ls -l and find match the host (listings names-only at first, with attributes once stat follows)', (t) => {
    const d = dir('listing');
    for (let i = 0; i < 300; i++) fs.writeFileSync(`${d}/f${i}`, 'x'.repeat(i));
    fs.mkdirSync(`${d}/sub`);
    fs.symlinkSync('f1', `${d}/link`);
    const host = path.join(served.src, 'listing');
    const ls = (where: string) => sh(`ls -lan --time-style=+%s ${where} | tail -n +2`);
    const find = (where: string) => sh(`cd ${where} && find . -printf '%p %y %s %m %n\\n' | sort`);
    for (let round = 0; round < 3; round++) {
      t.is(find(d), find(host), `find, round ${round}`);
      t.is(ls(d), ls(host), `ls -l, round ${round}`);
    }
  });

  test('O_DIRECT readers and writers work (dd iflag=direct / oflag=direct, fio direct=1)', (t) => {
    const d = dir('direct');
    sh(`head -c ${8 << 20} /dev/urandom > ${d}/src`);
    sh(`dd if=${d}/src of=${d}/copy bs=1M iflag=direct oflag=direct status=none`);
    t.is(sh(`sha256sum < ${d}/copy`), sh(`sha256sum < ${d}/src`));
    const out = sh(`fio --name=r --filename=${d}/src --rw=randread --bs=4k --direct=1 --ioengine=psync --runtime=1 --time_based --output-format=terse`);
    t.is(out.split(';')[4], '0', 'fio reports no errors');
  });
}
