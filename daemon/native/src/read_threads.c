/* Threads that answer FUSE READs of registered file handles with pread(2), off the main thread.
 *
 * The JS server is one thread; a file it serves itself (not handed to the kernel's passthrough) is read there,
 * so several readers of such a file are served one at a time. These threads read the same /dev/fuse fd as the
 * main loop (any reader of the fd may take any request, and a reply may be written by any of them). A READ of a
 * registered (nodeid, fh) is answered here; every other message is queued and handed to the main thread.
 * While no handle is registered, or while paused, the threads do not read the fd at all; nor do they once IDLE_MS
 * have passed without a READ for them: the main thread then reads everything itself (without the hop through
 * them), and a READ of a registered handle that reaches it wakes them (readThreadsWake). While they read, the main
 * thread may leave every request to them; so whenever all of them have stopped, onMessages is called with idle
 * true, telling it to read again.
 *
 * readThreadsStart(fuseFd, threads, msgBufSize, maxRead, onMessages(Buffer[], idle), spinUs) -> handle | -errno
 *   spinUs: after answering a READ from the page cache, a thread keeps reading the fd for an adaptive window of up
 *   to spinUs microseconds before it sleeps (see spin below); 0: it sleeps at once.
 * readThreadsAdd(h, nodeid, fh, fd, tag)   readThreadsRemove(h, nodeid, fh) -> 0 | -ENOENT
 *   A removal waits for a pread in progress on that handle, so the caller may close the fd afterwards; after the
 *   last one, the threads have stopped reading when it returns. Adding a handle already there counts one more
 *   registration of it (the first one's way of reading stays); it goes at the last removal.
 * readThreadsAddExtents(h, nodeid, fh, tag, size, Float64Array [fileOffset, length, fd, fdOffset, ...]) -> 0 | -errno
 *   The handle's file is `size` bytes made of these pieces, in order and without gaps (fd -1: zeros). A READ is
 *   answered from them; one whose pread comes back short or failing goes to the main thread, which reports it.
 * readThreadsWake(h): the threads read again, for IDLE_MS at least.   readThreadsActive(h) -> 1 | 0: whether they read now.
 * readThreadsPause(h, maxMs) -> Buffer[] | -EAGAIN: the threads stop reading; returns the messages they had read but
 *   not handed over, once every thread has parked. A thread busy with a READ parks when it has answered it, so
 *   after maxMs (< 0: no limit) without that (a READ stuck on hung storage) it returns -EAGAIN instead: the threads
 *   stay paused, and a later call (or readThreadsResume) goes on from there.
 * readThreadsResume(h)   readThreadsClose(h) -> Buffer[] (as pause, then the threads end)
 * readThreadsStats(h) -> number[]: per tag with reads since the last call: tag, count, errors, bytes, totalNs,
 *   maxNs, then BUCKETS latency buckets (log2 microseconds, as the JS metrics); the counters restart at zero.
 * readThreadsHoldLoop(h, on): while on, the threads keep the event loop alive (as the main thread's poll did).
 * readThreadsStalled(h, ms) -> 1 | 0: every thread has been answering one READ for ms or more.
 * readThreadsServe(h, msg) -> 1 | 0: the main thread read a READ of a registered handle (the threads were idle, or
 *   all stuck): 1 when a thread will answer it (a copy is queued for them and they read again), 0 when the main
 *   thread must (paused, not registered, too many queued). One that a thread cannot answer after all comes back
 *   through onMessages as a Buffer with handedBack true; pausing hands back those no thread has taken yet.
 * readThreadsGrow(h, max) -> threads now | 0: starts one more thread, up to max in all (0: none started). Meant for
 *   when every thread is stuck in a READ of storage that hangs: a further READ of it then waits in the new thread,
 *   not in the main thread, which a READ reaching it would otherwise hold up (its small reads are synchronous).
 *   Threads added so stay until readThreadsShrink.
 * readThreadsShrink(h, keep) -> threads now | 0: ends the threads past the first `keep`, if every thread is parked
 *   (idle: none can be stuck in a READ, so joining them waits for nothing); 0 when nothing was ended.
 * readThreadsEmptyReads(h) -> number: times a thread woke for a request and found none left (since the start).
 * readThreadsSpinReads(h) -> number: requests a thread read while spinning after a READ (since the start).
 * readThreadsFetchesAround(h) -> number: READs of image extents that waited for the disk, each of which read the
 *   piece of the image around it ahead (since the start; see fetch_around). */
#include "common.h"
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define FUSE_READ_OPCODE 15
#define IN_HEADER 40
#define READ_IN 40
#define OUT_HEADER 16
#define BUCKETS 32
#define TAGS 16
#define TABLE_BUCKETS 256
#define MAX_THREADS 64
/* READs handed over by the main thread and not yet taken by a thread, at most (past that, it answers them). */
#define MAX_HANDED 64
/* The threads stop reading this long after the last READ they answered (or the last wake). */
#define IDLE_MS 100
/* How long the last removal waits for the threads to park. */
#define PARK_WAIT_MS 50

/* [file_off, file_off + len) of the file is [fd_off, fd_off + len) of fd; fd -1: zeros. */
typedef struct {
  uint64_t file_off, len, fd_off;
  int fd;
} extent;

#define MAX_EXTENTS 65536
#define MAX_SAFE_INTEGER 9007199254740991.0

typedef struct handle_entry {
  struct handle_entry *next;
  uint64_t nodeid, fh;
  int fd;          /* without extents: the READ's offset is the fd's */
  int tag;
  int refs;        /* registrations of this (nodeid, fh) */
  int users;       /* atomic: threads reading through it now */
  int removed;     /* atomic: out of the table; its remover waits for users to reach 0 */
  uint64_t size;   /* with extents: the file's size */
  uint32_t n_ext;
  extent *ext;
} handle_entry;

typedef struct message {
  struct message *next;
  size_t len;
  int handed_back;  /* a READ the main thread handed over (readThreadsServe) that goes back to it unanswered */
  uint8_t data[];
} message;

typedef struct {
  uint64_t count, errors, bytes, total_ns, max_ns;
  uint64_t buckets[BUCKETS];
} tag_stats;

struct read_threads;

/* One thread's own buffers: the message it read and the data it reads for a reply. */
typedef struct {
  struct read_threads *s;
  pthread_t thread;
  uint8_t *msg, *data;
  /* Its own epoll set: /dev/fuse exclusively, the kick eventfd not (-1: plain poll() instead). With every thread
   * in poll() on the fd, each request woke all of them, and all but one found nothing to read: on this VM, whose
   * kernel runs the woken threads on one vCPU, fio's 4 KiB O_DIRECT reads with 1 job went from 33,000 IOPS with
   * 1 thread to 28,000 with 3 and 18,000 with 8. EPOLLEXCLUSIVE wakes one sleeping thread per request. */
  int epfd;
  uint64_t busy_since;  /* atomic, CLOCK_MONOTONIC ns: handling a message it read since then; 0: not */
  /* Its spin after a READ (see adapt_spin): the window now, and when the last one ran out (0: accounted for). */
  uint64_t spin_ns, dry_at;
  int retire;           /* set under mu by readThreadsShrink while it is parked: it ends instead of reading again */
} worker;

