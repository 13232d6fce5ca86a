/* Thin synchronous wrappers over the system calls passthrough_fs and the FUSE transport need and Node lacks.
 * Each returns the call's result, or -errno; names and paths are strings or Buffers (raw bytes). */
#include "common.h"
#include <fcntl.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/xattr.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <linux/fs.h>
#include <sched.h>
#include <time.h>

#define PATH_ARG(i, var)                                       \
  char var[PATH_CAP];                                          \
  { int _r = arg_path(env, argv[i], var, sizeof var);          \
    if (_r < 0) return num(env, _r); }

#define BYTES_ARG(i, ptr, len)                                 \
  uint8_t *ptr; size_t len;                                    \
  if (arg_bytes(env, argv[i], &ptr, &len) < 0) {               \
    napi_throw_type_error(env, NULL, "expected a Buffer");     \
    return NULL; }

/* read(fd, buf, off, len) */
static napi_value n_read(napi_env env, napi_callback_info info) {
  ARGS(4);
  BYTES_ARG(1, buf, cap);
  size_t off = (size_t)arg_i64(env, argv[2]), len = (size_t)arg_i64(env, argv[3]);
  if (off > cap || len > cap - off) return num(env, -EINVAL);
  return ret_errno(env, read(arg_int(env, argv[0]), buf + off, len));
}

/* readSpin(fd, buf, off, len, spinUs): read() on a non-blocking fd, retried until something arrives or spinUs
 * microseconds have passed (then -EAGAIN). The thread yields the CPU between attempts, so a runnable task
 * (typically the one our last reply just woke) is never held up by the spin. */
static napi_value n_read_spin(napi_env env, napi_callback_info info) {
  ARGS(5);
  BYTES_ARG(1, buf, cap);
  int fd = arg_int(env, argv[0]);
  size_t off = (size_t)arg_i64(env, argv[2]), len = (size_t)arg_i64(env, argv[3]);
  int64_t spin_ns = arg_i64(env, argv[4]) * 1000;
  if (off > cap || len > cap - off) return num(env, -EINVAL);
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    ssize_t n = read(fd, buf + off, len);
    if (n >= 0 || errno != EAGAIN) return ret_errno(env, n);
    clock_gettime(CLOCK_MONOTONIC, &t);
    if ((t.tv_sec - t0.tv_sec) * 1000000000LL + (t.tv_nsec - t0.tv_nsec) >= spin_ns) return num(env, -EAGAIN);
    sched_yield();
  }
}

/* write(fd, buf, off, len) */
static napi_value n_write(napi_env env, napi_callback_info info) {
  ARGS(4);
  BYTES_ARG(1, buf, cap);
  size_t off = (size_t)arg_i64(env, argv[2]), len = (size_t)arg_i64(env, argv[3]);
  if (off > cap || len > cap - off) return num(env, -EINVAL);
  return ret_errno(env, write(arg_int(env, argv[0]), buf + off, len));
}

/* writev(fd, [buf...]) */
static napi_value n_writev(napi_env env, napi_callback_info info) {
  ARGS(2);
  uint32_t n = 0;
  napi_get_array_length(env, argv[1], &n);
  if (n > 64) return num(env, -EINVAL);
  struct iovec iov[64];
  for (uint32_t i = 0; i < n; i++) {
    napi_value el;
    napi_get_element(env, argv[1], i, &el);
    uint8_t *p; size_t l;
    if (arg_bytes(env, el, &p, &l) < 0) { napi_throw_type_error(env, NULL, "expected Buffers"); return NULL; }
    iov[i].iov_base = p; iov[i].iov_len = l;
  }
  return ret_errno(env, writev(arg_int(env, argv[0]), iov, (int)n));
}

/* pread(fd, buf, off, len, pos) */
static napi_value n_pread(napi_env env, napi_callback_info info) {
  ARGS(5);
  BYTES_ARG(1, buf, cap);
  size_t off = (size_t)arg_i64(env, argv[2]), len = (size_t)arg_i64(env, argv[3]);
  if (off > cap || len > cap - off) return num(env, -EINVAL);
  return ret_errno(env, pread(arg_int(env, argv[0]), buf + off, len, (off_t)arg_i64(env, argv[4])));
}

