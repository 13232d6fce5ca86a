/* Unix stream sockets with descriptor passing (SCM_RIGHTS) and peer credentials (SO_PEERCRED).
 * All sockets are created non-blocking and close-on-exec; readiness comes from pollStart(). */
#include "common.h"
#include <fcntl.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#define MAX_FDS_PER_MSG 253

static int fill_addr(napi_env env, napi_value v, struct sockaddr_un *a) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  char path[PATH_CAP];
  int r = arg_path(env, v, path, sizeof path);
  if (r < 0) return r;
  if (strlen(path) >= sizeof a->sun_path) return -ENAMETOOLONG;
  strcpy(a->sun_path, path);
  return 0;
}

/* unixListen(path, backlog) -> fd | -errno (the caller removes a stale path first) */
static napi_value n_listen(napi_env env, napi_callback_info info) {
  ARGS(2);
  struct sockaddr_un a;
  int r = fill_addr(env, argv[0], &a);
  if (r < 0) return num(env, r);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return num(env, -errno);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, arg_int(env, argv[1])) < 0) {
    int e = errno;
    close(fd);
    return num(env, -e);
  }
  return num(env, fd);
}

/* unixConnect(path) -> fd | -errno; the connect completes at once for Unix sockets */
static napi_value n_connect(napi_env env, napi_callback_info info) {
  ARGS(1);
  struct sockaddr_un a;
  int r = fill_addr(env, argv[0], &a);
  if (r < 0) return num(env, r);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return num(env, -errno);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    int e = errno;
    close(fd);
    return num(env, -e);
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return num(env, fd);
}

/* socketPair() -> [fd, fd] | -errno */
static napi_value n_socketpair(napi_env env, napi_callback_info info) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0) return num(env, -errno);
  napi_value arr;
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, num(env, sv[0]));
  napi_set_element(env, arr, 1, num(env, sv[1]));
  return arr;
}

/* accept(fd) -> fd | -errno */
static napi_value n_accept(napi_env env, napi_callback_info info) {
  ARGS(1);
  return ret_errno(env, accept4(arg_int(env, argv[0]), NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC));
}

/* sendFds(fd, buf, off, len, [fds]) -> bytes sent | -errno; the fds ride on the first byte */
static napi_value n_sendmsg(napi_env env, napi_callback_info info) {
  ARGS(5);
  uint8_t *buf; size_t cap;
  if (arg_bytes(env, argv[1], &buf, &cap) < 0) { napi_throw_type_error(env, NULL, "expected a Buffer"); return NULL; }
  size_t off = (size_t)arg_i64(env, argv[2]), len = (size_t)arg_i64(env, argv[3]);
  if (off > cap || len > cap - off) return num(env, -EINVAL);
  uint32_t nfds = 0;
  napi_get_array_length(env, argv[4], &nfds);
  if (nfds > MAX_FDS_PER_MSG) return num(env, -EINVAL);
  struct iovec iov = { buf + off, len };
  struct msghdr m;
  memset(&m, 0, sizeof m);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  union { char b[CMSG_SPACE(sizeof(int) * MAX_FDS_PER_MSG)]; struct cmsghdr align; } ctl;
  if (nfds > 0) {
    memset(&ctl, 0, sizeof ctl);
    m.msg_control = ctl.b;
    m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    int *fds = (int *)CMSG_DATA(c);
    for (uint32_t i = 0; i < nfds; i++) {
      napi_value el;
      napi_get_element(env, argv[4], i, &el);
      fds[i] = arg_int(env, el);
    }
  }
  return ret_errno(env, sendmsg(arg_int(env, argv[0]), &m, MSG_NOSIGNAL));
}

/* recvFds(fd, buf, off, len) -> { n, fds: number[], truncated } | -errno. n = 0 is EOF. */
static napi_value n_recvmsg(napi_env env, napi_callback_info info) {
  ARGS(4);
  uint8_t *buf; size_t cap;
  if (arg_bytes(env, argv[1], &buf, &cap) < 0) { napi_throw_type_error(env, NULL, "expected a Buffer"); return NULL; }
  size_t off = (size_t)arg_i64(env, argv[2]), len = (size_t)arg_i64(env, argv[3]);
  if (off > cap || len > cap - off) return num(env, -EINVAL);
  struct iovec iov = { buf + off, len };
  struct msghdr m;
  memset(&m, 0, sizeof m);
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  union { char b[CMSG_SPACE(sizeof(int) * MAX_FDS_PER_MSG)]; struct cmsghdr align; } ctl;
  m.msg_control = ctl.b;
  m.msg_controllen = sizeof ctl.b;
  ssize_t n = recvmsg(arg_int(env, argv[0]), &m, MSG_CMSG_CLOEXEC);
  if (n < 0) return num(env, -errno);
  napi_value res, fds;
  napi_create_object(env, &res);
  napi_create_array(env, &fds);
  uint32_t k = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int *p = (int *)CMSG_DATA(c);
    for (size_t i = 0; i < cnt; i++) napi_set_element(env, fds, k++, num(env, p[i]));
  }
  napi_value trunc;
  napi_get_boolean(env, (m.msg_flags & MSG_CTRUNC) != 0, &trunc);
  napi_set_named_property(env, res, "n", num(env, (double)n));
  napi_set_named_property(env, res, "fds", fds);
  napi_set_named_property(env, res, "truncated", trunc);
  return res;
}

/* peerCred(fd) -> { pid, uid, gid } | -errno */
static napi_value n_peercred(napi_env env, napi_callback_info info) {
  ARGS(1);
  struct ucred cr;
  socklen_t l = sizeof cr;
  if (getsockopt(arg_int(env, argv[0]), SOL_SOCKET, SO_PEERCRED, &cr, &l) < 0) return num(env, -errno);
  napi_value res;
  napi_create_object(env, &res);
  napi_set_named_property(env, res, "pid", num(env, cr.pid));
  napi_set_named_property(env, res, "uid", num(env, cr.uid));
  napi_set_named_property(env, res, "gid", num(env, cr.gid));
  return res;
}

void register_unix_socket(napi_env env, napi_value exports) {
  export_fn(env, exports, "unixListen", n_listen);
  export_fn(env, exports, "unixConnect", n_connect);
  export_fn(env, exports, "socketPair", n_socketpair);
  export_fn(env, exports, "accept", n_accept);
  export_fn(env, exports, "sendFds", n_sendmsg);
  export_fn(env, exports, "recvFds", n_recvmsg);
  export_fn(env, exports, "peerCred", n_peercred);
}
