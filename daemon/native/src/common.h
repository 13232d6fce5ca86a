/* Shared helpers for the addon's files: argument decoding and value creation for N-API.
 * Every syscall wrapper returns its result or -errno as a JS number; none throws for an OS error.
 * They throw only for misuse (wrong argument types), which is a bug in the TypeScript caller. */
#ifndef NYDUS_NATIVE_COMMON_H
#define NYDUS_NATIVE_COMMON_H
#include <node_api.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

#define NAPI_CALL(env, call)                                             \
  do {                                                                   \
    if ((call) != napi_ok) {                                             \
      napi_throw_error((env), NULL, "native call failed: " #call);       \
      return NULL;                                                       \
    }                                                                    \
  } while (0)

#define ARGS(n)                                                          \
  size_t argc = (n);                                                     \
  napi_value argv[(n) > 0 ? (n) : 1];                                    \
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))

static inline napi_value num(napi_env env, double v) {
  napi_value r;
  napi_create_double(env, v, &r);
  return r;
}

static inline napi_value ret_errno(napi_env env, long rc) {
  return num(env, rc < 0 ? -(double)errno : (double)rc);
}

static inline int64_t arg_i64(napi_env env, napi_value v) {
  double d = 0;
  napi_get_value_double(env, v, &d);
  return (int64_t)d;
}

static inline int arg_int(napi_env env, napi_value v) {
  int32_t i = 0;
  napi_get_value_int32(env, v, &i);
  return i;
}

/* A name or path given as a string (UTF-8) or a Buffer (raw bytes), copied NUL-terminated into out. */
static inline int arg_path(napi_env env, napi_value v, char *out, size_t cap) {
  bool isbuf = false;
  napi_is_buffer(env, v, &isbuf);
  if (isbuf) {
    void *data; size_t len;
    napi_get_buffer_info(env, v, &data, &len);
    if (len >= cap || memchr(data, 0, len)) return -ENAMETOOLONG;
    memcpy(out, data, len);
    out[len] = 0;
    return 0;
  }
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, out, cap, &len) != napi_ok) return -EINVAL;
  if (len >= cap - 1) return -ENAMETOOLONG;
  return 0;
}

/* A Buffer (or any TypedArray) as bytes. */
static inline int arg_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  bool isbuf = false;
  napi_is_buffer(env, v, &isbuf);
  if (isbuf) return napi_get_buffer_info(env, v, (void **)data, len) == napi_ok ? 0 : -EINVAL;
  bool ista = false;
  napi_is_typedarray(env, v, &ista);
  if (!ista) return -EINVAL;
  napi_typedarray_type t; size_t n; void *d; napi_value ab; size_t off;
  if (napi_get_typedarray_info(env, v, &t, &n, &d, &ab, &off) != napi_ok) return -EINVAL;
  size_t elt = (t == napi_float64_array || t == napi_bigint64_array || t == napi_biguint64_array) ? 8
             : (t == napi_int32_array || t == napi_uint32_array || t == napi_float32_array) ? 4
             : (t == napi_int16_array || t == napi_uint16_array) ? 2 : 1;
  *data = d; *len = n * elt;
  return 0;
}

#define PATH_CAP 4352

/* "." or "..", given as `len` bytes (not NUL-terminated). */
static inline int is_dot_or_dotdot(const void *name, size_t len) {
  const char *n = name;
  return (len == 1 && n[0] == '.') || (len == 2 && n[0] == '.' && n[1] == '.');
}

/* A record of getdents64 (struct linux_dirent64). */
struct dirent64_raw {
  uint64_t ino;
  int64_t off;
  unsigned short reclen;
  unsigned char type;
  char name[];
};

void register_poller(napi_env env, napi_value exports);
void register_syscalls(napi_env env, napi_value exports);
void register_unix_socket(napi_env env, napi_value exports);
void register_codecs(napi_env env, napi_value exports);
void register_read_threads(napi_env env, napi_value exports);
void register_dir_warm(napi_env env, napi_value exports);
void register_dir_cursor(napi_env env, napi_value exports);
void register_erofs_listing(napi_env env, napi_value exports);

static inline void export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}
#endif