/* preadNowait(fd, buf, off, len, pos): preadv2 with RWF_NOWAIT, which reads only what the page cache holds:
 * -EAGAIN when it would have to wait for the disk (possibly fewer bytes when only a part is cached). */
static napi_value n_pread_nowait(napi_env env, napi_callback_info info) {
  ARGS(5);
  BYTES_ARG(1, buf, cap);
  size_t off = (size_t)arg_i64(env, argv[2]), len = (size_t)arg_i64(env, argv[3]);
  if (off > cap || len > cap - off) return num(env, -EINVAL);
  struct iovec iov = { buf + off, len };
  return ret_errno(env, preadv2(arg_int(env, argv[0]), &iov, 1, (off_t)arg_i64(env, argv[4]), RWF_NOWAIT));
}

/* fadviseWillneed(fd, pos, len): starts reading [pos, pos + len) into the page cache and returns at once. */
static napi_value n_fadvise_willneed(napi_env env, napi_callback_info info) {
  ARGS(3);
  int rc = posix_fadvise(arg_int(env, argv[0]), (off_t)arg_i64(env, argv[1]), (off_t)arg_i64(env, argv[2]), POSIX_FADV_WILLNEED);
  return num(env, -rc);
}

#define HUGE_PAGE ((uintptr_t)2 << 20)

/* The first 2 MiB-aligned address at or after p. */
static uintptr_t huge_align_up(uintptr_t p) { return (p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1); }

/* adviseHugePages(buf): the whole 2 MiB pages inside buf may be transparent huge pages (MADV_HUGEPAGE), so that
 * filling a large fresh buffer faults once per 2 MiB instead of once per 4 KiB. 0, or -errno (-EINVAL: no whole
 * huge page lies inside it). */
static napi_value n_advise_huge_pages(napi_env env, napi_callback_info info) {
  ARGS(1);
  BYTES_ARG(0, buf, cap);
  uintptr_t start = huge_align_up((uintptr_t)buf), end = ((uintptr_t)buf + cap) & ~(HUGE_PAGE - 1);
  if (end <= start) return num(env, -EINVAL);
  return num(env, madvise((void *)start, end - start, MADV_HUGEPAGE) == 0 ? 0 : -errno);
}

/* hugePageStart(buf): the offset in buf of its first 2 MiB-aligned byte, where its first whole huge page would
 * begin (so that a caller can advise one huge page of a large buffer at a time, as it fills it). */
static napi_value n_huge_page_start(napi_env env, napi_callback_info info) {
  ARGS(1);
  BYTES_ARG(0, buf, cap);
  (void)cap;
  return num(env, (double)(huge_align_up((uintptr_t)buf) - (uintptr_t)buf));
}

/* pwrite(fd, buf, off, len, pos); pos < 0 means "at the current position" (O_APPEND files). */
static napi_value n_pwrite(napi_env env, napi_callback_info info) {
  ARGS(5);
  BYTES_ARG(1, buf, cap);
  size_t off = (size_t)arg_i64(env, argv[2]), len = (size_t)arg_i64(env, argv[3]);
  int64_t pos = arg_i64(env, argv[4]);
  if (off > cap || len > cap - off) return num(env, -EINVAL);
  int fd = arg_int(env, argv[0]);
  return ret_errno(env, pos < 0 ? write(fd, buf + off, len) : pwrite(fd, buf + off, len, (off_t)pos));
}

/* openat(dirfd, name, flags, mode) */
static napi_value n_openat(napi_env env, napi_callback_info info) {
  ARGS(4);
  PATH_ARG(1, name);
  return ret_errno(env, openat(arg_int(env, argv[0]), name, arg_int(env, argv[2]) | O_CLOEXEC,
                               (mode_t)arg_int(env, argv[3])));
}

static napi_value n_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  return ret_errno(env, close(arg_int(env, argv[0])));
}

static napi_value n_dup(napi_env env, napi_callback_info info) {
  ARGS(1);
  return ret_errno(env, fcntl(arg_int(env, argv[0]), F_DUPFD_CLOEXEC, 3));
}

/* setNonblock(fd, on) */
static napi_value n_set_nonblock(napi_env env, napi_callback_info info) {
  ARGS(2);
  int fd = arg_int(env, argv[0]);
  bool on = false;
  napi_get_value_bool(env, argv[1], &on);
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return num(env, -errno);
  fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
  return ret_errno(env, fcntl(fd, F_SETFL, fl));
}

