/* Readiness callbacks for a file descriptor on the main libuv loop (uv_poll, epoll underneath).
 * pollStart(fd, events, cb) -> handle; cb(status, events) runs on the main thread whenever the fd is ready.
 * pollStop(handle) stops watching (idempotent); the fd itself is never closed here. */
#include "common.h"
#include <uv.h>

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref cb;
  napi_async_context ctx;
  int active;
  int closed;    /* uv_close requested */
  int uv_done;   /* uv_close finished */
  int js_gone;   /* the JS handle was garbage collected */
} poller_t;

static void on_closed(uv_handle_t *h) {
  poller_t *p = (poller_t *)h->data;
  p->uv_done = 1;
  if (p->js_gone) free(p);
}

static void on_ready(uv_poll_t *h, int status, int events) {
  poller_t *p = (poller_t *)h->data;
  napi_env env = p->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, argv[2], result;
  napi_get_reference_value(env, p->cb, &cb);
  napi_get_global(env, &recv);
  argv[0] = num(env, status);
  argv[1] = num(env, events);
  napi_status st = napi_make_callback(env, p->ctx, recv, cb, 2, argv, &result);
  if (st == napi_pending_exception) {
    napi_value exc;
    napi_get_and_clear_last_exception(env, &exc);
    napi_fatal_exception(env, exc);
  }
  napi_close_handle_scope(env, scope);
}

static void close_poller(napi_env env, poller_t *p) {
  if (!p->closed) {
    p->closed = 1;
    uv_poll_stop(&p->poll);
    napi_delete_reference(env, p->cb);
    napi_async_destroy(env, p->ctx);
    uv_close((uv_handle_t *)&p->poll, on_closed);
  }
}

static void finalize_external(napi_env env, void *data, void *hint) {
  poller_t *p = (poller_t *)data;
  p->js_gone = 1;
  if (!p->closed) close_poller(env, p);
  else if (p->uv_done) free(p);
}

static napi_value poll_start(napi_env env, napi_callback_info info) {
  ARGS(3);
  int fd = arg_int(env, argv[0]);
  int events = arg_int(env, argv[1]);
  uv_loop_t *loop;
  NAPI_CALL(env, napi_get_uv_event_loop(env, &loop));
  poller_t *p = calloc(1, sizeof(*p));
  if (!p) { napi_throw_error(env, NULL, "out of memory"); return NULL; }
  p->env = env;
  int rc = uv_poll_init(loop, &p->poll, fd);
  if (rc != 0) { free(p); return num(env, rc); }
  p->poll.data = p;
  napi_create_reference(env, argv[2], 1, &p->cb);
  napi_value name;
  napi_create_string_utf8(env, "nydus.poll", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &p->ctx);
  rc = uv_poll_start(&p->poll, events, on_ready);
  if (rc != 0) { p->js_gone = 1; close_poller(env, p); return num(env, rc); }
  p->active = 1;
  napi_value ext;
  napi_create_external(env, p, finalize_external, NULL, &ext);
  return ext;
}

static poller_t *get_poller(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return (poller_t *)p;
}

static napi_value poll_update(napi_env env, napi_callback_info info) {
  ARGS(2);
  poller_t *p = get_poller(env, argv[0]);
  if (!p || p->closed) return num(env, -EBADF);
  int events = arg_int(env, argv[1]);
  int rc = events ? uv_poll_start(&p->poll, events, on_ready) : uv_poll_stop(&p->poll);
  p->active = events != 0;
  return num(env, rc);
}

static napi_value poll_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  poller_t *p = get_poller(env, argv[0]);
  if (!p) return num(env, -EBADF);
  close_poller(env, p);
  return num(env, 0);
}

void register_poller(napi_env env, napi_value exports) {
  export_fn(env, exports, "pollStart", poll_start);
  export_fn(env, exports, "pollUpdate", poll_update);
  export_fn(env, exports, "pollClose", poll_close);
}
