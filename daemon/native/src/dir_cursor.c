/* Host directory cursors for passthrough_fs, and FUSE listing replies packed from them.
 *
 * A cursor reads one directory fd with getdents64 and numbers its entries: the n-th entry the host returned since
 * the start of the listing has cookie n (the host's own d_off values are 63-bit hashes on ext4, which a JS number
 * cannot carry). Entries read but not yet passed by a later request's offset stay pending, so a reply cut short
 * loses nothing; an offset before them rewinds and reads forward. passthrough/dir-cursor.ts wraps it.
 *
 * dirCursorCreate(fd, consumed): a cursor (an external; freed when collected; the fd stays the caller's) whose fd
 *   has already returned `consumed` entries.
 * dirCursorRead(cursor, offset, size, out, result): the entries after cookie `offset` that fit in a `size`-byte
 *   READDIR reply (at least one), as linux_dirent64 records copied into `out`: their byte length (0 at the end of
 *   the directory) or -errno; result[0] = the cookie of the first one.
 * dirCursorPosition(cursor): the cookie of the fd's position (for a handover).
 * dirCursorPack(cursor, msg, plus, maxWrite, out, result): the complete reply to `msg`, a READDIR or (plus) a
 *   names-only READDIRPLUS (every entry_out zero: nodeid 0, which the kernel takes like READDIR), written into
 *   `out`: its length, or 0 when the request is left to the handlers: a malformed request, a host error, or a
 *   subdirectory among the entries it would send when those need more than a name (READDIRPLUS: its entry spares
 *   the walker a LOOKUP; the start of a listing: its subdirectories are read ahead). result[0] = non-directories
 *   sent, result[1] = 1 when the reply is the end of the listing (nothing left to send).
 * A find walk of a directory without subdirectories is then two requests answered here and no JavaScript. */
#include "common.h"
#include <dirent.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BATCH_BYTES (32 * 1024)
#define IN_HEADER 40
#define OUT_HEADER 16
#define READ_IN 40
#define ENTRY_OUT 128
#define FUSE_READDIR 28
#define FUSE_READDIRPLUS 44

typedef struct {
  int fd;
  double consumed;  /* cookie of the last entry read from the host */
  char *buf;        /* the last batch read; pending entries are buf[pos..len) */
  long len, pos;
  double pos_cookie; /* cookie of the entry before buf[pos] */
} cursor;

static void cursor_finalize(napi_env env, void *data, void *hint) {
  cursor *c = data;
  free(c->buf);
  free(c);
}

static cursor *arg_cursor(napi_env env, napi_value v) {
  void *data = NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok) return NULL;
  return data;
}

static size_t fuse_dirent_size(size_t namelen, int plus) {
  return (plus ? ENTRY_OUT : 0) + ((24 + namelen + 7) & ~(size_t)7);
}

static inline struct dirent64_raw *at(cursor *c, long pos) {
  return (struct dirent64_raw *)(c->buf + pos);
}

/* Drops pending entries whose cookie is <= offset. */
static void drop_up_to(cursor *c, double offset) {
  while (c->pos < c->len && c->pos_cookie + 1 <= offset) {
    c->pos += at(c, c->pos)->reclen;
    c->pos_cookie++;
  }
}

/* Reads the next batch: 1, 0 at the end of the directory, or -errno. */
static int fill(cursor *c) {
  if (!c->buf && !(c->buf = malloc(BATCH_BYTES))) return -ENOMEM;
  long n = syscall(SYS_getdents64, c->fd, c->buf, BATCH_BYTES);
  if (n < 0) return -errno;
  /* Records the kernel would never write (a zero or overlong reclen) end the batch there. */
  long valid = 0, count = 0;
  while (valid + 19 < n) {
    unsigned short reclen = at(c, valid)->reclen;
    if (reclen < 20 || valid + reclen > n) break;
    valid += reclen;
    count++;
  }
  c->pos_cookie = c->consumed;
  c->pos = 0;
  c->len = valid;
  c->consumed += count;
  return n == 0 ? 0 : 1;
}

/* Positions the pending window at the first entry after `offset`: 1, 0 at the end, or -errno. */
static int seek_to(cursor *c, double offset) {
  if (offset < c->pos_cookie) {
    if (lseek(c->fd, 0, SEEK_SET) < 0) return -errno;
    c->consumed = 0;
    c->pos = c->len = 0;
    c->pos_cookie = 0;
  }
  drop_up_to(c, offset);
  while (c->pos >= c->len) {
    int rc = fill(c);
    if (rc <= 0) return rc;
    drop_up_to(c, offset);
  }
  return 1;
}

static napi_value n_create(napi_env env, napi_callback_info info) {
  ARGS(2);
  cursor *c = calloc(1, sizeof(*c));
  if (!c) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  c->fd = arg_int(env, argv[0]);
  c->consumed = (double)arg_i64(env, argv[1]);
  c->pos_cookie = c->consumed;
  napi_value ext;
  if (napi_create_external(env, c, cursor_finalize, NULL, &ext) != napi_ok) {
    free(c);
    napi_throw_error(env, NULL, "napi_create_external failed");
    return NULL;
  }
  return ext;
}

