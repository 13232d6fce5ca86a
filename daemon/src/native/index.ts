/**
 * The one door to the native addon (daemon/native): readiness polling, the *at() system calls,
 * SCM_RIGHTS descriptor passing and the zstd/lz4 codecs. Every call returns its result or a negative
 * errno; nothing here throws for an OS error. Callers turn a negative result into an Errno where it matters.
 */
import * as path from 'path';

export interface RecvResult { n: number; fds: number[]; truncated: boolean }
export interface PeerCred { pid: number; uid: number; gid: number }
type Name = string | Buffer;
export type PollHandle = object;
export type ReadThreadsHandle = object;
export type DirCursorHandle = object;

/** A message the read threads pass to the main thread; handedBack: a READ it had handed to them (readThreadsServe). */
export type HandedBack = Buffer & { handedBack?: boolean };

export interface NativeAddon {
  pollStart(fd: number, events: number, cb: (status: number, events: number) => void): PollHandle | number;
  pollUpdate(handle: PollHandle, events: number): number;
  pollClose(handle: PollHandle): number;

  read(fd: number, buf: Uint8Array, off: number, len: number): number;
  /** read() of a non-blocking fd retried (yielding the CPU between tries) for up to spinUs microseconds. */
  readSpin(fd: number, buf: Uint8Array, off: number, len: number, spinUs: number): number;
  write(fd: number, buf: Uint8Array, off: number, len: number): number;
  writev(fd: number, bufs: Uint8Array[]): number;
  pread(fd: number, buf: Uint8Array, off: number, len: number, pos: number): number;
  /** pread that reads only from the page cache (RWF_NOWAIT): -EAGAIN, or fewer bytes, where it would wait for the disk. */
  preadNowait(fd: number, buf: Uint8Array, off: number, len: number, pos: number): number;
  /** posix_fadvise WILLNEED: the disk read of [pos, pos + len) starts; returns at once (0 or -errno). */
  fadviseWillneed(fd: number, pos: number, len: number): number;
  /** madvise MADV_HUGEPAGE over the whole 2 MiB pages inside `buf` (a large buffer about to be filled): 0 or -errno. */
  adviseHugePages(buf: Buffer): number;
  /** The offset in `buf` of its first 2 MiB-aligned byte (0 to 2 MiB - 1): where its first whole huge page begins. */
  hugePageStart(buf: Buffer): number;
  /** pos < 0 writes at the current position (O_APPEND). */
  pwrite(fd: number, buf: Uint8Array, off: number, len: number, pos: number): number;
  openat(dirfd: number, name: Name, flags: number, mode: number): number;
  close(fd: number): number;
  dup(fd: number): number;
  setNonblock(fd: number, on: boolean): number;
  setCloexec(fd: number, on: boolean): number;
  /** out: dev, ino, mode, nlink, uid, gid, rdev, size, blksize, blocks, atime s, ns, mtime s, ns, ctime s, ns */
  fstatat(dirfd: number, name: Name, flags: number, out: Float64Array): number;
  /** out: bsize, blocks, bfree, bavail, files, ffree, namelen, frsize */
  fstatfs(fd: number, out: Float64Array): number;
  mkdirat(dirfd: number, name: Name, mode: number): number;
  mknodat(dirfd: number, name: Name, mode: number, rdev: number): number;
  symlinkat(target: Name, dirfd: number, name: Name): number;
  readlinkat(dirfd: number, name: Name): Buffer | number;
  unlinkat(dirfd: number, name: Name, flags: number): number;
  renameat2(olddirfd: number, oldname: Name, newdirfd: number, newname: Name, flags: number): number;
  linkat(olddirfd: number, oldname: Name, newdirfd: number, newname: Name, flags: number): number;
  fchmodat(dirfd: number, name: Name, mode: number): number;
  fchownat(dirfd: number, name: Name, uid: number, gid: number, flags: number): number;
  utimensat(dirfd: number, name: Name, as: number, ans: number, ms: number, mns: number, flags: number): number;
  truncate(path: Name, len: number): number;
  ftruncate(fd: number, len: number): number;
  fsync(fd: number, datasync: number): number;
  fallocate(fd: number, mode: number, offset: number, len: number): number;
  lseek(fd: number, offset: number, whence: number): number;
  /** FUSE_DEV_IOC_BACKING_OPEN on a /dev/fuse fd: the backing id for FOPEN_PASSTHROUGH, or -errno. */
  fuseBackingOpen(fuseFd: number, fd: number): number;
  /** FUSE_DEV_IOC_BACKING_CLOSE: 0, or -errno. */
  fuseBackingClose(fuseFd: number, id: number): number;
  copyFileRange(fdin: number, offin: number, fdout: number, offout: number, len: number, flags: number): number;
  /** Raw linux_dirent64 records: ino u64, off i64, reclen u16, type u8, name NUL-terminated. */
  getdents(fd: number, buf: Uint8Array): number;
  getxattr(path: Name, name: Name, buf: Uint8Array | null): number;
  setxattr(path: Name, name: Name, value: Uint8Array, flags: number): number;
  listxattr(path: Name, buf: Uint8Array | null): number;
  removexattr(path: Name, name: Name): number;
  mount(source: Name, target: Name, fstype: Name, flags: number, data: Name): number;
  umount2(target: Name, flags: number): number;
  raiseNofile(n: number): number;
  umask(mask: number): number;
  setfsugid(uid: number, gid: number): number;

