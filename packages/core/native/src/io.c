/*
 * io.c - sockets on the native readiness path (Linux): non-blocking sockets in one
 * epoll set per JavaScript thread, driven from that thread's own event loop.
 *
 * Model (mio's and tokio's): every socket is registered once, edge-triggered, for
 * input and output. The loop watches the epoll descriptor with one uv_poll; when it
 * is readable, on_poll drains the ready events (epoll_wait, zero timeout) into the
 * `ready` array as (token, readiness) pairs and calls JavaScript once for the batch,
 * inside a callback scope, so the fibers it wakes run in the microtask checkpoint
 * right after. JavaScript keeps one readiness flag per direction: an event sets it, a
 * system call that says EAGAIN clears it (and so does a short read: for a stream
 * socket it means the receive queue was empty, and any later byte raises a new edge).
 * A steady connection so costs one read(2) and one write(2) per message, and no
 * epoll_ctl at all.
 *
 * Armed reads: a reader about to park sets arms[fd] (shared memory, no call), and
 * on_poll reads that socket itself when its readable event comes, into a slab of
 * JavaScript's memory, delivering (offset, result) with the event. The wake-up and the
 * bytes so cost no native call per message (nor do small writes, see below). Reads
 * happen only for armed descriptors, one per event, so the kernel's buffer stays the
 * only unbounded one and TCP's flow control still holds a fast peer back. The epoll
 * data carries the descriptor next to the token (the token in the low 32 bits).
 *
 * Queued writes: JavaScript copies a small write into `wbytes` and queues (fd, offset,
 * length) in `wq` (shared memory, no call); once its fibers have run, one rioco_io_flush
 * sends every queued write and leaves each result in place of its length. A turn of
 * the loop so costs one native call for all its small writes, not one per write.
 *
 * Ownership: every descriptor made here is recorded in its io's `owned` set until
 * JavaScript closes it with rioco_io_close_fd. If the Node environment ends first (a
 * worker terminated), the async cleanup hook closes the poll handle, then every owned
 * descriptor and the epoll set, so nothing leaks.
 *
 * Liveness: the uv_poll is unref'd unless JavaScript holds it with rioco_io_ref (it
 * does while a fiber waits on one of the sockets), so an idle socket never keeps the
 * process alive on its own, as with a paused node:net socket.
 *
 * Threads: an io and its descriptors are used only by the JavaScript thread that
 * opened it; nothing here takes a lock.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define UV_READABLE_ 1

struct rioco_io {
  void *env;
  int epfd;
  void *poll;    /* uv_poll_t (malloc'd), NULL once closed */
  void *actx;    /* napi_async_context */
  void *cleanup; /* napi_async_cleanup_hook_handle */
  rioco_io_fn *cb;
  int32_t ready[4 * RIOCO_IO_BATCH + 1];
  int32_t wq[3 * RIOCO_IO_WQ_MAX];  /* queued writes: (fd, offset, length) → result */
  uint8_t wbytes[RIOCO_IO_WQ_BYTES]; /* their bytes */
  uint8_t *slab; /* where armed reads go (JavaScript's memory, see rioco_io_set_slab) */
  int32_t slab_len;
  int32_t slab_off;
  uint8_t arms[RIOCO_IO_ARM_MAX];
  uint8_t *owned; /* owned[fd] != 0: the descriptor is ours */
  uint32_t nowned;
  int reserve; /* a spare descriptor for accept under EMFILE (see rioco_io_accept) */
  bool closing;
};

/* ---- descriptors ---- */

static int own(rioco_io *io, int fd) {
  if ((uint32_t)fd >= io->nowned) {
    uint32_t n = io->nowned ? io->nowned : 64;
    while (n <= (uint32_t)fd) n *= 2;
    uint8_t *p = realloc(io->owned, n);
    if (p == NULL) return -ENOMEM;
    memset(p + io->nowned, 0, n - io->nowned);
    io->owned = p;
    io->nowned = n;
  }
  io->owned[fd] = 1;
  return 0;
}

static void disown_fd(rioco_io *io, int fd) {
  if (fd >= 0 && (uint32_t)fd < io->nowned) io->owned[fd] = 0;
}