typedef struct read_threads {
  int fuse_fd, kick_fd;
  int handed_fd;                /* eventfd, readable while `handed` holds READs (see readThreadsServe) */
  int nthreads;                 /* threads running (set under mu, by the main thread only) */
  size_t msg_size, max_read;
  uint64_t spin_max_ns;         /* the longest spin after a READ (0: none) */
  uint64_t waited_at;           /* atomic, CLOCK_MONOTONIC ns: when a READ last waited for the disk */
  worker workers[MAX_THREADS];

  pthread_mutex_t mu;           /* guards the flags and counters below */
  pthread_cond_t wake;          /* parked threads wait here */
  pthread_cond_t parked_cv;     /* pause() waits here for every thread to park */
  int registered, paused, exiting, dead, parked;
  int went_idle;                /* atomic: every thread parked since the main thread last heard */
  message *handed_head, *handed_tail; /* READs the main thread read and handed over, to be answered here */
  int handed;                   /* atomic, changed under mu: how many (read outside mu, a hint only) */
  uint64_t active_until;        /* atomic, CLOCK_MONOTONIC ns: the threads read until then */
  uint64_t empty_reads;         /* atomic: wake-ups that found no request left to read (another reader took it) */
  uint64_t spin_reads;          /* atomic: requests read during a spin after a READ (see the spin below) */
  uint64_t fetches_around;      /* atomic: READs that waited for the disk and read the image around them ahead */

  pthread_rwlock_t table_lock;  /* read: a lookup; write: add, remove */
  pthread_mutex_t users_mu;     /* with users_cv: a removal waits for the entry's last user */
  pthread_cond_t users_cv;
  handle_entry *table[TABLE_BUCKETS];

  pthread_mutex_t queue_mu;
  message *queue_head, *queue_tail;

  tag_stats stats[TAGS];

  uv_async_t async;
  napi_env env;
  napi_ref cb;
  napi_async_context ctx;
  int closed, uv_done, js_gone;
} read_threads;

static unsigned slot(uint64_t nodeid, uint64_t fh) {
  uint64_t h = nodeid * 0x9E3779B97F4A7C15ULL ^ fh * 0xC2B2AE3D27D4EB4FULL;
  return (unsigned)(h >> 56) % TABLE_BUCKETS;
}

static handle_entry *find_entry(read_threads *s, uint64_t nodeid, uint64_t fh) {
  for (handle_entry *e = s->table[slot(nodeid, fh)]; e; e = e->next)
    if (e->nodeid == nodeid && e->fh == fh) return e;
  return NULL;
}

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static void keep_active(read_threads *s) {
  __atomic_store_n(&s->active_until, now_ns() + IDLE_MS * 1000000ULL, __ATOMIC_RELAXED);
}

/* Milliseconds the threads still read for (0: idle). */
static int active_ms(read_threads *s) {
  uint64_t until = __atomic_load_n(&s->active_until, __ATOMIC_RELAXED), now = now_ns();
  return until > now ? (int)((until - now) / 1000000ULL) + 1 : 0;
}

