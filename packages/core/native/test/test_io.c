/*
 * test_io.c - the native readiness path (io.c) on real loopback sockets, driven by the
 * fake Node loop of test_host.c: registration and events, reads and writes, the end of
 * stream, resets, armed reads into a slab, Unix sockets, EMFILE, and that closing (or the environment ending)
 * releases every descriptor, handle and hook.
 */
#define _GNU_SOURCE
#include "../src/internal.h"
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static struct {
  int calls;
  int32_t count;
  int scopes_seen;
} got;

static void on_ready(int32_t count) {
  got.calls++;
  got.count = count;
  got.scopes_seen = fake_scopes_open();
}

static bool open_fd(int fd) { return fcntl(fd, F_GETFD) != -1; }

/* Readiness seen per token and not yet waited for (events are edges: one poll may
   bring those of several sockets). */
static int32_t seen[64];

/* The readiness of `token`, polling until some shows (or 0 after timeout_ms). */
static int32_t wait_ready(rioco_io *io, int32_t token, int timeout_ms) {
  double deadline = now_ms() + timeout_ms;
  for (;;) {
    int32_t bits = seen[token];
    if (bits != 0) {
      seen[token] = 0;
      return bits;
    }
    if (now_ms() > deadline) return 0;
    int32_t n = rioco_io_poll(io);
    int32_t *ready = rioco_io_ready(io);
    for (int32_t i = 0; i < n; i++) seen[ready[4 * i] & 63] |= ready[4 * i + 1];
    if (n == 0) sleep_ms(1);
  }
}

static int port_of(int fd) {
  char buf[128];
  int n = rioco_io_addr(fd, 0, buf, sizeof buf);
  if (n <= 0 || buf[0] != '4') return -1;
  return atoi(buf + 2);
}

/* A connected pair over loopback TCP: *client and *server (tokens 2 and 3). */
static void tcp_pair(rioco_io *io, int *lfd, int *client, int *server) {
  *lfd = rioco_io_listen(io, 4, "127.0.0.1", 0, 16, 0, 1);
  CHECK(*lfd >= 0);
  *client = rioco_io_connect(io, 4, "127.0.0.1", port_of(*lfd), NULL, 0, 2, RIOCO_IO_NODELAY, 0);
  CHECK(*client >= 0);
  CHECK(wait_ready(io, 1, 2000) & RIOCO_IO_READABLE);
  *server = rioco_io_accept(io, *lfd, 3, RIOCO_IO_NODELAY | RIOCO_IO_KEEPALIVE, 30);
  CHECK(*server >= 0);
  CHECK(wait_ready(io, 2, 2000) & RIOCO_IO_WRITABLE);
  CHECK(rioco_io_sock_error(*client) == 0);
}

TEST(io_opens_an_unrefd_poll_and_closes_everything) {
  memset(seen, 0, sizeof seen);
  CHECK(rioco_io_available() == 1);
  CHECK(rioco_io_open(NULL, on_ready) == NULL);
  int before = fake_handles();
  rioco_io *io = rioco_io_open(fake_env(), on_ready);
  CHECK(io != NULL);
  CHECK(fake_handles() == before + 1 && !fake_poll_refd());
  rioco_io_ref(io, 1);
  CHECK(fake_poll_refd());
  rioco_io_ref(io, 0);
  CHECK(!fake_poll_refd());
  int lfd, c, s;
  tcp_pair(io, &lfd, &c, &s);
  rioco_io_close(io);
  fake_turn();
  CHECK(fake_handles() == before && fake_async_ctxs() == 0 && !fake_async_hooks_live());
  /* Every descriptor the io still owned is closed with it. */
  CHECK(!open_fd(lfd) && !open_fd(c) && !open_fd(s));
}