static int watch(rioco_io *io, int fd, int32_t token, uint32_t events) {
  /* The descriptor rides along with the token: an armed read needs it. */
  struct epoll_event ev = {.events = events | EPOLLET,
                           .data.u64 = (uint32_t)token | ((uint64_t)(uint32_t)fd << 32)};
  if (fd < RIOCO_IO_ARM_MAX) io->arms[fd] = 0;
  if (epoll_ctl(io->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) return -errno;
  return 0;
}

/* Record and register a new descriptor; on failure it is closed and -errno returned. */
static int32_t adopt(rioco_io *io, int fd, int32_t token, uint32_t events) {
  int rc = own(io, fd);
  if (rc == 0) rc = watch(io, fd, token, events);
  if (rc != 0) {
    disown_fd(io, fd);
    close(fd);
    return rc;
  }
  return fd;
}

static int set_stream_opts(int fd, int32_t opts, int32_t keepalive_s) {
  int one = 1;
  if ((opts & RIOCO_IO_NODELAY) && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
    return -errno;
  if (opts & RIOCO_IO_KEEPALIVE) {
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) != 0) return -errno;
    if (keepalive_s > 0 &&
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &keepalive_s, sizeof keepalive_s) != 0)
      return -errno;
  }
  return 0;
}

/* Fill `ss` from (family, numeric address or path, port); returns its length or -errno. */
static int make_addr(int32_t family, const char *addr, int32_t port, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (family == RIOCO_IO_UNIX) {
    struct sockaddr_un *un = (struct sockaddr_un *)ss;
    size_t n = strlen(addr);
    if (n == 0) return -EINVAL;
    if (n >= sizeof un->sun_path) return -ENAMETOOLONG;
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, addr, n + 1);
    return (int)(offsetof(struct sockaddr_un, sun_path) + n + 1);
  }
  if (port < 0 || port > 65535) return -EINVAL;
  struct addrinfo hints = {.ai_family = family == 6 ? AF_INET6 : AF_INET,
                           .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
  struct addrinfo *res = NULL;
  /* Numeric only (no lookup); also parses IPv6 scope ids ("fe80::1%eth0"). */
  if (getaddrinfo(addr, NULL, &hints, &res) != 0 || res == NULL) return -EINVAL;
  int len = (int)res->ai_addrlen;
  memcpy(ss, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (ss->ss_family == AF_INET)
    ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
  else
    ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
  return len;
}

static int new_socket(int32_t family) {
  int domain = family == RIOCO_IO_UNIX ? AF_UNIX : family == 6 ? AF_INET6 : AF_INET;
  int fd = socket(domain, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  return fd < 0 ? -errno : fd;
}

/* ---- the poll callback ---- */

/* The armed read of `fd` on a readable event: its result, or RIOCO_IO_NOT_READ. */
static int32_t armed_read(rioco_io *io, int fd, int32_t *bits, int32_t *off) {
  if (fd >= RIOCO_IO_ARM_MAX || !io->arms[fd] || io->slab == NULL) return RIOCO_IO_NOT_READ;
  int32_t room = io->slab_len - io->slab_off;
  if (room < RIOCO_IO_MIN_READ) return RIOCO_IO_NOT_READ; /* JavaScript reads it itself */
  ssize_t n;
  do {
    n = read(fd, io->slab + io->slab_off, (size_t)room);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return RIOCO_IO_NOT_READ; /* a stale edge: stays armed */
  io->arms[fd] = 0;
  if (n < 0) return -errno;
  *off = io->slab_off;
  io->slab_off += (int32_t)n;
  if (n < room) *bits |= RIOCO_IO_DRAINED;
  return (int32_t)n;
}

int32_t rioco_io_poll(rioco_io *io) {
  if (io == NULL || io->epfd < 0) return -EBADF;
  struct epoll_event evs[RIOCO_IO_BATCH];
  int n;
  do {
    n = epoll_wait(io->epfd, evs, RIOCO_IO_BATCH, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return -errno;
  for (int i = 0; i < n; i++) {
    uint32_t e = evs[i].events;
    int32_t bits = 0, off = 0, result = RIOCO_IO_NOT_READ;
    if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) bits |= RIOCO_IO_READABLE;
    if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) bits |= RIOCO_IO_WRITABLE;
    if (e & EPOLLERR) bits |= RIOCO_IO_ERROR;
    if (e & (EPOLLHUP | EPOLLRDHUP)) bits |= RIOCO_IO_HANGUP;
    if (bits & RIOCO_IO_READABLE) result = armed_read(io, (int)(evs[i].data.u64 >> 32), &bits, &off);
    int32_t *r = io->ready + 4 * i;
    r[0] = (int32_t)(uint32_t)evs[i].data.u64;
    r[1] = bits;
    r[2] = off;
    r[3] = result;
  }
  io->ready[4 * RIOCO_IO_BATCH] = io->slab_off;
  return n;
}

static void on_poll(void *handle, int status, int events) {
  (void)status;
  (void)events;
  rioco_io *io = rioco_node.get_data(handle);
  if (io->closing) return;
  /* More than a batch ready: the epoll descriptor stays readable and libuv calls again
     on its next turn, after the loop's other callbacks (fair to timers and node:net). */
  int32_t n = rioco_io_poll(io);
  if (n <= 0) return;
  rioco_call_scope scope;
  if (!rioco_call_begin(io->env, io->actx, &scope)) return;
  io->cb(n);
  rioco_call_check(io->env, "the socket readiness callback");
  rioco_call_end(io->env, &scope);
}

/* ---- open / close ---- */

static void io_free(rioco_io *io) {
  if (io->owned != NULL) {
    for (uint32_t fd = 0; fd < io->nowned; fd++)
      if (io->owned[fd]) close((int)fd);
    free(io->owned);
  }
  if (io->epfd >= 0) close(io->epfd);
  if (io->reserve >= 0) close(io->reserve);
  if (io->cleanup != NULL) rioco_node.remove_async_cleanup_hook(io->cleanup);
  free(io);
}

static void on_poll_closed(void *handle) {
  rioco_io *io = rioco_node.get_data(handle);
  free(handle);
  io_free(io);
}

static void io_begin_close(rioco_io *io) {
  if (io->closing) return;
  io->closing = true;
  if (io->actx != NULL) {
    rioco_node.async_destroy(io->env, io->actx);
    io->actx = NULL;
  }
  void *poll = io->poll;
  io->poll = NULL;
  if (poll == NULL) {
    io_free(io);
    return;
  }
  rioco_node.poll_stop(poll);
  rioco_node.close(poll, on_poll_closed); /* frees io once libuv let go of the handle */
}

static void on_env_cleanup(void *handle, void *arg) {
  rioco_io *io = arg;
  io->cleanup = handle;
  if (!io->closing) io_begin_close(io);
}

int32_t rioco_io_available(void) { return rioco_io_resolve() ? 1 : 0; }

rioco_io *rioco_io_open(void *env, rioco_io_fn *cb) {
  if (env == NULL || cb == NULL || !rioco_io_resolve()) return NULL;
  void *loop = NULL;
  if (rioco_node.get_uv_event_loop(env, &loop) != 0 || loop == NULL) return NULL;
  rioco_io *io = calloc(1, sizeof *io);
  if (io == NULL) return NULL;
  io->env = env;
  io->cb = cb;
  io->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
  io->epfd = epoll_create1(EPOLL_CLOEXEC);
  void *name = NULL, *resource = NULL;
  if (io->epfd < 0 || rioco_node.create_string_utf8(env, "rioco.io", SIZE_MAX, &name) != 0 ||
      rioco_node.create_object(env, &resource) != 0 ||
      rioco_node.async_init(env, resource, name, &io->actx) != 0) {
    io->actx = NULL;
    io_free(io);
    return NULL;
  }
  void *poll = calloc(1, rioco_node.handle_size(RIOCO_UV_POLL));
  if (poll == NULL || rioco_node.poll_init(loop, poll, io->epfd) != 0) {
    free(poll);
    io_begin_close(io);
    return NULL;
  }
  rioco_node.set_data(poll, io);
  io->poll = poll;
  rioco_node.unref(poll);
  if (rioco_node.poll_start(poll, UV_READABLE_, on_poll) != 0 ||
      rioco_node.add_async_cleanup_hook(env, on_env_cleanup, io, &io->cleanup) != 0) {
    io->cleanup = NULL;
    io_begin_close(io);
    return NULL;
  }
  return io;
}

void rioco_io_close(rioco_io *io) {
  if (io != NULL) io_begin_close(io);
}

int32_t *rioco_io_ready(rioco_io *io) { return io->ready; }

uint8_t *rioco_io_arms(rioco_io *io) { return io->arms; }

int32_t *rioco_io_wq(rioco_io *io) { return io->wq; }

uint8_t *rioco_io_wq_bytes(rioco_io *io) { return io->wbytes; }

void rioco_io_set_slab(rioco_io *io, uint8_t *slab, int32_t len) {
  io->slab = len > 0 ? slab : NULL;
  io->slab_len = slab != NULL && len > 0 ? len : 0;
  io->slab_off = 0;
}

void rioco_io_ref(rioco_io *io, int32_t on) {
  if (io->poll == NULL) return;
  if (on)
    rioco_node.ref(io->poll);
  else
    rioco_node.unref(io->poll);
}

/* ---- sockets ---- */

int32_t rioco_io_listen(rioco_io *io, int32_t family, const char *addr, int32_t port,
                        int32_t backlog, int32_t flags, int32_t token) {
  struct sockaddr_storage ss;
  int len = make_addr(family, addr, port, &ss);
  if (len < 0) return len;
  int fd = new_socket(family);
  if (fd < 0) return fd;
  int one = 1, rc = 0;
  bool bound = false;
  if (family != RIOCO_IO_UNIX) {
    /* As libuv: rebinding a port in TIME_WAIT is allowed. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) rc = -errno;
    if (rc == 0 && (flags & RIOCO_IO_REUSEPORT) &&
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
      rc = -errno;
    if (rc == 0 && family == 6) {
      int v6only = (flags & RIOCO_IO_V6ONLY) ? 1 : 0;
      if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) != 0) rc = -errno;
    }
  }
  if (rc == 0) {
    if (bind(fd, (struct sockaddr *)&ss, (socklen_t)len) == 0)
      bound = true;
    else
      rc = -errno;
  }
  if (rc == 0 && family == RIOCO_IO_UNIX && (flags & (RIOCO_IO_READABLE_ALL | RIOCO_IO_WRITABLE_ALL))) {
    struct stat st;
    mode_t add = 0;
    if (flags & RIOCO_IO_READABLE_ALL) add |= S_IRUSR | S_IRGRP | S_IROTH;
    if (flags & RIOCO_IO_WRITABLE_ALL) add |= S_IWUSR | S_IWGRP | S_IWOTH;
    if (stat(addr, &st) != 0 || chmod(addr, (st.st_mode & 07777) | add) != 0) rc = -errno;
  }
  if (rc == 0 && listen(fd, backlog > 0 ? backlog : 511) != 0) rc = -errno;
  if (rc != 0) {
    if (family == RIOCO_IO_UNIX && bound) unlink(addr); /* the file is ours: we made it */
    close(fd);
    return rc;
  }
  return adopt(io, fd, token, EPOLLIN);
}

int32_t rioco_io_accept(rioco_io *io, int32_t lfd, int32_t token, int32_t opts,
                        int32_t keepalive_s) {
  int fd;
  do {
    fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    int err = errno;
    if ((err == EMFILE || err == ENFILE) && io->reserve >= 0) {
      /* Out of descriptors: the queued connections would keep the listener readable and
         every accept failing. As libuv does, free the spare descriptor, accept and close
         whatever is queued (the clients see their connection closed), then take the
         spare back; the caller reports EMFILE once. */
      close(io->reserve);
      io->reserve = -1;
      for (;;) {
        int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
          if (errno == EINTR) continue;
          break;
        }
        close(c);
      }
      io->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    return -err;
  }
  int rc = set_stream_opts(fd, opts, keepalive_s);
  if (rc != 0) {
    close(fd);
    return rc;
  }
  return adopt(io, fd, token, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
}

int32_t rioco_io_connect(rioco_io *io, int32_t family, const char *addr, int32_t port,
                         const char *local_addr, int32_t local_port, int32_t token,
                         int32_t opts, int32_t keepalive_s) {
  struct sockaddr_storage ss, local;
  int len = make_addr(family, addr, port, &ss);
  if (len < 0) return len;
  int local_len = 0;
  if (family != RIOCO_IO_UNIX && ((local_addr != NULL && local_addr[0] != '\0') || local_port > 0)) {
    local_len = make_addr(family, local_addr != NULL && local_addr[0] != '\0' ? local_addr
                                  : family == 6                              ? "::"
                                                                             : "0.0.0.0",
                          local_port, &local);
    if (local_len < 0) return local_len;
  }
  int fd = new_socket(family);
  if (fd < 0) return fd;
  int rc = family == RIOCO_IO_UNIX ? 0 : set_stream_opts(fd, opts, keepalive_s);
  if (rc == 0 && local_len > 0 && bind(fd, (struct sockaddr *)&local, (socklen_t)local_len) != 0)
    rc = -errno;
  if (rc == 0 && connect(fd, (struct sockaddr *)&ss, (socklen_t)len) != 0 && errno != EINPROGRESS)
    rc = -errno;
  if (rc != 0) {
    close(fd);
    return rc;
  }
  /* Connected at once (Unix sockets) or in progress: the first writable edge tells. */
  return adopt(io, fd, token, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
}

int32_t rioco_io_sock_error(int32_t fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return -errno;
  return -err;
}

int32_t rioco_io_read(int32_t fd, uint8_t *buf, int32_t off, int32_t len) {
  ssize_t n;
  do {
    n = read(fd, buf + off, (size_t)len);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : (int32_t)n;
}

int32_t rioco_io_write(int32_t fd, const uint8_t *buf, int32_t off, int32_t len) {
  ssize_t n;
  do {
    /* MSG_NOSIGNAL: a write to a closed peer is EPIPE, never SIGPIPE. */
    n = send(fd, buf + off, (size_t)len, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : (int32_t)n;
}

int32_t rioco_io_flush(rioco_io *io, int32_t n) {
  if (n < 0 || n > RIOCO_IO_WQ_MAX) return -EINVAL;
  int32_t short_ = 0;
  for (int32_t i = 0; i < n; i++) {
    int32_t *w = io->wq + 3 * i;
    int32_t off = w[1], len = w[2];
    if (off < 0 || len < 0 || off > RIOCO_IO_WQ_BYTES - len) {
      w[2] = -EINVAL;
      short_++;
      continue;
    }
    int32_t r = rioco_io_write(w[0], io->wbytes, off, len);
    if (r != len) short_++;
    w[2] = r;
  }
  return short_;
}

int32_t rioco_io_shutdown(int32_t fd) { return shutdown(fd, SHUT_WR) == 0 ? 0 : -errno; }

int32_t rioco_io_setopt(int32_t fd, int32_t opts, int32_t keepalive_s) {
  int on = (opts & RIOCO_IO_NODELAY) ? 1 : 0;
  if ((opts & RIOCO_IO_SET_NODELAY) && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0)
    return -errno;
  if (opts & RIOCO_IO_SET_KEEPALIVE) {
    on = (opts & RIOCO_IO_KEEPALIVE) ? 1 : 0;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) != 0) return -errno;
    if (on && keepalive_s > 0 &&
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &keepalive_s, sizeof keepalive_s) != 0)
      return -errno;
  }
  return 0;
}

int32_t rioco_io_close_fd(rioco_io *io, int32_t fd, int32_t reset) {
  if (fd < 0 || (uint32_t)fd >= io->nowned || !io->owned[fd]) return -EBADF;
  if (reset) {
    /* An abortive close: the kernel sends RST instead of FIN. */
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  disown_fd(io, fd);
  if (fd < RIOCO_IO_ARM_MAX) io->arms[fd] = 0;
  /* Closing removes it from the epoll set (no other descriptor refers to it). */
  return close(fd) == 0 ? 0 : -errno;
}

int32_t rioco_io_addr(int32_t fd, int32_t peer, char *out, int32_t cap) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  int rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) : getsockname(fd, (struct sockaddr *)&ss, &len);
  if (rc != 0) return -errno;
  char host[INET6_ADDRSTRLEN + 16];
  int n;
  if (ss.ss_family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    n = snprintf(out, (size_t)cap, "4 %u %s", ntohs(a->sin_port), host);
  } else if (ss.ss_family == AF_INET6) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    n = snprintf(out, (size_t)cap, "6 %u %s", ntohs(a->sin6_port), host);
  } else if (ss.ss_family == AF_UNIX) {
    struct sockaddr_un *a = (struct sockaddr_un *)&ss;
    size_t plen = len > offsetof(struct sockaddr_un, sun_path) ? len - offsetof(struct sockaddr_un, sun_path) : 0;
    if (plen > 0 && a->sun_path[plen - 1] == '\0') plen--;
    n = snprintf(out, (size_t)cap, "u 0 %.*s", (int)plen, a->sun_path);
  } else {
    return -EAFNOSUPPORT;
  }
  return n < 0 || n >= cap ? -ENOSPC : n;
}