  unixListen(path: Name, backlog: number): number;
  unixConnect(path: Name): number;
  socketPair(): [number, number] | number;
  accept(fd: number): number;
  sendFds(fd: number, buf: Uint8Array, off: number, len: number, fds: number[]): number;
  recvFds(fd: number, buf: Uint8Array, off: number, len: number): RecvResult | number;
  peerCred(fd: number): PeerCred | number;

  /**
   * Threads that answer FUSE READs of registered (nodeid, fh) with pread on their fd; they read `fuseFd` only while
   * a handle is registered and they are not paused. Every other message they read goes to onMessages on the main
   * thread. After answering a READ from the page cache, a thread keeps reading the fd for an adaptive window of up
   * to `spinUs` microseconds before it sleeps (0: never). See daemon/native/src/read_threads.c.
   */
  readThreadsStart(fuseFd: number, threads: number, msgBufSize: number, maxRead: number,
    onMessages: (msgs: HandedBack[], idle: boolean) => void, spinUs?: number): ReadThreadsHandle | number;
  readThreadsAdd(h: ReadThreadsHandle, nodeid: number, fh: number, fd: number, tag: number): number;
  /**
   * Registers a handle whose file is `size` bytes made of pieces of other files: `extents` holds [fileOffset,
   * length, fd, fdOffset] per piece, in order and without gaps (fd -1: zeros). -EINVAL for anything else.
   */
  readThreadsAddExtents(h: ReadThreadsHandle, nodeid: number, fh: number, tag: number, size: number, extents: Float64Array): number;
  /**
   * One registration less (adding a registered handle again counts one more); at the last, waits for a pread in
   * progress on that handle: its fd may be closed afterwards.
   */
  readThreadsRemove(h: ReadThreadsHandle, nodeid: number, fh: number): number;
  /** The threads read again (they stop 100 ms after the last READ they answered). */
  readThreadsWake(h: ReadThreadsHandle): number;
  /**
   * A READ of a registered handle that the main thread read: 1 when a thread will answer it (a copy is queued and
   * they read again), 0 when the main thread must. One they cannot answer after all comes back through onMessages
   * with `handedBack` set (see HandedBack), and so do those still queued when they are paused.
   */
  readThreadsServe(h: ReadThreadsHandle, msg: Buffer): number;
  /** 1 while the threads read /dev/fuse (registered, not paused, not idle), else 0. */
  readThreadsActive(h: ReadThreadsHandle): number;
  /**
   * Every thread stops reading; returns the messages they read but had not handed over yet, once all have parked,
   * or -EAGAIN when one is still busy with a READ after maxMs (< 0: no limit); they stay paused meanwhile.
   */
  readThreadsPause(h: ReadThreadsHandle, maxMs: number): Buffer[] | number;
  readThreadsResume(h: ReadThreadsHandle): number;
  /** As pause, then the threads end. */
  readThreadsClose(h: ReadThreadsHandle): Buffer[] | number;
  /** Per tag read since the last call: tag, count, errors, bytes, totalNs, maxNs, 32 log2-microsecond buckets. */
  readThreadsStats(h: ReadThreadsHandle): number[];
  /** While `on`, the threads keep the event loop alive (the main thread has left reading /dev/fuse to them). */
  readThreadsHoldLoop(h: ReadThreadsHandle, on: boolean): number;
  /** 1: every thread has been answering one READ for `ms` or more (a slow or hung file); 0: not. */
  readThreadsStalled(h: ReadThreadsHandle, ms: number): number;
  /** Starts one more thread, up to `max` in all: returns how many there are now, or 0 when none was started. */
  readThreadsGrow(h: ReadThreadsHandle, max: number): number;
  /** Ends the threads past the first `keep` if every thread is parked: returns how many are left, or 0 when none ended. */
  readThreadsShrink(h: ReadThreadsHandle, keep: number): number;
  /** Times a thread woke for a request and found none left, another reader having taken it (since the start). */
  readThreadsEmptyReads(h: ReadThreadsHandle): number;
  /** Requests a thread read while it kept reading after a READ it answered from the page cache (since the start). */
  readThreadsSpinReads(h: ReadThreadsHandle): number;
  /** READs of image extents that waited for the disk, each of which read the image around it ahead (since the start). */
  readThreadsFetchesAround(h: ReadThreadsHandle): number;