TEST(io_reads_writes_and_reports_end_and_reset) {
  memset(seen, 0, sizeof seen);
  rioco_io *io = rioco_io_open(fake_env(), on_ready);
  int lfd, c, s;
  tcp_pair(io, &lfd, &c, &s);
  uint8_t buf[256];
  CHECK(rioco_io_read(s, buf, 0, sizeof buf) == -EAGAIN);
  CHECK(rioco_io_accept(io, lfd, 4, 0, 0) == -EAGAIN);
  static const uint8_t msg[] = "hello, io";
  CHECK(rioco_io_write(c, msg, 0, 5) == 5);
  CHECK(rioco_io_write(c, msg, 5, 4) == 4);
  CHECK(wait_ready(io, 3, 2000) & RIOCO_IO_READABLE);
  int total = 0;
  while (total < 9) {
    int n = rioco_io_read(s, buf, 100 + total, 64);
    if (n == -EAGAIN) {
      wait_ready(io, 3, 2000);
      continue;
    }
    CHECK(n > 0);
    if (n <= 0) break;
    total += n;
  }
  CHECK(total == 9 && memcmp(buf + 100, msg, 9) == 0);
  /* Addresses: the client's peer is the listener's port. */
  char a[128];
  CHECK(rioco_io_addr(c, 1, a, sizeof a) > 0);
  char want[64];
  snprintf(want, sizeof want, "4 %d 127.0.0.1", port_of(lfd));
  CHECK(strcmp(a, want) == 0);
  CHECK(rioco_io_addr(c, 1, a, 4) == -ENOSPC);
  /* Half-close: the server reads the end (0), with a hang-up event. */
  CHECK(rioco_io_shutdown(c) == 0);
  int32_t ev = wait_ready(io, 3, 2000);
  CHECK((ev & RIOCO_IO_READABLE) && (ev & RIOCO_IO_HANGUP));
  CHECK(rioco_io_read(s, buf, 0, sizeof buf) == 0);
  /* An abortive close: the peer's next read says ECONNRESET. */
  CHECK(rioco_io_setopt(s, RIOCO_IO_SET_NODELAY, 0) == 0);
  CHECK(rioco_io_close_fd(io, s, 1) == 0);
  CHECK(rioco_io_close_fd(io, s, 0) == -EBADF); /* closed once */
  ev = wait_ready(io, 2, 2000);
  if (!(ev & RIOCO_IO_READABLE)) ev |= wait_ready(io, 2, 2000); /* an earlier writable edge may come first */
  CHECK(ev & RIOCO_IO_READABLE);
  CHECK(rioco_io_read(c, buf, 0, sizeof buf) == -ECONNRESET);
  CHECK(rioco_io_write(c, msg, 0, 3) == -EPIPE); /* no SIGPIPE: the test process lives */
  rioco_io_close_fd(io, c, 0);
  rioco_io_close_fd(io, lfd, 0);
  rioco_io_close(io);
  fake_turn();
}

TEST(io_queued_writes_go_out_in_one_flush_with_their_results) {
  memset(seen, 0, sizeof seen);
  rioco_io *io = rioco_io_open(fake_env(), on_ready);
  int lfd, c, s;
  tcp_pair(io, &lfd, &c, &s);
  int32_t *wq = rioco_io_wq(io);
  uint8_t *bytes = rioco_io_wq_bytes(io);
  CHECK(rioco_io_flush(io, 0) == 0);
  CHECK(rioco_io_flush(io, -1) == -EINVAL && rioco_io_flush(io, RIOCO_IO_WQ_MAX + 1) == -EINVAL);
  /* Two writes to each end of the pair, and two entries outside the bytes. */
  memcpy(bytes, "ping!pong", 9);
  int32_t q[] = {c, 0, 4, s, 4, 5, c, RIOCO_IO_WQ_BYTES - 2, 3, c, -1, 1};
  memcpy(wq, q, sizeof q);
  CHECK(rioco_io_flush(io, 4) == 2);
  CHECK(wq[2] == 4 && wq[5] == 5 && wq[8] == -EINVAL && wq[11] == -EINVAL);
  uint8_t buf[16];
  CHECK(wait_ready(io, 3, 2000) & RIOCO_IO_READABLE);
  CHECK(rioco_io_read(s, buf, 0, sizeof buf) == 4 && memcmp(buf, "ping", 4) == 0);
  CHECK(wait_ready(io, 2, 2000) & RIOCO_IO_READABLE);
  CHECK(rioco_io_read(c, buf, 0, sizeof buf) == 5 && memcmp(buf, "!pong", 5) == 0);
  /* A write the peer reset: -errno in its place, and the flush counts it. */
  CHECK(rioco_io_close_fd(io, s, 1) == 0);
  int32_t ev = wait_ready(io, 2, 2000);
  if (!(ev & RIOCO_IO_READABLE)) wait_ready(io, 2, 2000);
  int32_t q2[] = {c, 0, 4};
  memcpy(wq, q2, sizeof q2);
  CHECK(rioco_io_flush(io, 1) == 1);
  CHECK(wq[2] == -ECONNRESET || wq[2] == -EPIPE);
  rioco_io_close_fd(io, c, 0);
  rioco_io_close_fd(io, lfd, 0);
  rioco_io_close(io);
  fake_turn();
}