static void record(read_threads *s, int tag, uint64_t ns, int failed, uint64_t bytes) {
  tag_stats *t = &s->stats[tag];
  __atomic_fetch_add(&t->count, 1, __ATOMIC_RELAXED);
  if (failed) __atomic_fetch_add(&t->errors, 1, __ATOMIC_RELAXED);
  __atomic_fetch_add(&t->bytes, bytes, __ATOMIC_RELAXED);
  __atomic_fetch_add(&t->total_ns, ns, __ATOMIC_RELAXED);
  uint64_t max = __atomic_load_n(&t->max_ns, __ATOMIC_RELAXED);
  while (ns > max && !__atomic_compare_exchange_n(&t->max_ns, &max, ns, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
  uint64_t us = ns / 1000;
  int b = 0;
  while (us > 0 && b < BUCKETS - 1) { us >>= 1; b++; }
  __atomic_fetch_add(&t->buckets[b], 1, __ATOMIC_RELAXED);
}

static void write_reply(int fuse_fd, uint64_t unique, int error, const uint8_t *data, size_t len) {
  uint8_t header[OUT_HEADER];
  uint32_t total = (uint32_t)(OUT_HEADER + len);
  int32_t err = error;
  memcpy(header, &total, 4);
  memcpy(header + 4, &err, 4);
  memcpy(header + 8, &unique, 8);
  struct iovec iov[2] = { { header, OUT_HEADER }, { (void *)data, len } };
  /* ENOENT: the request was interrupted and the kernel no longer waits for it; nothing else can be done. */
  (void)writev(fuse_fd, iov, len ? 2 : 1);
}

/* Where a READ of an image's extents first had to wait for the disk: the piece of the image file around it is then
 * read into the page cache too, in the background (see fetch_around). */
typedef struct {
  const extent *x;  /* NULL: every byte was in the page cache */
  uint64_t fd_pos;
} cache_miss;

/* An image's bytes that one READ had to wait for the disk for are fetched with their neighbours: the aligned
 * AROUND_BYTES of the image file around them (within the extent), read ahead into the page cache
 * (POSIX_FADV_WILLNEED) once the READ is answered. Random reads then find what lies near earlier ones in memory,
 * as squashfuse's do through its 128 KiB blocks and upstream nydusd's through its amplified reads (amplify_io).
 * Sequential reads are the kernel's read-ahead's, which this does not change; passthrough_fs reads are left as
 * they are. */
#define AROUND_BYTES (128 * 1024)

static void fetch_around(read_threads *s, const cache_miss *miss) {
  const extent *x = miss->x;
  uint64_t start = miss->fd_pos & ~(uint64_t)(AROUND_BYTES - 1), end = start + AROUND_BYTES;
  if (start < x->fd_off) start = x->fd_off;
  if (end > x->fd_off + x->len) end = x->fd_off + x->len;
  if (end > start) (void)posix_fadvise(x->fd, (off_t)start, (off_t)(end - start), POSIX_FADV_WILLNEED);
  __atomic_fetch_add(&s->fetches_around, 1, __ATOMIC_RELAXED);
}

/* Reads [pos, pos + n) of fd into `to`: from the page cache if it holds them all (RWF_NOWAIT), else waiting for the
 * disk, noting the first such miss. Returns 0, or -1 when the read comes back short or failing. */
static int read_piece(const extent *x, uint8_t *to, size_t n, uint64_t pos, cache_miss *miss) {
  struct iovec iov = { to, n };
  ssize_t got = preadv2(x->fd, &iov, 1, (off_t)pos, RWF_NOWAIT);
  if (got == (ssize_t)n) return 0;
  size_t done = got > 0 ? (size_t)got : 0;
  if (got < 0 && errno != EAGAIN && errno != EOPNOTSUPP) return -1;
  if (!miss->x) { miss->x = x; miss->fd_pos = pos + done; }
  return pread(x->fd, to + done, n - done, (off_t)(pos + done)) == (ssize_t)(n - done) ? 0 : -1;
}

/* Whether a READ waited for the disk decides whether its thread spins afterwards (see the spin below): none does
 * while any READ has waited in the last DISK_QUIET_NS. Where some reads wait for the disk, the others (pages read
 * ahead around them) are no better off with a spin either: fio with 1 job on a chunked rafs image, page cache
 * dropped, took 878 against 810 ms with a spin after every READ answered from the page cache. */
#define DISK_QUIET_NS (20 * 1000000ULL)

static int disk_busy(read_threads *s) {
  uint64_t at = __atomic_load_n(&s->waited_at, __ATOMIC_RELAXED);
  return at && now_ns() < at + DISK_QUIET_NS;
}

/* While no READ has waited lately, a read tries the page cache alone first (RWF_NOWAIT), which tells for sure. While
 * some have, that try would mostly cost a syscall more (fio with 1 job on a passthrough_fs file, page cache dropped,
 * lost 3-4% of its IOPS to it): a plain pread then counts as having waited when it took longer than this (ns): 50
 * us, and 1 ns per byte (1 GB/s). From the page cache, 4 KiB took 2-8 us here and 1 MiB about 100 us; from the
 * disk, 4 KiB took 64-128 us. A pread slowed down by a preemption may pass for a disk wait; that only delays the
 * spin. Timing is also all there is on a filesystem without RWF_NOWAIT. */
static uint64_t disk_wait_ns(size_t n) {
  return 50000 + (uint64_t)n;
}

/* pread of [pos, pos + n) of fd into `to`; *waited: whether it waited for the disk (see disk_wait_ns). */
static ssize_t read_fd(read_threads *s, int fd, uint8_t *to, size_t n, uint64_t pos, int *waited) {
  size_t done = 0;
  int timed = 1; /* no RWF_NOWAIT answer: the pread's time tells */
  if (!disk_busy(s)) {
    struct iovec iov = { to, n };
    ssize_t got = preadv2(fd, &iov, 1, (off_t)pos, RWF_NOWAIT);
    if (got == (ssize_t)n) return got;
    if (got < 0 && errno != EAGAIN && errno != EOPNOTSUPP) return got;
    if (got >= 0 || errno == EAGAIN) {
      *waited = 1;
      timed = 0;
      done = got > 0 ? (size_t)got : 0;
    }
  }
  uint64_t before = now_ns();
  ssize_t rest = pread(fd, to + done, n - done, (off_t)(pos + done));
  if (timed) *waited = now_ns() - before > disk_wait_ns(n);
  else if (rest == 0) *waited = 0; /* RWF_NOWAIT stopped at the end of the file, not at a missing page */
  return rest < 0 ? (done ? (ssize_t)done : -1) : (ssize_t)(done + (size_t)rest);
}

/* A READ's bytes from a handle's extents, into data; -1 when the map has a gap there or a pread comes back short
 * or failing (the main thread then answers, and reports what went wrong). */
static ssize_t read_extents(const handle_entry *e, uint8_t *data, uint64_t size, uint64_t offset, cache_miss *miss) {
  if (offset >= e->size) return 0;
  uint64_t end = e->size - offset < size ? e->size : offset + size;
  uint32_t lo = 0, hi = e->n_ext;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (e->ext[mid].file_off + e->ext[mid].len <= offset) lo = mid + 1;
    else hi = mid;
  }
  uint64_t pos = offset;
  for (uint32_t i = lo; i < e->n_ext && pos < end; i++) {
    const extent *x = &e->ext[i];
    if (x->file_off > pos) return -1;
    uint64_t stop = x->file_off + x->len < end ? x->file_off + x->len : end;
    size_t n = (size_t)(stop - pos);
    uint8_t *to = data + (pos - offset);
    if (x->fd < 0) memset(to, 0, n);
    else if (read_piece(x, to, n, x->fd_off + (pos - x->file_off), miss) < 0) return -1;
    pos = stop;
  }
  return pos < end ? -1 : (ssize_t)(end - offset);
}

/* Answers a READ of a registered handle, read at `started` (CLOCK_MONOTONIC ns); returns 0 when the message is not
 * one (or is left to the main thread). *waited: whether the READ waited for the disk. */
static int serve_read(read_threads *s, const uint8_t *msg, size_t n, uint8_t *data, uint64_t started, int *waited) {
  uint32_t len, opcode;
  memcpy(&len, msg, 4);
  memcpy(&opcode, msg + 4, 4);
  if (opcode != FUSE_READ_OPCODE || len != n || n < IN_HEADER + READ_IN) return 0;
  uint64_t unique, nodeid, fh, offset;
  uint32_t size;
  memcpy(&unique, msg + 8, 8);
  memcpy(&nodeid, msg + 16, 8);
  memcpy(&fh, msg + IN_HEADER, 8);
  memcpy(&offset, msg + IN_HEADER + 8, 8);
  memcpy(&size, msg + IN_HEADER + 16, 4);
  if (size > s->max_read) size = (uint32_t)s->max_read;
  /* The table is locked for the lookup only: a pread that waits long (slow or hung storage) holds up no add or
   * removal but its own entry's (which waits for its users, so that the caller may close the fd afterwards). */
  pthread_rwlock_rdlock(&s->table_lock);
  handle_entry *e = find_entry(s, nodeid, fh);
  if (e) __atomic_add_fetch(&e->users, 1, __ATOMIC_SEQ_CST); /* under the read lock: no removal meanwhile */
  pthread_rwlock_unlock(&s->table_lock);
  if (!e) return 0;
  ssize_t got = -1;
  int error = EINVAL; /* an offset past what off_t holds */
  cache_miss miss = { NULL, 0 };
  if (e->ext) {
    got = read_extents(e, data, size, offset, &miss);
    error = 0;
  } else if (offset <= (uint64_t)INT64_MAX) {
    got = read_fd(s, e->fd, data, size, offset, waited);
    error = got < 0 ? errno : 0;
  }
  if (miss.x) *waited = 1;
  int tag = e->tag, left_to_main = e->ext && got < 0;
  if (!left_to_main) {
    write_reply(s->fuse_fd, unique, -error, data, got > 0 ? (size_t)got : 0);
    record(s, tag, now_ns() - started, error != 0, got > 0 ? (uint64_t)got : 0);
    if (miss.x) fetch_around(s, &miss); /* still a user of the entry: its fds stay open */
  }
  if (__atomic_sub_fetch(&e->users, 1, __ATOMIC_SEQ_CST) == 0 && __atomic_load_n(&e->removed, __ATOMIC_SEQ_CST)) {
    pthread_mutex_lock(&s->users_mu);
    pthread_cond_broadcast(&s->users_cv);
    pthread_mutex_unlock(&s->users_mu);
  }
  if (left_to_main) return 0;
  keep_active(s);
  return 1;
}

static message *copy_message(const uint8_t *msg, size_t n, int handed_back) {
  message *m = malloc(sizeof(message) + n);
  if (!m) return NULL;
  m->next = NULL;
  m->len = n;
  m->handed_back = handed_back;
  memcpy(m->data, msg, n);
  return m;
}

/* Queues messages m ... last (linked) for the main thread, and tells it. */
static void forward_list(read_threads *s, message *m, message *last) {
  pthread_mutex_lock(&s->queue_mu);
  if (s->queue_tail) s->queue_tail->next = m;
  else s->queue_head = m;
  s->queue_tail = last;
  pthread_mutex_unlock(&s->queue_mu);
  uv_async_send(&s->async);
}

static void forward(read_threads *s, const uint8_t *msg, size_t n, int handed_back) {
  message *m = copy_message(msg, n, handed_back);
  /* Without memory the kernel waits for this request until the connection ends: as good as a lost read. */
  if (m) forward_list(s, m, m);
}

/* The READs handed over and not yet taken go back to the main thread (paused, or nothing registered any more).
 * Under mu. */
static void return_handed(read_threads *s) {
  if (!s->handed_head) return;
  message *last = s->handed_tail;
  for (message *m = s->handed_head; m; m = m->next) m->handed_back = 1;
  forward_list(s, s->handed_head, last);
  s->handed_head = s->handed_tail = NULL;
  __atomic_store_n(&s->handed, 0, __ATOMIC_RELAXED);
  uint64_t drained;
  (void)read(s->handed_fd, &drained, 8);
}

/* The oldest READ handed over, or NULL. */
static message *take_handed(read_threads *s) {
  if (__atomic_load_n(&s->handed, __ATOMIC_RELAXED) == 0) return NULL;
  pthread_mutex_lock(&s->mu);
  message *m = s->paused ? NULL : s->handed_head;
  if (m) {
    s->handed_head = m->next;
    if (!s->handed_head) s->handed_tail = NULL;
    if (__atomic_sub_fetch(&s->handed, 1, __ATOMIC_RELAXED) == 0) {
      uint64_t drained;
      (void)read(s->handed_fd, &drained, 8);
    }
  }
  pthread_mutex_unlock(&s->mu);
  return m;
}

/* Waits until the thread should read; returns 0 when it should end (the threads close, or it retires). */
static int wait_for_work(read_threads *s, worker *w) {
  pthread_mutex_lock(&s->mu);
  while (!s->exiting && (s->paused || s->registered == 0 || s->dead || (active_ms(s) == 0 && s->handed == 0))) {
    if (++s->parked == s->nthreads) {
      pthread_cond_broadcast(&s->parked_cv);
      /* Nobody reads for the main thread now: it reads again (it may have left reading to us). */
      __atomic_store_n(&s->went_idle, 1, __ATOMIC_RELEASE);
      uv_async_send(&s->async);
    }
    pthread_cond_wait(&s->wake, &s->mu);
    s->parked--;
    if (w->retire) break;
  }
  int go = !s->exiting && !w->retire;
  pthread_mutex_unlock(&s->mu);
  return go;
}

/* Waits for a request on /dev/fuse until the active time is up; 0 when it timed out, the kick fd fired, or the threads
 * were paused meanwhile: a pause that gave up waiting for a busy thread has drained the kick, and a thread that went
 * to sleep after that must not take a request once it is paused. */
static int wait_readable(read_threads *s, int epfd) {
  if (epfd >= 0) {
    struct epoll_event ev[3];
    int ready = epoll_wait(epfd, ev, 3, active_ms(s));
    if (ready <= 0) return 0;
    for (int i = 0; i < ready; i++) if (ev[i].data.fd != s->fuse_fd) return 0; /* kicked, or a READ handed over */
    return !__atomic_load_n(&s->paused, __ATOMIC_RELAXED);
  }
  struct pollfd p[3] = { { s->fuse_fd, POLLIN, 0 }, { s->kick_fd, POLLIN, 0 }, { s->handed_fd, POLLIN, 0 } };
  int ready = poll(p, 3, active_ms(s));
  return ready > 0 && !p[1].revents && !p[2].revents && !__atomic_load_n(&s->paused, __ATOMIC_RELAXED);
}

/* A thread's epoll set (see worker.epfd), or -1 if one cannot be made. */
static int thread_epoll(read_threads *s) {
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) return -1;
  struct epoll_event fuse = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = s->fuse_fd };
  struct epoll_event kick = { .events = EPOLLIN, .data.fd = s->kick_fd };
  struct epoll_event handed = { .events = EPOLLIN, .data.fd = s->handed_fd };
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, s->fuse_fd, &fuse) != 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, s->kick_fd, &kick) != 0
      || epoll_ctl(epfd, EPOLL_CTL_ADD, s->handed_fd, &handed) != 0) {
    close(epfd);
    return -1;
  }
  return epfd;
}