/* setCloexec(fd, on): off lets a child inherit the fd */
static napi_value n_set_cloexec(napi_env env, napi_callback_info info) {
  ARGS(2);
  int fd = arg_int(env, argv[0]);
  bool on = false;
  napi_get_value_bool(env, argv[1], &on);
  return ret_errno(env, fcntl(fd, F_SETFD, on ? FD_CLOEXEC : 0));
}

static void fill_stat(double *o, const struct stat *st) {
  o[0] = (double)st->st_dev; o[1] = (double)st->st_ino; o[2] = st->st_mode; o[3] = (double)st->st_nlink;
  o[4] = st->st_uid; o[5] = st->st_gid; o[6] = (double)st->st_rdev; o[7] = (double)st->st_size;
  o[8] = (double)st->st_blksize; o[9] = (double)st->st_blocks;
  o[10] = (double)st->st_atim.tv_sec; o[11] = (double)st->st_atim.tv_nsec;
  o[12] = (double)st->st_mtim.tv_sec; o[13] = (double)st->st_mtim.tv_nsec;
  o[14] = (double)st->st_ctim.tv_sec; o[15] = (double)st->st_ctim.tv_nsec;
}

/* fstatat(dirfd, name, flags, out: Float64Array(16)) -> 0 | -errno.
 * out = dev, ino, mode, nlink, uid, gid, rdev, size, blksize, blocks, atime s, ns, mtime s, ns, ctime s, ns */
static napi_value n_fstatat(napi_env env, napi_callback_info info) {
  ARGS(4);
  PATH_ARG(1, name);
  BYTES_ARG(3, out, outlen);
  if (outlen < 16 * sizeof(double)) return num(env, -EINVAL);
  struct stat st;
  if (fstatat(arg_int(env, argv[0]), name, &st, arg_int(env, argv[2])) < 0) return num(env, -errno);
  fill_stat((double *)out, &st);
  return num(env, 0);
}

/* fstatfs(fd, out: Float64Array(8)) = bsize, blocks, bfree, bavail, files, ffree, namelen, frsize */
static napi_value n_fstatfs(napi_env env, napi_callback_info info) {
  ARGS(2);
  BYTES_ARG(1, out, outlen);
  if (outlen < 8 * sizeof(double)) return num(env, -EINVAL);
  struct statfs s;
  if (fstatfs(arg_int(env, argv[0]), &s) < 0) return num(env, -errno);
  double *o = (double *)out;
  o[0] = (double)s.f_bsize; o[1] = (double)s.f_blocks; o[2] = (double)s.f_bfree; o[3] = (double)s.f_bavail;
  o[4] = (double)s.f_files; o[5] = (double)s.f_ffree; o[6] = (double)s.f_namelen; o[7] = (double)s.f_frsize;
  return num(env, 0);
}

static napi_value n_mkdirat(napi_env env, napi_callback_info info) {
  ARGS(3);
  PATH_ARG(1, name);
  return ret_errno(env, mkdirat(arg_int(env, argv[0]), name, (mode_t)arg_int(env, argv[2])));
}

/* mknodat(dirfd, name, mode, rdev) */
static napi_value n_mknodat(napi_env env, napi_callback_info info) {
  ARGS(4);
  PATH_ARG(1, name);
  return ret_errno(env, mknodat(arg_int(env, argv[0]), name, (mode_t)arg_int(env, argv[2]),
                                (dev_t)arg_i64(env, argv[3])));
}

/* symlinkat(target, dirfd, name) */
static napi_value n_symlinkat(napi_env env, napi_callback_info info) {
  ARGS(3);
  PATH_ARG(0, target);
  PATH_ARG(2, name);
  return ret_errno(env, symlinkat(target, arg_int(env, argv[1]), name));
}

/* readlinkat(dirfd, name) -> Buffer | -errno */
static napi_value n_readlinkat(napi_env env, napi_callback_info info) {
  ARGS(2);
  PATH_ARG(1, name);
  char out[PATH_CAP];
  ssize_t n = readlinkat(arg_int(env, argv[0]), name, out, sizeof out);
  if (n < 0) return num(env, -errno);
  napi_value b;
  void *data;
  napi_create_buffer_copy(env, (size_t)n, out, &data, &b);
  return b;
}