/* Poll until an event of `token` arrives; its entry (readiness, offset, result) in *e. */
static bool wait_entry(rioco_io *io, int32_t token, int32_t e[3]) {
  double deadline = now_ms() + 2000;
  while (now_ms() < deadline) {
    int32_t n = rioco_io_poll(io);
    int32_t *ready = rioco_io_ready(io);
    for (int32_t i = 0; i < n; i++) {
      if (ready[4 * i] != token) continue;
      e[0] = ready[4 * i + 1];
      e[1] = ready[4 * i + 2];
      e[2] = ready[4 * i + 3];
      return true;
    }
    if (n == 0) sleep_ms(1);
  }
  return false;
}

TEST(io_armed_reads_fill_the_slab_with_the_event) {
  rioco_io *io = rioco_io_open(fake_env(), on_ready);
  int lfd, c, s;
  tcp_pair(io, &lfd, &c, &s);
  uint8_t *arms = rioco_io_arms(io);
  int32_t *ready = rioco_io_ready(io);
  static uint8_t slab[RIOCO_IO_MIN_READ + 100];
  int32_t e[3];
  /* Not armed: the event only says readable, the bytes stay in the kernel. */
  CHECK(rioco_io_write(c, (const uint8_t *)"one", 0, 3) == 3);
  CHECK(wait_entry(io, 3, e) && (e[0] & RIOCO_IO_READABLE) && e[2] == RIOCO_IO_NOT_READ);
  uint8_t buf[16];
  CHECK(rioco_io_read(s, buf, 0, sizeof buf) == 3);
  /* Armed without a slab: nothing is read either. */
  arms[s] = 1;
  CHECK(rioco_io_write(c, (const uint8_t *)"two", 0, 3) == 3);
  CHECK(wait_entry(io, 3, e) && e[2] == RIOCO_IO_NOT_READ && arms[s] == 1);
  CHECK(rioco_io_read(s, buf, 0, sizeof buf) == 3);
  /* Armed with a slab: the read comes with the event, and disarms. */
  rioco_io_set_slab(io, slab, (int32_t)sizeof slab);
  CHECK(rioco_io_write(c, (const uint8_t *)"three", 0, 5) == 5);
  CHECK(wait_entry(io, 3, e));
  CHECK(e[2] == 5 && e[1] == 0 && (e[0] & RIOCO_IO_DRAINED) && memcmp(slab, "three", 5) == 0);
  CHECK(arms[s] == 0 && ready[4 * RIOCO_IO_BATCH] == 5);
  /* The next one lands after it in the slab. */
  arms[s] = 1;
  CHECK(rioco_io_write(c, (const uint8_t *)"four", 0, 4) == 4);
  CHECK(wait_entry(io, 3, e) && e[2] == 4 && e[1] == 5 && memcmp(slab + 5, "four", 4) == 0);
  CHECK(ready[4 * RIOCO_IO_BATCH] == 9);
  /* Too little room left: JavaScript reads it itself (stays armed). */
  rioco_io_set_slab(io, slab, RIOCO_IO_MIN_READ - 1);
  arms[s] = 1;
  CHECK(rioco_io_write(c, (const uint8_t *)"five", 0, 4) == 4);
  CHECK(wait_entry(io, 3, e) && e[2] == RIOCO_IO_NOT_READ && arms[s] == 1);
  CHECK(rioco_io_read(s, buf, 0, sizeof buf) == 4);
  /* The end of stream: an armed read of 0. */
  rioco_io_set_slab(io, slab, (int32_t)sizeof slab);
  CHECK(rioco_io_shutdown(c) == 0);
  CHECK(wait_entry(io, 3, e) && (e[0] & RIOCO_IO_HANGUP) && e[2] == 0);
  /* A reset: the armed read's result is -ECONNRESET. */
  arms[c] = 1;
  CHECK(rioco_io_close_fd(io, s, 1) == 0);
  bool reset = false;
  for (int k = 0; k < 3 && !reset; k++) reset = wait_entry(io, 2, e) && e[2] == -ECONNRESET;
  CHECK(reset && arms[c] == 0);
  /* Closing disarms (a later descriptor with the same number starts unarmed). */
  arms[c] = 1;
  CHECK(rioco_io_close_fd(io, c, 0) == 0);
  CHECK(arms[c] == 0);
  rioco_io_set_slab(io, NULL, 0);
  rioco_io_close_fd(io, lfd, 0);
  rioco_io_close(io);
  fake_turn();
}

