/* Reading directories ahead on the libuv threadpool, so that the host has them cached before they are listed.
 *
 * warmDirectory(parentFd, name, levels, cb): on the threadpool, opens `name` in the directory parentFd (a copy of
 * the fd is taken at once, so the caller may close its own), never following a symlink, and reads all its entries
 * (getdents64). Below it, with levels 1, the inode of every subdirectory (fstatat); with more levels, every
 * subdirectory the same way, one level less (at most 4). Everything is closed, then cb(count, diskBlocks) runs on
 * the main thread with the number of entries read (or -errno) and the 512-byte blocks the work read from the disk
 * (getrusage RUSAGE_THREAD ru_inblock; 0: the host had it all cached). Only counts come back: the point is the
 * host's caches. Returns 0, or -errno when nothing was queued (cb is then never called). */
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct {
  napi_async_work work;
  napi_ref cb;
  int parent_fd;
  int levels;
  long result;
  long disk_blocks;
  char name[];
} warm_job;

/* Reads the directory `fd` (owned: closed here) and the inode of each subdirectory; with levels > 1, the
 * subdirectories' own listings too, down to `levels`. Returns the entries read, or -errno. */
static long warm_dir(int fd, int levels) {
  char buf[16384];
  long count = 0;
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
    if (n < 0) {
      count = count ? count : -errno;
      break;
    }
    if (n == 0) break;
    for (long pos = 0; pos < n;) {
      struct dirent64_raw *d = (struct dirent64_raw *)(buf + pos);
      if (d->reclen == 0) break;
      pos += d->reclen;
      count++;
      if (d->type != DT_DIR || is_dot_or_dotdot(d->name, strlen(d->name))) continue;
      if (levels > 1) {
        int sub = openat(fd, d->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub >= 0) {
          long m = warm_dir(sub, levels - 1);
          if (m > 0) count += m;
        }
      } else {
        struct stat st;
        (void)fstatat(fd, d->name, &st, AT_SYMLINK_NOFOLLOW);
      }
    }
  }
  close(fd);
  return count;
}

static void warm_execute(napi_env env, void *data) {
  warm_job *job = data;
  struct rusage before, after;
  int timed = getrusage(RUSAGE_THREAD, &before) == 0;
  int fd = openat(job->parent_fd, job->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  close(job->parent_fd);
  job->result = fd < 0 ? -errno : warm_dir(fd, job->levels);
  job->disk_blocks = timed && getrusage(RUSAGE_THREAD, &after) == 0 ? after.ru_inblock - before.ru_inblock : -1;
}

static void warm_complete(napi_env env, napi_status status, void *data) {
  warm_job *job = data;
  napi_value cb, recv, args[2], result;
  if (napi_get_reference_value(env, job->cb, &cb) == napi_ok && cb) {
    napi_get_global(env, &recv);
    args[0] = num(env, status == napi_ok ? (double)job->result : -ECANCELED);
    args[1] = num(env, status == napi_ok ? (double)job->disk_blocks : -1);
    napi_call_function(env, recv, cb, 2, args, &result);
  }
  napi_delete_reference(env, job->cb);
  napi_delete_async_work(env, job->work);
  free(job);
}

static napi_value n_warm_directory(napi_env env, napi_callback_info info) {
  ARGS(4);
  char path[PATH_CAP];
  int rc = arg_path(env, argv[1], path, sizeof(path));
  if (rc < 0) return num(env, rc);
  warm_job *job = calloc(1, sizeof(*job) + strlen(path) + 1);
  if (!job) return num(env, -ENOMEM);
  strcpy(job->name, path);
  job->levels = arg_int(env, argv[2]);
  if (job->levels < 1) job->levels = 1;
  if (job->levels > 4) job->levels = 4;
  job->parent_fd = fcntl(arg_int(env, argv[0]), F_DUPFD_CLOEXEC, 0);
  if (job->parent_fd < 0) {
    int err = errno;
    free(job);
    return num(env, -err);
  }
  napi_value name;
  napi_create_string_utf8(env, "nydus.warmDirectory", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, argv[3], 1, &job->cb);
  int created = napi_create_async_work(env, NULL, name, warm_execute, warm_complete, job, &job->work) == napi_ok;
  if (!created || napi_queue_async_work(env, job->work) != napi_ok) {
    if (created) napi_delete_async_work(env, job->work);
    napi_delete_reference(env, job->cb);
    close(job->parent_fd);
    free(job);
    return num(env, -EAGAIN);
  }
  return num(env, 0);
}

void register_dir_warm(napi_env env, napi_value exports) {
  export_fn(env, exports, "warmDirectory", n_warm_directory);
}