/* unlinkat(dirfd, name, flags) */
static napi_value n_unlinkat(napi_env env, napi_callback_info info) {
  ARGS(3);
  PATH_ARG(1, name);
  return ret_errno(env, unlinkat(arg_int(env, argv[0]), name, arg_int(env, argv[2])));
}

/* renameat2(olddirfd, oldname, newdirfd, newname, flags) */
static napi_value n_renameat2(napi_env env, napi_callback_info info) {
  ARGS(5);
  PATH_ARG(1, oldname);
  PATH_ARG(3, newname);
  return ret_errno(env, syscall(SYS_renameat2, arg_int(env, argv[0]), oldname, arg_int(env, argv[2]), newname,
                                (unsigned)arg_int(env, argv[4])));
}

/* linkat(olddirfd, oldname, newdirfd, newname, flags) */
static napi_value n_linkat(napi_env env, napi_callback_info info) {
  ARGS(5);
  PATH_ARG(1, oldname);
  PATH_ARG(3, newname);
  return ret_errno(env, linkat(arg_int(env, argv[0]), oldname, arg_int(env, argv[2]), newname,
                               arg_int(env, argv[4])));
}

/* fchmodat(dirfd, name, mode) */
static napi_value n_fchmodat(napi_env env, napi_callback_info info) {
  ARGS(3);
  PATH_ARG(1, name);
  return ret_errno(env, fchmodat(arg_int(env, argv[0]), name, (mode_t)arg_int(env, argv[2]), 0));
}

/* fchownat(dirfd, name, uid, gid, flags); -1 keeps an id */
static napi_value n_fchownat(napi_env env, napi_callback_info info) {
  ARGS(5);
  PATH_ARG(1, name);
  return ret_errno(env, fchownat(arg_int(env, argv[0]), name, (uid_t)arg_i64(env, argv[2]),
                                 (gid_t)arg_i64(env, argv[3]), arg_int(env, argv[4])));
}

/* utimensat(dirfd, name, atime_s, atime_ns, mtime_s, mtime_ns, flags); ns may be UTIME_NOW / UTIME_OMIT */
static napi_value n_utimensat(napi_env env, napi_callback_info info) {
  ARGS(7);
  PATH_ARG(1, name);
  struct timespec ts[2];
  ts[0].tv_sec = (time_t)arg_i64(env, argv[2]); ts[0].tv_nsec = (long)arg_i64(env, argv[3]);
  ts[1].tv_sec = (time_t)arg_i64(env, argv[4]); ts[1].tv_nsec = (long)arg_i64(env, argv[5]);
  return ret_errno(env, utimensat(arg_int(env, argv[0]), name, ts, arg_int(env, argv[6])));
}

/* truncate(path, len) */
static napi_value n_truncate(napi_env env, napi_callback_info info) {
  ARGS(2);
  PATH_ARG(0, path);
  return ret_errno(env, truncate(path, (off_t)arg_i64(env, argv[1])));
}

static napi_value n_ftruncate(napi_env env, napi_callback_info info) {
  ARGS(2);
  return ret_errno(env, ftruncate(arg_int(env, argv[0]), (off_t)arg_i64(env, argv[1])));
}

/* fsync(fd, datasync) */
static napi_value n_fsync(napi_env env, napi_callback_info info) {
  ARGS(2);
  int fd = arg_int(env, argv[0]);
  return ret_errno(env, arg_int(env, argv[1]) ? fdatasync(fd) : fsync(fd));
}

/* fallocate(fd, mode, offset, len) */
static napi_value n_fallocate(napi_env env, napi_callback_info info) {
  ARGS(4);
  return ret_errno(env, fallocate(arg_int(env, argv[0]), arg_int(env, argv[1]), (off_t)arg_i64(env, argv[2]),
                                  (off_t)arg_i64(env, argv[3])));
}

/* FUSE kernel passthrough (Linux 6.9+): register an open file with the connection, and drop it again.
 * The layouts are those of <linux/fuse.h>, spelled out so that older kernel headers still build. */
struct nydus_fuse_backing_map { int32_t fd; uint32_t flags; uint64_t padding; };
#define NYDUS_FUSE_DEV_IOC_BACKING_OPEN _IOW(229, 1, struct nydus_fuse_backing_map)
#define NYDUS_FUSE_DEV_IOC_BACKING_CLOSE _IOW(229, 2, uint32_t)