/* After answering a READ from the page cache, a thread keeps reading the fd (yielding the CPU between tries) for a
 * while before it sleeps in epoll: a reader that sends its next READ a few microseconds after our reply (fio with
 * one job, a sequential read) finds this thread awake, without the 20-40 us cross-vCPU wake-up that a sleeping
 * thread costs on this VM. fio's 4 KiB O_DIRECT random reads with 1 job, page cache warm: 21,200-32,200 IOPS
 * without, 27,300-36,100 with a 50 us spin (bindfs 27,300-33,200). Not after a READ that waited for the disk: with
 * the page cache dropped the spin took the same fio from 9,200-10,400 to 6,600-8,400 IOPS. The window adapts as the
 * main thread's busy poll does (transport/busy-poll.ts): a request that came soon after the last spin ran out
 * doubles it (from SPIN_START_NS, up to spin_max_ns), a longer gap halves it, and below SPIN_START_NS it is off. */
#define SPIN_START_NS 25000ULL

/* read() retried until something arrives, the window ends or the threads are paused; -1 with errno EAGAIN then. */
static ssize_t read_spinning(read_threads *s, uint8_t *msg, uint64_t window_ns) {
  uint64_t end = now_ns() + window_ns;
  while (!__atomic_load_n(&s->paused, __ATOMIC_RELAXED) && !__atomic_load_n(&s->exiting, __ATOMIC_RELAXED)) {
    ssize_t n = read(s->fuse_fd, msg, s->msg_size);
    if (n >= 0 || errno != EAGAIN) return n;
    if (now_ns() >= end) break;
    sched_yield();
  }
  errno = EAGAIN;
  return -1;
}

/* The thread was woken by a request after its last spin ran out: grow or shrink the window by the gap. */
static void adapt_spin(read_threads *s, worker *w) {
  if (!w->dry_at) return;
  uint64_t min = SPIN_START_NS < s->spin_max_ns ? SPIN_START_NS : s->spin_max_ns;
  uint64_t gap = now_ns() - w->dry_at + w->spin_ns;
  w->dry_at = 0;
  if (gap <= s->spin_max_ns) w->spin_ns = w->spin_ns * 2 > s->spin_max_ns ? s->spin_max_ns : (w->spin_ns * 2 > min ? w->spin_ns * 2 : min);
  else w->spin_ns = w->spin_ns / 2 < min ? 0 : w->spin_ns / 2;
}