TEST(io_events_reach_javascript_in_one_callback_scope) {
  memset(&got, 0, sizeof got);
  rioco_io *io = rioco_io_open(fake_env(), on_ready);
  int lfd = rioco_io_listen(io, 4, "127.0.0.1", 0, 16, 0, 7);
  CHECK(lfd >= 0);
  int c = rioco_io_connect(io, 4, "127.0.0.1", port_of(lfd), NULL, 0, 8, 0, 0);
  CHECK(c >= 0);
  for (int i = 0; i < 2000 && got.calls == 0; i++) {
    fake_turn();
    if (got.calls == 0) sleep_ms(1);
  }
  CHECK(got.calls >= 1 && got.count >= 1);
  CHECK(got.scopes_seen == 2 && fake_scopes_open() == 0); /* handle + callback scope, closed after */
  int32_t *ready = rioco_io_ready(io);
  bool seen = false;
  for (int32_t i = 0; i < got.count; i++) seen |= ready[4 * i] == 7 || ready[4 * i] == 8;
  CHECK(seen);
  rioco_io_close(io);
  fake_turn();
  CHECK(!open_fd(lfd) && !open_fd(c));
}

TEST(io_connect_to_a_closed_port_is_refused) {
  memset(seen, 0, sizeof seen);
  rioco_io *io = rioco_io_open(fake_env(), on_ready);
  int lfd = rioco_io_listen(io, 4, "127.0.0.1", 0, 16, 0, 1);
  int port = port_of(lfd);
  rioco_io_close_fd(io, lfd, 0);
  int c = rioco_io_connect(io, 4, "127.0.0.1", port, NULL, 0, 2, 0, 0);
  CHECK(c >= 0);
  int32_t ev = wait_ready(io, 2, 2000);
  CHECK(ev & RIOCO_IO_WRITABLE);
  CHECK(rioco_io_sock_error(c) == -ECONNREFUSED);
  /* Bad input never reaches the kernel. */
  CHECK(rioco_io_listen(io, 4, "not-an-address", 0, 16, 0, 3) == -EINVAL);
  CHECK(rioco_io_listen(io, 4, "127.0.0.1", 70000, 16, 0, 3) == -EINVAL);
  char longpath[200];
  memset(longpath, 'x', sizeof longpath - 1);
  longpath[sizeof longpath - 1] = '\0';
  CHECK(rioco_io_listen(io, RIOCO_IO_UNIX, longpath, 0, 16, 0, 3) == -ENAMETOOLONG);
  /* A taken port. */
  int l1 = rioco_io_listen(io, 4, "127.0.0.1", 0, 16, 0, 4);
  CHECK(rioco_io_listen(io, 4, "127.0.0.1", port_of(l1), 16, 0, 5) == -EADDRINUSE);
  rioco_io_close(io);
  fake_turn();
}

