/**
 * A minimal read-only passthrough over fuse-native (libfuse 2, path based): the filesystem a Node user would
 * write with the usual binding, as a benchmark peer. getattr/readdir/open/read/release/readlink/statfs map to
 * Node's fs on SOURCE + path; writes are not offered. Runs until SIGTERM/SIGINT, then unmounts and exits 0.
 *
 *   node fuse-native-passthrough.js SOURCE MOUNTPOINT
 */
import * as fs from 'fs';
import * as path from 'path';

/** The part of fuse-native's API used here (the package ships no types). */
interface FuseStat {
  mode: number; uid: number; gid: number; size: number; dev: number; nlink: number; ino: number; rdev: number;
  blksize: number; blocks: number; atime: Date; mtime: Date; ctime: Date;
}
interface FuseStatfs {
  bsize: number; frsize: number; blocks: number; bfree: number; bavail: number; files: number; ffree: number;
  favail: number; fsid: number; flag: number; namemax: number;
}
/** Callbacks take a return code first: 0 or a negative errno (for read: the byte count). */
interface FuseOps {
  getattr(p: string, cb: (code: number, st?: FuseStat) => void): void;
  readdir(p: string, cb: (code: number, names?: string[]) => void): void;
  open(p: string, flags: number, cb: (code: number, fd?: number) => void): void;
  read(p: string, fd: number, buf: Buffer, len: number, pos: number, cb: (bytesOrCode: number) => void): void;
  release(p: string, fd: number, cb: (code: number) => void): void;
  readlink(p: string, cb: (code: number, target?: string) => void): void;
  statfs(p: string, cb: (code: number, st?: FuseStatfs) => void): void;
}
interface FuseInstance {
  mount(cb: (err: Error | null) => void): void;
  unmount(cb: (err: Error | null) => void): void;
}
type FuseConstructor = new (mnt: string, ops: FuseOps, opts: { allowOther?: boolean; force?: boolean }) => FuseInstance;

const WRITE_FLAGS = fs.constants.O_WRONLY | fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_TRUNC;

/** Node's errors carry a negative errno on Linux; anything else is EIO. */
function errnoOf(err: NodeJS.ErrnoException): number {
  return typeof err.errno === 'number' && err.errno < 0 ? err.errno : -5;
}

function passthroughOps(source: string): FuseOps {
  const real = (p: string) => path.join(source, p);
  return {
    getattr: (p, cb) => fs.lstat(real(p), (err, st) => (err ? cb(errnoOf(err)) : cb(0, st))),
    readdir: (p, cb) => fs.readdir(real(p), (err, names) => (err ? cb(errnoOf(err)) : cb(0, names))),
    open: (p, flags, cb) => {
      if (flags & WRITE_FLAGS) return cb(-30 /* EROFS */);
      // O_DIRECT is dropped: libfuse's read buffers are not block aligned, so the backing pread would fail with
      // EINVAL. The kernel already bypasses the page cache on the FUSE side for an O_DIRECT open.
      fs.open(real(p), flags & ~fs.constants.O_DIRECT, (err, fd) => (err ? cb(errnoOf(err)) : cb(0, fd)));
    },
    read: (_p, fd, buf, len, pos, cb) => fs.read(fd, buf, 0, len, pos, (err, n) => cb(err ? errnoOf(err) : n)),
    release: (_p, fd, cb) => fs.close(fd, (err) => cb(err ? errnoOf(err) : 0)),
    readlink: (p, cb) => fs.readlink(real(p), (err, target) => (err ? cb(errnoOf(err)) : cb(0, target))),
    statfs: (p, cb) => fs.statfs(real(p), (err, st) => {
      if (err) return cb(errnoOf(err));
      cb(0, {
        bsize: st.bsize, frsize: st.bsize, blocks: st.blocks, bfree: st.bfree, bavail: st.bavail, files: st.files,
        ffree: st.ffree, favail: st.ffree, fsid: 0, flag: 0, namemax: 255,
      });
    }),
  };
}

function main(): void {
  const [source, mountpoint] = process.argv.slice(2);
  if (!source || !mountpoint) {
    process.stderr.write('usage: fuse-native-passthrough SOURCE MOUNTPOINT\n');
    process.exit(2);
  }
  const Fuse = require('fuse-native') as FuseConstructor;
  const fuse = new Fuse(mountpoint, passthroughOps(path.resolve(source)), { allowOther: true });
  fuse.mount((err) => {
    if (err) {
      process.stderr.write(`fuse-native-passthrough: mount failed: ${err.message}\n`);
      process.exit(1);
    }
  });
  const stop = () => fuse.unmount(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main();