static void *thread_main(void *arg) {
  worker *w = arg;
  read_threads *s = w->s;
  uint8_t *msg = w->msg, *data = w->data;
  int spin = 0; /* the last message was a READ answered from the page cache */
  while (wait_for_work(s, w)) {
    message *handed = take_handed(s);
    const uint8_t *in = msg;
    ssize_t n;
    if (handed) {
      spin = 0;
      in = handed->data;
      n = (ssize_t)handed->len;
    } else if (spin) {
      spin = 0;
      n = w->spin_ns ? read_spinning(s, msg, w->spin_ns) : (errno = EAGAIN, -1);
      if (n < 0 && errno == EAGAIN) {
        w->dry_at = now_ns();
        continue; /* wait_for_work() first: the threads may have been paused meanwhile */
      }
      if (n > 0) __atomic_fetch_add(&s->spin_reads, 1, __ATOMIC_RELAXED);
    } else {
      /* Until the active time is up (then wait_for_work() parks the thread, unless a READ extended it). */
      if (!wait_readable(s, w->epfd)) continue; /* kicked or timed out: wait_for_work() decides */
      n = read(s->fuse_fd, msg, s->msg_size);
      if (n > 0) adapt_spin(s, w);
    }
    if (n < 0) {
      /* EAGAIN: another reader took it; ENOENT: interrupted before it was read. Anything else ends the
       * connection for us (ENODEV after unmount): the main thread sees the same error and ends the session. */
      if (errno == EAGAIN) __atomic_fetch_add(&s->empty_reads, 1, __ATOMIC_RELAXED);
      if (errno == EAGAIN || errno == EINTR || errno == ENOENT) continue;
      pthread_mutex_lock(&s->mu);
      s->dead = 1;
      pthread_mutex_unlock(&s->mu);
      continue;
    }
    if (n == 0) continue;
    uint64_t started = now_ns();
    __atomic_store_n(&w->busy_since, started, __ATOMIC_RELAXED);
    int waited = 0;
    if (!serve_read(s, in, (size_t)n, data, started, &waited)) forward(s, in, (size_t)n, handed != NULL);
    else spin = !handed && s->spin_max_ns > 0 && !waited && !disk_busy(s);
    if (waited) {
      __atomic_store_n(&s->waited_at, now_ns(), __ATOMIC_RELAXED);
      w->dry_at = 0; /* the next gap says nothing about the spin */
    }
    __atomic_store_n(&w->busy_since, 0, __ATOMIC_RELAXED);
    free(handed);
  }
  return NULL;
}

/* ---- main thread ---- */

/* The queued messages as an array of Buffers (env NULL: dropped, when no JS may run). */
static napi_value take_queue(napi_env env, read_threads *s) {
  pthread_mutex_lock(&s->queue_mu);
  message *m = s->queue_head;
  s->queue_head = s->queue_tail = NULL;
  pthread_mutex_unlock(&s->queue_mu);
  napi_value arr = NULL;
  if (env) napi_create_array(env, &arr);
  uint32_t i = 0;
  while (m) {
    message *next = m->next;
    napi_value b;
    void *copy;
    if (env && napi_create_buffer_copy(env, m->len, m->data, &copy, &b) == napi_ok) {
      if (m->handed_back) {
        napi_value yes;
        napi_get_boolean(env, true, &yes);
        napi_set_named_property(env, b, "handedBack", yes);
      }
      napi_set_element(env, arr, i++, b);
    }
    free(m);
    m = next;
  }
  return arr;
}

static void on_async(uv_async_t *h) {
  read_threads *s = h->data;
  if (s->closed) return;
  napi_env env = s->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  int idle = __atomic_exchange_n(&s->went_idle, 0, __ATOMIC_ACQUIRE);
  napi_value args[2];
  args[0] = take_queue(env, s);
  napi_get_boolean(env, idle, &args[1]);
  uint32_t len = 0;
  napi_get_array_length(env, args[0], &len);
  if (len > 0 || idle) {
    napi_value cb, recv, result;
    napi_get_reference_value(env, s->cb, &cb);
    napi_get_global(env, &recv);
    if (napi_make_callback(env, s->ctx, recv, cb, 2, args, &result) == napi_pending_exception) {
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
      napi_fatal_exception(env, exc);
    }
  }
  napi_close_handle_scope(env, scope);
}

/* Frees a worker's buffers and epoll set (its thread has ended, or never started) and clears it for a later start. */
static void release_worker(worker *w) {
  free(w->msg);
  free(w->data);
  if (w->epfd >= 0) close(w->epfd);
  memset(w, 0, sizeof *w);
  w->epfd = -1;
}

static void free_threads(read_threads *s) {
  for (int i = 0; i < s->nthreads; i++) release_worker(&s->workers[i]);
  for (int i = 0; i < TABLE_BUCKETS; i++) {
    handle_entry *e = s->table[i];
    while (e) {
      handle_entry *next = e->next;
      free(e->ext);
      free(e);
      e = next;
    }
  }
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->wake);
  pthread_cond_destroy(&s->parked_cv);
  pthread_rwlock_destroy(&s->table_lock);
  pthread_mutex_destroy(&s->users_mu);
  pthread_cond_destroy(&s->users_cv);
  pthread_mutex_destroy(&s->queue_mu);
  if (s->kick_fd >= 0) close(s->kick_fd);
  if (s->handed_fd >= 0) close(s->handed_fd);
  free(s);
}

static void on_closed(uv_handle_t *h) {
  read_threads *s = h->data;
  s->uv_done = 1;
  if (s->js_gone) free_threads(s);
}

/* Wakes every thread from its wait for a request and waits until each is parked, for at most max_ms (< 0: however
 * long that takes): the caller has made them park (paused, or no handle registered). A message read just before is
 * handed over or answered first. Returns whether all of them parked. */