static napi_value n_position(napi_env env, napi_callback_info info) {
  ARGS(1);
  cursor *c = arg_cursor(env, argv[0]);
  return num(env, c ? c->consumed : -EINVAL);
}

static napi_value n_read(napi_env env, napi_callback_info info) {
  ARGS(5);
  cursor *c = arg_cursor(env, argv[0]);
  double offset = (double)arg_i64(env, argv[1]);
  int64_t size = arg_i64(env, argv[2]);
  uint8_t *out, *res;
  size_t out_len, res_len;
  if (!c || arg_bytes(env, argv[3], &out, &out_len) < 0 || arg_bytes(env, argv[4], &res, &res_len) < 0
      || res_len < sizeof(double) || out_len < BATCH_BYTES) {
    return num(env, -EINVAL);
  }
  int rc = seek_to(c, offset);
  if (rc <= 0) return num(env, rc);
  long end = c->pos;
  size_t used = 0;
  while (end < c->len) {
    struct dirent64_raw *d = at(c, end);
    used += fuse_dirent_size(strnlen(d->name, d->reclen - 19), 0);
    if (end > c->pos && used > (size_t)size) break;
    end += d->reclen;
  }
  memcpy(out, c->buf + c->pos, end - c->pos);
  ((double *)res)[0] = c->pos_cookie + 1;
  return num(env, (double)(end - c->pos));
}

static napi_value n_pack(napi_env env, napi_callback_info info) {
  ARGS(6);
  cursor *c = arg_cursor(env, argv[0]);
  uint8_t *msg, *out, *res;
  size_t msg_len, out_len, res_len;
  bool plus = false;
  napi_get_value_bool(env, argv[2], &plus);
  int64_t max_write = arg_i64(env, argv[3]);
  if (!c || arg_bytes(env, argv[1], &msg, &msg_len) < 0 || arg_bytes(env, argv[4], &out, &out_len) < 0
      || arg_bytes(env, argv[5], &res, &res_len) < 0 || res_len < 2 * sizeof(double)
      || msg_len < IN_HEADER + READ_IN) {
    return num(env, 0);
  }
  uint32_t opcode;
  memcpy(&opcode, msg + 4, 4);
  if (opcode != (plus ? FUSE_READDIRPLUS : FUSE_READDIR)) return num(env, 0);
  uint64_t offset64;
  uint32_t size;
  memcpy(&offset64, msg + IN_HEADER + 8, 8);
  memcpy(&size, msg + IN_HEADER + 16, 4);
  if (offset64 > (1ULL << 53)) return num(env, 0);
  double offset = (double)offset64;
  if (max_write > 0 && size > (uint64_t)max_write) size = (uint32_t)max_write;
  if (out_len < OUT_HEADER + (size_t)size) return num(env, 0);

  int rc = seek_to(c, offset);
  if (rc < 0) return num(env, 0);
  size_t used = OUT_HEADER;
  double names = 0;
  if (rc > 0) {
    /* The entries that fit, and whether one of them needs the handlers. */
    long end = c->pos;
    while (end < c->len) {
      struct dirent64_raw *d = at(c, end);
      size_t namelen = strnlen(d->name, d->reclen - 19);
      size_t rec = fuse_dirent_size(namelen, plus);
      if (used + rec > OUT_HEADER + (size_t)size) break;
      if (d->type == DT_DIR && !is_dot_or_dotdot(d->name, namelen) && (plus || offset == 0)) return num(env, 0);
      used += rec;
      end += d->reclen;
    }
    if (end == c->pos) return num(env, 0); /* not even one fits: the handlers say so */
    used = OUT_HEADER;
    double cookie = c->pos_cookie;
    for (long p = c->pos; p < end; p += at(c, p)->reclen) {
      struct dirent64_raw *d = at(c, p);
      uint32_t namelen = (uint32_t)strnlen(d->name, d->reclen - 19);
      size_t rec = fuse_dirent_size(namelen, plus);
      memset(out + used, 0, rec);
      uint8_t *dirent = out + used + (plus ? ENTRY_OUT : 0);
      uint64_t ino = d->ino, off = (uint64_t)++cookie;
      uint32_t type = d->type;
      memcpy(dirent, &ino, 8);
      memcpy(dirent + 8, &off, 8);
      memcpy(dirent + 16, &namelen, 4);
      memcpy(dirent + 20, &type, 4);
      memcpy(dirent + 24, d->name, namelen);
      if (d->type != DT_DIR) names++;
      used += rec;
    }
  }
  uint32_t len = (uint32_t)used;
  int32_t error = 0;
  memcpy(out, &len, 4);
  memcpy(out + 4, &error, 4);
  memcpy(out + 8, msg + 8, 8); /* unique */
  ((double *)res)[0] = names;
  ((double *)res)[1] = rc == 0 ? 1 : 0;
  return num(env, (double)used);
}

void register_dir_cursor(napi_env env, napi_value exports) {
  export_fn(env, exports, "dirCursorCreate", n_create);
  export_fn(env, exports, "dirCursorRead", n_read);
  export_fn(env, exports, "dirCursorPosition", n_position);
  export_fn(env, exports, "dirCursorPack", n_pack);
}