  /**
   * On the libuv threadpool, reads the directory `name` in `parentFd` (never followed if a symlink) into the host's
   * caches, and below it `levels` deep (1: the inodes of its subdirectories; 2: their listings too, and the inodes
   * of theirs...), then calls cb(entries read | -errno, 512-byte blocks that work read from the disk, -1 unknown).
   * 0, or -errno when nothing was queued (cb is then not called). The caller may close parentFd at once.
   */
  warmDirectory(parentFd: number, name: Name, levels: number, cb: (result: number, diskBlocks: number) => void): number;

  /**
   * The complete reply to a READDIR, or a names-only READDIRPLUS (`plus`), `msg`, from the metadata image `image`
   * held in memory (`present`: which of its blocks are in, undefined: all) and described by `conf`
   * (fs/native-listings.ts), written into `out`: its length, or 0 when the request is left to the handlers.
   * result[0] receives the entries sent that are not directories, result[1] (if there) those sent with their entry
   * filled in, whose nodes the kernel now holds one more reference to. See daemon/native/src/erofs_listing.c.
   */
  packErofsListingReply(msg: Uint8Array, image: Uint8Array, present: Uint8Array | undefined, conf: Float64Array,
    plus: boolean, maxWrite: number, out: Uint8Array, result: Float64Array): number;

  /** A host directory cursor over `fd` (which stays the caller's), that has returned `consumed` entries. */
  dirCursorCreate(fd: number, consumed: number): DirCursorHandle;
  /**
   * The entries after cookie `offset` that fit in a `size`-byte READDIR reply (at least one), as linux_dirent64
   * records copied into `out` (32 KiB or more): their byte length, 0 at the end, or -errno; result[0] = the
   * cookie of the first.
   */
  dirCursorRead(cursor: DirCursorHandle, offset: number, size: number, out: Uint8Array, result: Float64Array): number;
  /** The cookie of the cursor's position in its fd. */
  dirCursorPosition(cursor: DirCursorHandle): number;
  /**
   * The complete reply to READDIR or names-only READDIRPLUS (`plus`) `msg` from the cursor, written into `out`: its
   * length, or 0 when the handlers are to answer it (see dir_cursor.c). result[0] = non-directories sent, result[1]
   * = 1 at the end of the listing.
   */
  dirCursorPack(cursor: DirCursorHandle, msg: Uint8Array, plus: boolean, maxWrite: number, out: Uint8Array,
    result: Float64Array): number;

  zstdDecompress(src: Uint8Array, dst: Uint8Array): number;
  zstdCompress(src: Uint8Array, level: number): Buffer;
  lz4Decompress(src: Uint8Array, dst: Uint8Array): number;
  lz4Compress(src: Uint8Array): Buffer;
}

function load(): NativeAddon {
  // dist/daemon/src/native -> daemon/native/build/Release
  const candidates = [
    path.resolve(__dirname, '../../../../daemon/native/build/Release/nydus_native.node'),
    path.resolve(__dirname, '../../native/build/Release/nydus_native.node'),
  ];
  let lastError: unknown;
  for (const file of candidates) {
    try {
      return require(file) as NativeAddon;
    } catch (err) {
      lastError = err;
    }
  }
  throw new Error(`Cannot load the native addon (run "npm run build:native"): ${String(lastError)}`);
}

export const native: NativeAddon = load();

/** uv_poll event bits. */
export const POLL_READABLE = 1;
export const POLL_WRITABLE = 2;
export const POLL_DISCONNECT = 4;

/** Linux constants the addon's callers need (x86_64 and aarch64 agree on these). */
export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;
export const AT_SYMLINK_FOLLOW = 0x400;
export const AT_EMPTY_PATH = 0x1000;
export const O_PATH = 0o10000000;
export const O_NOFOLLOW = 0o400000;
export const O_DIRECTORY = 0o200000;
export const O_CLOEXEC = 0o2000000;
export const O_DIRECT = 0o40000;
export const RENAME_NOREPLACE = 1;
export const RENAME_EXCHANGE = 2;
export const RENAME_WHITEOUT = 4;
export const UTIME_NOW = (1 << 30) - 1;
export const UTIME_OMIT = (1 << 30) - 2;
export const MNT_DETACH = 2;
export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;

/** Path of an fd through /proc, for calls that have no fd-based form (xattrs, chmod of an O_PATH fd). */
export function procFdPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}