/* fuseBackingOpen(fuseFd, fd) -> backing id, or -errno */
static napi_value n_fuse_backing_open(napi_env env, napi_callback_info info) {
  ARGS(2);
  struct nydus_fuse_backing_map map = { .fd = arg_int(env, argv[1]), .flags = 0, .padding = 0 };
  return ret_errno(env, ioctl(arg_int(env, argv[0]), NYDUS_FUSE_DEV_IOC_BACKING_OPEN, &map));
}

/* fuseBackingClose(fuseFd, id) -> 0, or -errno */
static napi_value n_fuse_backing_close(napi_env env, napi_callback_info info) {
  ARGS(2);
  uint32_t id = (uint32_t)arg_int(env, argv[1]);
  return ret_errno(env, ioctl(arg_int(env, argv[0]), NYDUS_FUSE_DEV_IOC_BACKING_CLOSE, &id));
}

/* lseek(fd, offset, whence) */
static napi_value n_lseek(napi_env env, napi_callback_info info) {
  ARGS(3);
  return ret_errno(env, lseek(arg_int(env, argv[0]), (off_t)arg_i64(env, argv[1]), arg_int(env, argv[2])));
}

/* copyFileRange(fdin, offin, fdout, offout, len, flags) */
static napi_value n_copy_file_range(napi_env env, napi_callback_info info) {
  ARGS(6);
  loff_t oin = (loff_t)arg_i64(env, argv[1]), oout = (loff_t)arg_i64(env, argv[3]);
  return ret_errno(env, copy_file_range(arg_int(env, argv[0]), &oin, arg_int(env, argv[2]), &oout,
                                        (size_t)arg_i64(env, argv[4]), (unsigned)arg_int(env, argv[5])));
}

/* getdents(fd, buf) -> bytes of linux_dirent64 records | -errno */
static napi_value n_getdents(napi_env env, napi_callback_info info) {
  ARGS(2);
  BYTES_ARG(1, buf, cap);
  return ret_errno(env, syscall(SYS_getdents64, arg_int(env, argv[0]), buf, cap));
}

/* getxattr(path, name, buf|null) -> size | -errno (follows the final link: use /proc/self/fd/N) */
static napi_value n_getxattr(napi_env env, napi_callback_info info) {
  ARGS(3);
  PATH_ARG(0, path);
  PATH_ARG(1, name);
  napi_valuetype t;
  napi_typeof(env, argv[2], &t);
  if (t == napi_null || t == napi_undefined) return ret_errno(env, getxattr(path, name, NULL, 0));
  BYTES_ARG(2, buf, cap);
  return ret_errno(env, getxattr(path, name, buf, cap));
}

/* setxattr(path, name, value, flags) */
static napi_value n_setxattr(napi_env env, napi_callback_info info) {
  ARGS(4);
  PATH_ARG(0, path);
  PATH_ARG(1, name);
  BYTES_ARG(2, val, len);
  return ret_errno(env, setxattr(path, name, val, len, arg_int(env, argv[3])));
}

/* listxattr(path, buf|null) -> size | -errno */
static napi_value n_listxattr(napi_env env, napi_callback_info info) {
  ARGS(2);
  PATH_ARG(0, path);
  napi_valuetype t;
  napi_typeof(env, argv[1], &t);
  if (t == napi_null || t == napi_undefined) return ret_errno(env, listxattr(path, NULL, 0));
  BYTES_ARG(1, buf, cap);
  return ret_errno(env, listxattr(path, (char *)buf, cap));
}

static napi_value n_removexattr(napi_env env, napi_callback_info info) {
  ARGS(2);
  PATH_ARG(0, path);
  PATH_ARG(1, name);
  return ret_errno(env, removexattr(path, name));
}

/* mount(source, target, fstype, flags, data) */
static napi_value n_mount(napi_env env, napi_callback_info info) {
  ARGS(5);
  PATH_ARG(0, source);
  PATH_ARG(1, target);
  PATH_ARG(2, fstype);
  PATH_ARG(4, data);
  return ret_errno(env, mount(source, target, fstype, (unsigned long)arg_i64(env, argv[3]), data));
}