static int park_all(read_threads *s, int max_ms) {
  uint64_t one = 1;
  (void)write(s->kick_fd, &one, 8);
  struct timespec until;
  if (max_ms >= 0) {
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += max_ms / 1000;
    until.tv_nsec += (long)(max_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
  }
  pthread_mutex_lock(&s->mu);
  while (s->parked < s->nthreads) {
    if (max_ms < 0) pthread_cond_wait(&s->parked_cv, &s->mu);
    else if (pthread_cond_timedwait(&s->parked_cv, &s->mu, &until) == ETIMEDOUT) break;
  }
  int all = s->parked == s->nthreads;
  pthread_mutex_unlock(&s->mu);
  uint64_t drained;
  (void)read(s->kick_fd, &drained, 8);
  return all;
}

static int pause_all(read_threads *s, int max_ms) {
  pthread_mutex_lock(&s->mu);
  s->paused = 1;
  return_handed(s);
  pthread_mutex_unlock(&s->mu);
  return park_all(s, max_ms);
}

/* env NULL: from the finalizer, where no JS value may be made; the queued messages are dropped. */
static napi_value close_threads(napi_env env, read_threads *s) {
  if (s->closed) {
    napi_value empty = NULL;
    if (env) napi_create_array(env, &empty);
    return empty;
  }
  pause_all(s, -1);
  pthread_mutex_lock(&s->mu);
  s->exiting = 1;
  pthread_cond_broadcast(&s->wake);
  pthread_mutex_unlock(&s->mu);
  for (int i = 0; i < s->nthreads; i++) pthread_join(s->workers[i].thread, NULL);
  napi_value left = take_queue(env, s);
  s->closed = 1;
  napi_delete_reference(s->env, s->cb);
  napi_async_destroy(s->env, s->ctx);
  uv_close((uv_handle_t *)&s->async, on_closed);
  return left;
}

static void finalize_external(napi_env env, void *data, void *hint) {
  read_threads *s = data;
  s->js_gone = 1;
  if (!s->closed) close_threads(NULL, s);
  else if (s->uv_done) free_threads(s);
}

static read_threads *get_threads(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return p;
}

/* Sets up worker w (its buffers and epoll set) and starts its thread; -1 when it cannot (nothing is left behind). */
static int start_worker(read_threads *s, worker *w) {
  w->s = s;
  w->msg = malloc(s->msg_size);
  w->data = malloc(s->max_read);
  w->epfd = thread_epoll(s);
  if (w->msg && w->data && pthread_create(&w->thread, NULL, thread_main, w) == 0) return 0;
  release_worker(w);
  return -1;
}

static napi_value rt_start(napi_env env, napi_callback_info info) {
  ARGS(6);
  int fuse_fd = arg_int(env, argv[0]);
  int n = arg_int(env, argv[1]);
  int64_t msg_size = arg_i64(env, argv[2]), max_read = arg_i64(env, argv[3]);
  if (n < 1 || n > MAX_THREADS || msg_size < IN_HEADER + READ_IN || max_read < 4096) return num(env, -EINVAL);
  uv_loop_t *loop;
  NAPI_CALL(env, napi_get_uv_event_loop(env, &loop));
  read_threads *s = calloc(1, sizeof(*s));
  if (!s) return num(env, -ENOMEM);
  s->fuse_fd = fuse_fd;
  s->msg_size = (size_t)msg_size;
  s->max_read = (size_t)max_read;
  int64_t spin_us = argc >= 6 ? arg_i64(env, argv[5]) : 0;
  s->spin_max_ns = spin_us > 0 && spin_us <= 1000000 ? (uint64_t)spin_us * 1000 : 0;
  s->env = env;
  s->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  s->handed_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s->kick_fd < 0 || s->handed_fd < 0) {
    int err = errno;
    if (s->kick_fd >= 0) close(s->kick_fd);
    if (s->handed_fd >= 0) close(s->handed_fd);
    free(s);
    return num(env, -err);
  }
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->wake, NULL);
  pthread_cond_init(&s->parked_cv, NULL);
  /* Writer-preferring: a RELEASE on the main thread must not wait behind an endless stream of lookups. */
  pthread_rwlockattr_t attr;
  pthread_rwlockattr_init(&attr);
  pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init(&s->table_lock, &attr);
  pthread_mutex_init(&s->users_mu, NULL);
  pthread_cond_init(&s->users_cv, NULL);
  pthread_rwlockattr_destroy(&attr);
  pthread_mutex_init(&s->queue_mu, NULL);
  uv_async_init(loop, &s->async, on_async);
  s->async.data = s;
  uv_unref((uv_handle_t *)&s->async);
  napi_create_reference(env, argv[4], 1, &s->cb);
  napi_value name;
  napi_create_string_utf8(env, "nydus.readThreads", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &s->ctx);
  /* Threads wait for mu in wait_for_work() until nthreads says how many of them there are. */
  pthread_mutex_lock(&s->mu);
  int started = 0;
  while (started < n && start_worker(s, &s->workers[started]) == 0) started++;
  s->nthreads = started;
  pthread_mutex_unlock(&s->mu);
  napi_value ext;
  napi_create_external(env, s, finalize_external, NULL, &ext);
  if (started == 0) {
    close_threads(env, s);
    return num(env, -EAGAIN);
  }
  return ext;
}

/* Registers e, or counts one more registration of the handle already there (then e is freed). */
static void insert_entry(read_threads *s, handle_entry *e) {
  pthread_rwlock_wrlock(&s->table_lock);
  handle_entry *known = find_entry(s, e->nodeid, e->fh);
  if (known) {
    known->refs++;
  } else {
    unsigned i = slot(e->nodeid, e->fh);
    e->refs = 1;
    e->next = s->table[i];
    s->table[i] = e;
  }
  pthread_rwlock_unlock(&s->table_lock);
  if (known) {
    free(e->ext);
    free(e);
  }
  keep_active(s); /* a handle is registered to be read: read */
  pthread_mutex_lock(&s->mu);
  s->registered++;
  pthread_cond_broadcast(&s->wake);
  pthread_mutex_unlock(&s->mu);
}

static napi_value rt_add(napi_env env, napi_callback_info info) {
  ARGS(5);
  read_threads *s = get_threads(env, argv[0]);
  if (!s || s->closed) return num(env, -EBADF);
  int tag = arg_int(env, argv[4]);
  handle_entry *e = calloc(1, sizeof(*e));
  if (!e) return num(env, -ENOMEM);
  e->nodeid = (uint64_t)arg_i64(env, argv[1]);
  e->fh = (uint64_t)arg_i64(env, argv[2]);
  e->fd = arg_int(env, argv[3]);
  e->tag = tag < 0 ? 0 : tag % TAGS;
  insert_entry(s, e);
  return num(env, 0);
}

/* Whether v is an integer in [0, 2^53). */
static int safe_offset(double v) {
  return v >= 0 && v <= MAX_SAFE_INTEGER && v == (double)(uint64_t)v;
}