TEST(io_unix_sockets_with_modes_and_path_cleanup) {
  memset(seen, 0, sizeof seen);
  rioco_io *io = rioco_io_open(fake_env(), on_ready);
  char dir[] = "/tmp/rioco-io-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[128];
  snprintf(path, sizeof path, "%s/s.sock", dir);
  int lfd = rioco_io_listen(io, RIOCO_IO_UNIX, path, 0, 16, RIOCO_IO_READABLE_ALL | RIOCO_IO_WRITABLE_ALL, 1);
  CHECK(lfd >= 0);
  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0666) == 0666);
  /* The path is taken: EADDRINUSE, and the other listener's file stays. */
  CHECK(rioco_io_listen(io, RIOCO_IO_UNIX, path, 0, 16, 0, 2) == -EADDRINUSE);
  CHECK(stat(path, &st) == 0);
  int c = rioco_io_connect(io, RIOCO_IO_UNIX, path, 0, NULL, 0, 3, 0, 0);
  CHECK(c >= 0);
  CHECK(wait_ready(io, 1, 2000) & RIOCO_IO_READABLE);
  int s = rioco_io_accept(io, lfd, 4, 0, 0);
  CHECK(s >= 0);
  char a[256];
  CHECK(rioco_io_addr(lfd, 0, a, sizeof a) > 0);
  char want[200];
  snprintf(want, sizeof want, "u 0 %s", path);
  CHECK(strcmp(a, want) == 0);
  CHECK(rioco_io_write(c, (const uint8_t *)"u", 0, 1) == 1);
  uint8_t b;
  CHECK(wait_ready(io, 4, 2000) & RIOCO_IO_READABLE);
  CHECK(rioco_io_read(s, &b, 0, 1) == 1 && b == 'u');
  CHECK(rioco_io_connect(io, RIOCO_IO_UNIX, "/nonexistent/rioco.sock", 0, NULL, 0, 5, 0, 0) == -ENOENT);
  rioco_io_close(io);
  fake_turn();
  unlink(path);
  rmdir(dir);
}

TEST(io_out_of_descriptors_drops_the_backlog_and_recovers) {
  /* In a child: the descriptor limit is the whole process's. */
  memset(seen, 0, sizeof seen);
  pid_t pid = fork();
  if (pid == 0) {
    rioco_io *io = rioco_io_open(fake_env(), on_ready);
    int lfd = rioco_io_listen(io, 4, "127.0.0.1", 0, 16, 0, 1);
    struct rlimit rl = {.rlim_cur = 64, .rlim_max = 64};
    if (lfd < 0) _exit(10);
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
      /* valgrind refuses changes to the limit (it keeps descriptors above it): use its own. */
      if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur > 8192) _exit(10);
    }
    int cap = (int)rl.rlim_cur, nfill = 0;
    int *fill = malloc(sizeof(int) * (size_t)cap);
    for (int fd; nfill < cap && (fd = open("/dev/null", O_RDONLY)) >= 0;) fill[nfill++] = fd;
    close(fill[--nfill]); /* one descriptor left: for the client's side */
    int c = rioco_io_connect(io, 4, "127.0.0.1", port_of(lfd), NULL, 0, 2, 0, 0);
    if (c < 0) _exit(11);
    if (!(wait_ready(io, 1, 2000) & RIOCO_IO_READABLE)) _exit(12);
    if (rioco_io_accept(io, lfd, 3, 0, 0) != -EMFILE) _exit(13);
    /* The queued connection was dropped: the next accept finds nothing, no spin. */
    if (rioco_io_accept(io, lfd, 3, 0, 0) != -EMFILE && rioco_io_accept(io, lfd, 3, 0, 0) != -EAGAIN) _exit(14);
    for (int i = 0; i < nfill; i++) close(fill[i]);
    if (rioco_io_accept(io, lfd, 3, 0, 0) != -EAGAIN) _exit(15);
    int c2 = rioco_io_connect(io, 4, "127.0.0.1", port_of(lfd), NULL, 0, 4, 0, 0);
    if (c2 < 0 || !(wait_ready(io, 1, 2000) & RIOCO_IO_READABLE)) _exit(16);
    if (rioco_io_accept(io, lfd, 5, 0, 0) < 0) _exit(17);
    free(fill);
    _exit(0);
  }
  int status = 0;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fprintf(stderr, "  child status %d\n", WEXITSTATUS(status));
}

TEST(io_environment_teardown_closes_the_io_and_its_sockets) {
  memset(seen, 0, sizeof seen);
  rioco_io *io = rioco_io_open(fake_env(), on_ready);
  int lfd, c, s;
  tcp_pair(io, &lfd, &c, &s);
  fake_env_teardown();
  CHECK(!fake_async_hooks_live() && fake_async_ctxs() == 0);
  CHECK(!open_fd(lfd) && !open_fd(c) && !open_fd(s));
}