/* umount2(target, flags) */
static napi_value n_umount2(napi_env env, napi_callback_info info) {
  ARGS(2);
  PATH_ARG(0, target);
  return ret_errno(env, umount2(target, arg_int(env, argv[1])));
}

/* raiseNofile(n) -> the soft limit now in force */
static napi_value n_raise_nofile(napi_env env, napi_callback_info info) {
  ARGS(1);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return num(env, -errno);
  rlim_t want = (rlim_t)arg_i64(env, argv[0]);
  if (want > rl.rlim_max) {
    struct rlimit up = { want, want };
    if (setrlimit(RLIMIT_NOFILE, &up) == 0) return num(env, (double)want);
    want = rl.rlim_max;
  }
  if (want > rl.rlim_cur) {
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0) return num(env, -errno);
  }
  return num(env, (double)rl.rlim_cur);
}

/* umask(mask) -> old mask */
static napi_value n_umask(napi_env env, napi_callback_info info) {
  ARGS(1);
  return num(env, umask((mode_t)arg_int(env, argv[0])));
}

/* setfsugid(uid, gid) -> 0; sets this thread's filesystem ids (the main thread runs the handlers) */
static napi_value n_setfsugid(napi_env env, napi_callback_info info) {
  ARGS(2);
  syscall(SYS_setfsgid, (gid_t)arg_i64(env, argv[1]));
  syscall(SYS_setfsuid, (uid_t)arg_i64(env, argv[0]));
  return num(env, 0);
}

void register_syscalls(napi_env env, napi_value exports) {
  export_fn(env, exports, "read", n_read);
  export_fn(env, exports, "readSpin", n_read_spin);
  export_fn(env, exports, "write", n_write);
  export_fn(env, exports, "writev", n_writev);
  export_fn(env, exports, "pread", n_pread);
  export_fn(env, exports, "preadNowait", n_pread_nowait);
  export_fn(env, exports, "fadviseWillneed", n_fadvise_willneed);
  export_fn(env, exports, "adviseHugePages", n_advise_huge_pages);
  export_fn(env, exports, "hugePageStart", n_huge_page_start);
  export_fn(env, exports, "pwrite", n_pwrite);
  export_fn(env, exports, "openat", n_openat);
  export_fn(env, exports, "close", n_close);
  export_fn(env, exports, "dup", n_dup);
  export_fn(env, exports, "setNonblock", n_set_nonblock);
  export_fn(env, exports, "setCloexec", n_set_cloexec);
  export_fn(env, exports, "fstatat", n_fstatat);
  export_fn(env, exports, "fstatfs", n_fstatfs);
  export_fn(env, exports, "mkdirat", n_mkdirat);
  export_fn(env, exports, "mknodat", n_mknodat);
  export_fn(env, exports, "symlinkat", n_symlinkat);
  export_fn(env, exports, "readlinkat", n_readlinkat);
  export_fn(env, exports, "unlinkat", n_unlinkat);
  export_fn(env, exports, "renameat2", n_renameat2);
  export_fn(env, exports, "linkat", n_linkat);
  export_fn(env, exports, "fchmodat", n_fchmodat);
  export_fn(env, exports, "fchownat", n_fchownat);
  export_fn(env, exports, "utimensat", n_utimensat);
  export_fn(env, exports, "truncate", n_truncate);
  export_fn(env, exports, "ftruncate", n_ftruncate);
  export_fn(env, exports, "fsync", n_fsync);
  export_fn(env, exports, "fallocate", n_fallocate);
  export_fn(env, exports, "lseek", n_lseek);
  export_fn(env, exports, "fuseBackingOpen", n_fuse_backing_open);
  export_fn(env, exports, "fuseBackingClose", n_fuse_backing_close);
  export_fn(env, exports, "copyFileRange", n_copy_file_range);
  export_fn(env, exports, "getdents", n_getdents);
  export_fn(env, exports, "getxattr", n_getxattr);
  export_fn(env, exports, "setxattr", n_setxattr);
  export_fn(env, exports, "listxattr", n_listxattr);
  export_fn(env, exports, "removexattr", n_removexattr);
  export_fn(env, exports, "mount", n_mount);
  export_fn(env, exports, "umount2", n_umount2);
  export_fn(env, exports, "raiseNofile", n_raise_nofile);
  export_fn(env, exports, "umask", n_umask);
  export_fn(env, exports, "setfsugid", n_setfsugid);
}