static napi_value rt_add_extents(napi_env env, napi_callback_info info) {
  ARGS(6);
  read_threads *s = get_threads(env, argv[0]);
  if (!s || s->closed) return num(env, -EBADF);
  int tag = arg_int(env, argv[3]);
  double size;
  napi_typedarray_type type;
  size_t length = 0;
  void *raw = NULL;
  if (napi_get_value_double(env, argv[4], &size) != napi_ok || !safe_offset(size)) return num(env, -EINVAL);
  if (napi_get_typedarray_info(env, argv[5], &type, &length, &raw, NULL, NULL) != napi_ok ||
      type != napi_float64_array || length % 4 != 0 || length / 4 > MAX_EXTENTS) return num(env, -EINVAL);
  const double *v = raw;
  uint32_t n = (uint32_t)(length / 4);
  extent *ext = n ? calloc(n, sizeof(extent)) : NULL;
  if (n && !ext) return num(env, -ENOMEM);
  /* In order, without gaps or overlaps, from 0 to size; every offset a safe integer. */
  uint64_t at = 0;
  for (uint32_t i = 0; i < n; i++) {
    const double *x = v + 4 * i;
    /* The fd is checked as a double before it is converted: an out-of-range conversion is undefined. */
    int fd = x[2] >= -1 && x[2] <= INT_MAX && x[2] == (double)(int)x[2] ? (int)x[2] : -2;
    if (!safe_offset(x[0]) || !safe_offset(x[1]) || !safe_offset(x[3]) || x[1] == 0 ||
        (uint64_t)x[0] != at || fd < -1 || x[3] + x[1] > MAX_SAFE_INTEGER) {
      free(ext);
      return num(env, -EINVAL);
    }
    ext[i] = (extent){ (uint64_t)x[0], (uint64_t)x[1], (uint64_t)x[3], fd };
    at += ext[i].len;
  }
  if (at != (uint64_t)size) {
    free(ext);
    return num(env, -EINVAL);
  }
  handle_entry *e = calloc(1, sizeof(*e));
  if (!e) {
    free(ext);
    return num(env, -ENOMEM);
  }
  e->nodeid = (uint64_t)arg_i64(env, argv[1]);
  e->fh = (uint64_t)arg_i64(env, argv[2]);
  e->fd = -1;
  e->tag = tag < 0 ? 0 : tag % TAGS;
  e->size = (uint64_t)size;
  e->n_ext = n;
  /* A file of 0 bytes: a map with nothing in it, still answered here (every READ is at its end). */
  e->ext = ext ? ext : calloc(1, sizeof(extent));
  if (!e->ext) {
    free(e);
    return num(env, -ENOMEM);
  }
  insert_entry(s, e);
  return num(env, 0);
}

static napi_value rt_remove(napi_env env, napi_callback_info info) {
  ARGS(3);
  read_threads *s = get_threads(env, argv[0]);
  if (!s || s->closed) return num(env, -EBADF);
  uint64_t nodeid = (uint64_t)arg_i64(env, argv[1]), fh = (uint64_t)arg_i64(env, argv[2]);
  pthread_rwlock_wrlock(&s->table_lock);
  handle_entry **pp = &s->table[slot(nodeid, fh)];
  while (*pp && !((*pp)->nodeid == nodeid && (*pp)->fh == fh)) pp = &(*pp)->next;
  handle_entry *e = *pp, *gone = NULL;
  if (e && --e->refs == 0) {
    *pp = e->next;
    gone = e;
  }
  pthread_rwlock_unlock(&s->table_lock);
  if (!e) return num(env, -ENOENT);
  if (gone) {
    /* Out of the table: no thread finds it any more; wait for those reading through it now. */
    pthread_mutex_lock(&s->users_mu);
    __atomic_store_n(&gone->removed, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&gone->users, __ATOMIC_SEQ_CST) > 0) pthread_cond_wait(&s->users_cv, &s->users_mu);
    pthread_mutex_unlock(&s->users_mu);
    free(gone->ext);
    free(gone);
  }
  pthread_mutex_lock(&s->mu);
  int none = --s->registered == 0;
  if (none) return_handed(s);
  pthread_mutex_unlock(&s->mu);
  /* Nothing to answer: stop reading now, not at the next request. A thread still waiting for a pread (slow or
   * hung storage) parks once it returns: the main thread does not wait for it longer than PARK_WAIT_MS. */
  if (none) park_all(s, PARK_WAIT_MS);
  return num(env, 0);
}

static napi_value rt_pause(napi_env env, napi_callback_info info) {
  ARGS(2);
  read_threads *s = get_threads(env, argv[0]);
  if (!s || s->closed) return num(env, -EBADF);
  if (!pause_all(s, arg_int(env, argv[1]))) return num(env, -EAGAIN);
  return take_queue(env, s);
}

/* The threads read again, for IDLE_MS at least; with `resume`, a pause ends too. */
static napi_value wake_threads(napi_env env, napi_callback_info info, int resume) {
  ARGS(1);
  read_threads *s = get_threads(env, argv[0]);
  if (!s || s->closed) return num(env, -EBADF);
  keep_active(s); /* after a pause: requests may have waited meanwhile */
  pthread_mutex_lock(&s->mu);
  if (resume) s->paused = 0;
  pthread_cond_broadcast(&s->wake);
  pthread_mutex_unlock(&s->mu);
  return num(env, 0);
}

static napi_value rt_resume(napi_env env, napi_callback_info info) { return wake_threads(env, info, 1); }
static napi_value rt_wake(napi_env env, napi_callback_info info) { return wake_threads(env, info, 0); }

static napi_value rt_active(napi_env env, napi_callback_info info) {
  ARGS(1);
  read_threads *s = get_threads(env, argv[0]);
  if (!s || s->closed) return num(env, 0);
  pthread_mutex_lock(&s->mu);
  int reading = s->registered > 0 && !s->paused && !s->dead;
  pthread_mutex_unlock(&s->mu);
  return num(env, reading && active_ms(s) > 0 ? 1 : 0);
}

/* The threads' wake-up handle keeps the event loop alive while `on`: the main thread has left reading /dev/fuse to
 * them, and its own poll handle, which kept the loop alive, is closed meanwhile. */
static napi_value rt_hold_loop(napi_env env, napi_callback_info info) {
  ARGS(2);
  read_threads *s = get_threads(env, argv[0]);
  if (!s || s->closed) return num(env, -EBADF);
  bool on = false;
  napi_get_value_bool(env, argv[1], &on);
  if (on) uv_ref((uv_handle_t *)&s->async);
  else uv_unref((uv_handle_t *)&s->async);
  return num(env, 0);
}

/* readThreadsStalled(h, ms) -> 1 | 0: whether every thread has been answering one READ for `ms` or more (a slow or
 * hung file): then nobody reads /dev/fuse for the main thread, which must read again. */
static napi_value rt_stalled(napi_env env, napi_callback_info info) {
  ARGS(2);
  read_threads *s = get_threads(env, argv[0]);
  if (!s || s->closed) return num(env, 0);
  uint64_t limit = (uint64_t)arg_i64(env, argv[1]) * 1000000ULL, now = now_ns();
  for (int i = 0; i < s->nthreads; i++) {
    uint64_t since = __atomic_load_n(&s->workers[i].busy_since, __ATOMIC_RELAXED);
    if (since == 0 || since > now || now - since < limit) return num(env, 0);
  }
  return num(env, s->nthreads > 0 ? 1 : 0);
}

