/* The native part of nydusd, kept small: what Node cannot do by itself.
 * - poller.c: readiness callbacks on any fd (uv_poll), used to read /dev/fuse and sockets without
 *   blocking libuv threadpool workers;
 * - syscalls.c: the *at() family, xattrs, getdents64, mount/umount and friends for passthrough_fs;
 * - unix_socket.c: Unix sockets with SCM_RIGHTS descriptor passing and SO_PEERCRED, for the supervisor;
 * - codecs.c: zstd and lz4 block compression from the system libraries, for RAFS blobs;
 * - read_threads.c: threads that answer FUSE READs of files the daemon serves itself, off the main thread;
 * - dir_warm.c: directories read ahead on the libuv threadpool, for passthrough_fs listings;
 * - dir_cursor.c: host directory cursors, and listing replies packed from them, for passthrough_fs;
 * - erofs_listing.c: EROFS directory blocks packed into FUSE listing replies, for rafs.
 * Only daemon/src/native/index.ts loads this module. */
#include "common.h"

static napi_value init(napi_env env, napi_value exports) {
  register_poller(env, exports);
  register_syscalls(env, exports);
  register_unix_socket(env, exports);
  register_codecs(env, exports);
  register_read_threads(env, exports);
  register_dir_warm(env, exports);
  register_dir_cursor(env, exports);
  register_erofs_listing(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
