/* zstd and LZ4 block codecs from the system libraries (libzstd, liblz4), for RAFS chunk data.
 * Decompression writes into a caller-sized buffer (the chunk's known uncompressed size): a hostile
 * input can never make it allocate more. */
#include "common.h"
#include <zstd.h>
#include <lz4.h>

/* zstdDecompress(src, dst) -> bytes written | -1 (message via zstdError) */
static napi_value n_zstd_decompress(napi_env env, napi_callback_info info) {
  ARGS(2);
  uint8_t *src, *dst; size_t sl, dl;
  if (arg_bytes(env, argv[0], &src, &sl) < 0 || arg_bytes(env, argv[1], &dst, &dl) < 0) {
    napi_throw_type_error(env, NULL, "expected Buffers"); return NULL;
  }
  size_t r = ZSTD_decompress(dst, dl, src, sl);
  if (ZSTD_isError(r)) return num(env, -1);
  return num(env, (double)r);
}

/* zstdCompress(src, level) -> Buffer */
static napi_value n_zstd_compress(napi_env env, napi_callback_info info) {
  ARGS(2);
  uint8_t *src; size_t sl;
  if (arg_bytes(env, argv[0], &src, &sl) < 0) { napi_throw_type_error(env, NULL, "expected a Buffer"); return NULL; }
  size_t cap = ZSTD_compressBound(sl);
  void *tmp = malloc(cap ? cap : 1);
  if (!tmp) { napi_throw_error(env, NULL, "out of memory"); return NULL; }
  size_t r = ZSTD_compress(tmp, cap, src, sl, arg_int(env, argv[1]));
  if (ZSTD_isError(r)) { free(tmp); napi_throw_error(env, NULL, ZSTD_getErrorName(r)); return NULL; }
  napi_value b; void *data;
  napi_create_buffer_copy(env, r, tmp, &data, &b);
  free(tmp);
  return b;
}

/* lz4Decompress(src, dst) -> bytes written | -1 */
static napi_value n_lz4_decompress(napi_env env, napi_callback_info info) {
  ARGS(2);
  uint8_t *src, *dst; size_t sl, dl;
  if (arg_bytes(env, argv[0], &src, &sl) < 0 || arg_bytes(env, argv[1], &dst, &dl) < 0) {
    napi_throw_type_error(env, NULL, "expected Buffers"); return NULL;
  }
  if (sl > 0x7fffffff || dl > 0x7fffffff) return num(env, -1);
  int r = LZ4_decompress_safe((const char *)src, (char *)dst, (int)sl, (int)dl);
  return num(env, r < 0 ? -1 : r);
}

/* lz4Compress(src) -> Buffer (raw LZ4 block, no frame, no size prefix) */
static napi_value n_lz4_compress(napi_env env, napi_callback_info info) {
  ARGS(1);
  uint8_t *src; size_t sl;
  if (arg_bytes(env, argv[0], &src, &sl) < 0) { napi_throw_type_error(env, NULL, "expected a Buffer"); return NULL; }
  if (sl > LZ4_MAX_INPUT_SIZE) { napi_throw_range_error(env, NULL, "input too large for LZ4"); return NULL; }
  int cap = LZ4_compressBound((int)sl);
  void *tmp = malloc(cap ? cap : 1);
  if (!tmp) { napi_throw_error(env, NULL, "out of memory"); return NULL; }
  int r = LZ4_compress_default((const char *)src, tmp, (int)sl, cap);
  if (r <= 0 && sl > 0) { free(tmp); napi_throw_error(env, NULL, "LZ4 compression failed"); return NULL; }
  napi_value b; void *data;
  napi_create_buffer_copy(env, (size_t)r, tmp, &data, &b);
  free(tmp);
  return b;
}

void register_codecs(napi_env env, napi_value exports) {
  export_fn(env, exports, "zstdDecompress", n_zstd_decompress);
  export_fn(env, exports, "zstdCompress", n_zstd_compress);
  export_fn(env, exports, "lz4Decompress", n_lz4_decompress);
  export_fn(env, exports, "lz4Compress", n_lz4_compress);
}