/* readThreadsServe(h, msg) -> 1 | 0: see the comment atop. */
static napi_value rt_serve(napi_env env, napi_callback_info info) {
  ARGS(2);
  read_threads *s = get_threads(env, argv[0]);
  void *data = NULL;
  size_t n = 0;
  if (!s || s->closed || napi_get_buffer_info(env, argv[1], &data, &n) != napi_ok || n < IN_HEADER + READ_IN) return num(env, 0);
  const uint8_t *msg = data;
  uint32_t opcode;
  uint64_t nodeid, fh;
  memcpy(&opcode, msg + 4, 4);
  memcpy(&nodeid, msg + 16, 8);
  memcpy(&fh, msg + IN_HEADER, 8);
  if (opcode != FUSE_READ_OPCODE) return num(env, 0);
  pthread_rwlock_rdlock(&s->table_lock);
  int known = find_entry(s, nodeid, fh) != NULL;
  pthread_rwlock_unlock(&s->table_lock);
  message *m = known ? copy_message(msg, n, 0) : NULL;
  if (!m) return num(env, 0);
  pthread_mutex_lock(&s->mu);
  int taken = !s->paused && !s->exiting && !s->dead && s->registered > 0 && s->handed < MAX_HANDED;
  if (taken) {
    if (s->handed_tail) s->handed_tail->next = m;
    else s->handed_head = m;
    s->handed_tail = m;
    if (__atomic_fetch_add(&s->handed, 1, __ATOMIC_RELAXED) == 0) {
      uint64_t one = 1;
      (void)write(s->handed_fd, &one, 8);
    }
    keep_active(s);
    pthread_cond_broadcast(&s->wake); /* threads parked because they were idle */
  }
  pthread_mutex_unlock(&s->mu);
  if (!taken) free(m);
  return num(env, taken);
}

/* readThreadsGrow(h, max) -> threads now, or 0 when none was added: one more thread, up to `max` in all (see the
 * comment atop). Only the main thread changes nthreads, and only under mu, after the worker is set up: a thread
 * counts the parked ones against it under mu, and stalled() reads it on the main thread. */
static napi_value rt_grow(napi_env env, napi_callback_info info) {
  ARGS(2);
  read_threads *s = get_threads(env, argv[0]);
  int max = arg_int(env, argv[1]);
  if (!s || s->closed || s->nthreads >= max || s->nthreads >= MAX_THREADS) return num(env, 0);
  pthread_mutex_lock(&s->mu);
  int added = !s->exiting && start_worker(s, &s->workers[s->nthreads]) == 0;
  if (added) s->nthreads++;
  int now = s->nthreads;
  pthread_mutex_unlock(&s->mu);
  return num(env, added ? now : 0);
}

/* readThreadsShrink(h, keep): see the comment atop. Only while every thread is parked, so that each one told to
 * retire is waiting on `wake` and ends as soon as it wakes: the joins below wait for nothing else. Like grow(), only
 * the main thread changes nthreads; the threads kept, woken by the broadcast too, find nothing to do and park again. */
static napi_value rt_shrink(napi_env env, napi_callback_info info) {
  ARGS(2);
  read_threads *s = get_threads(env, argv[0]);
  int keep = arg_int(env, argv[1]);
  if (!s || s->closed || keep < 1) return num(env, 0);
  pthread_mutex_lock(&s->mu);
  int from = s->nthreads;
  if (s->exiting || from <= keep || s->parked != from) {
    pthread_mutex_unlock(&s->mu);
    return num(env, 0);
  }
  for (int i = keep; i < from; i++) s->workers[i].retire = 1;
  pthread_cond_broadcast(&s->wake);
  pthread_mutex_unlock(&s->mu);
  for (int i = keep; i < from; i++) pthread_join(s->workers[i].thread, NULL);
  pthread_mutex_lock(&s->mu);
  s->nthreads = keep;
  pthread_mutex_unlock(&s->mu);
  for (int i = keep; i < from; i++) release_worker(&s->workers[i]);
  return num(env, keep);
}

static napi_value rt_empty_reads(napi_env env, napi_callback_info info) {
  ARGS(1);
  read_threads *s = get_threads(env, argv[0]);
  return num(env, s ? (double)__atomic_load_n(&s->empty_reads, __ATOMIC_RELAXED) : 0);
}

static napi_value rt_spin_reads(napi_env env, napi_callback_info info) {
  ARGS(1);
  read_threads *s = get_threads(env, argv[0]);
  return num(env, s ? (double)__atomic_load_n(&s->spin_reads, __ATOMIC_RELAXED) : 0);
}

static napi_value rt_fetches_around(napi_env env, napi_callback_info info) {
  ARGS(1);
  read_threads *s = get_threads(env, argv[0]);
  return num(env, s ? (double)__atomic_load_n(&s->fetches_around, __ATOMIC_RELAXED) : 0);
}

static napi_value rt_close(napi_env env, napi_callback_info info) {
  ARGS(1);
  read_threads *s = get_threads(env, argv[0]);
  if (!s) return num(env, -EBADF);
  return close_threads(env, s);
}

static napi_value rt_stats(napi_env env, napi_callback_info info) {
  ARGS(1);
  read_threads *s = get_threads(env, argv[0]);
  napi_value arr;
  napi_create_array(env, &arr);
  if (!s) return arr;
  uint32_t k = 0;
  for (int tag = 0; tag < TAGS; tag++) {
    tag_stats *t = &s->stats[tag];
    uint64_t count = __atomic_exchange_n(&t->count, 0, __ATOMIC_RELAXED);
    if (count == 0) continue;
    uint64_t fields[5] = {
      (uint64_t)tag, count, __atomic_exchange_n(&t->errors, 0, __ATOMIC_RELAXED),
      __atomic_exchange_n(&t->bytes, 0, __ATOMIC_RELAXED), __atomic_exchange_n(&t->total_ns, 0, __ATOMIC_RELAXED),
    };
    for (int i = 0; i < 5; i++) napi_set_element(env, arr, k++, num(env, (double)fields[i]));
    napi_set_element(env, arr, k++, num(env, (double)__atomic_exchange_n(&t->max_ns, 0, __ATOMIC_RELAXED)));
    for (int b = 0; b < BUCKETS; b++)
      napi_set_element(env, arr, k++, num(env, (double)__atomic_exchange_n(&t->buckets[b], 0, __ATOMIC_RELAXED)));
  }
  return arr;
}

void register_read_threads(napi_env env, napi_value exports) {
  export_fn(env, exports, "readThreadsStart", rt_start);
  export_fn(env, exports, "readThreadsAdd", rt_add);
  export_fn(env, exports, "readThreadsAddExtents", rt_add_extents);
  export_fn(env, exports, "readThreadsRemove", rt_remove);
  export_fn(env, exports, "readThreadsWake", rt_wake);
  export_fn(env, exports, "readThreadsActive", rt_active);
  export_fn(env, exports, "readThreadsPause", rt_pause);
  export_fn(env, exports, "readThreadsResume", rt_resume);
  export_fn(env, exports, "readThreadsClose", rt_close);
  export_fn(env, exports, "readThreadsHoldLoop", rt_hold_loop);
  export_fn(env, exports, "readThreadsStalled", rt_stalled);
  export_fn(env, exports, "readThreadsStats", rt_stats);
  export_fn(env, exports, "readThreadsServe", rt_serve);
  export_fn(env, exports, "readThreadsGrow", rt_grow);
  export_fn(env, exports, "readThreadsShrink", rt_shrink);
  export_fn(env, exports, "readThreadsEmptyReads", rt_empty_reads);
  export_fn(env, exports, "readThreadsSpinReads", rt_spin_reads);
  export_fn(env, exports, "readThreadsFetchesAround", rt_fetches_around);
}
