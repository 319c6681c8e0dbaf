/*
 * test_host.c - host.c against a fake Node: this executable exports the uv_* and
 * napi_* functions the library resolves with dlsym(RTLD_DEFAULT) (linked -rdynamic),
 * backed by a single-threaded fake loop the test turns by hand. It checks what the
 * real Node cannot show under a sanitizer: handles unref'd and closed, the async
 * context and cleanup hooks paired, callback scopes balanced, nothing leaked.
 */
#define _GNU_SOURCE
#include "../src/internal.h"
#include "check.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#define API __attribute__((visibility("default")))

typedef void cb_fn(void *);
typedef void poll_cb_fn(void *, int, int);
typedef struct fake_handle {
  void *data;
  int type;
  cb_fn *cb, *close_cb;
  poll_cb_fn *poll_cb;
  int fd;
  _Atomic int pending;
  bool active, refd, closing;
} fake_handle;

static struct {
  fake_handle *handles[16];
  int nhandles;
  _Atomic uint64_t idle;
  _Atomic int sends;
} loop;

static struct {
  void (*fn)(void *);
  void *arg;
} env_hooks[16];
static int nenv_hooks;
static struct {
  void (*hook)(void *, void *);
  void *arg;
  bool live;
} async_hooks[8];
static int handle_scopes, callback_scopes, async_ctxs;
static int fake_env_storage;
static void *const ENV = &fake_env_storage;

API int napi_get_uv_event_loop(void *env, void **l) {
  *l = env == ENV ? (void *)&loop : NULL;
  return 0;
}
API int napi_add_env_cleanup_hook(void *env, void (*fn)(void *), void *arg) {
  (void)env;
  env_hooks[nenv_hooks].fn = fn;
  env_hooks[nenv_hooks].arg = arg;
  nenv_hooks++;
  return 0;
}
API int napi_remove_env_cleanup_hook(void *env, void (*fn)(void *), void *arg) {
  (void)env;
  for (int i = 0; i < nenv_hooks; i++) {
    if (env_hooks[i].fn == fn && env_hooks[i].arg == arg) {
      env_hooks[i] = env_hooks[--nenv_hooks];
      return 0;
    }
  }
  return 1;
}
API int napi_add_async_cleanup_hook(void *env, void (*hook)(void *, void *), void *arg, void **h) {
  (void)env;
  for (int i = 0; i < 8; i++) {
    if (!async_hooks[i].live) {
      async_hooks[i].hook = hook;
      async_hooks[i].arg = arg;
      async_hooks[i].live = true;
      *h = &async_hooks[i];
      return 0;
    }
  }
  return 1;
}
API int napi_remove_async_cleanup_hook(void *h) {
  ((__typeof__(&async_hooks[0]))h)->live = false;
  return 0;
}
API int napi_open_handle_scope(void *env, void **s) {
  (void)env;
  handle_scopes++;
  *s = &handle_scopes;
  return 0;
}
API int napi_close_handle_scope(void *env, void *s) {
  (void)env;
  (void)s;
  handle_scopes--;
  return 0;
}
API int napi_create_object(void *env, void **out) {
  *out = env;
  return 0;
}
API int napi_create_string_utf8(void *env, const char *s, size_t n, void **out) {
  (void)s;
  (void)n;
  *out = env;
  return 0;
}
API int napi_async_init(void *env, void *res, void *name, void **ctx) {
  (void)env;
  (void)res;
  (void)name;
  *ctx = malloc(16); /* ASan reports it if napi_async_destroy is never called */
  async_ctxs++;
  return 0;
}
API int napi_async_destroy(void *env, void *ctx) {
  (void)env;
  free(ctx);
  async_ctxs--;
  return 0;
}
API int napi_open_callback_scope(void *env, void *res, void *ctx, void **s) {
  (void)env;
  (void)res;
  (void)ctx;
  callback_scopes++;
  *s = &callback_scopes;
  return 0;
}
API int napi_close_callback_scope(void *env, void *s) {
  (void)env;
  (void)s;
  callback_scopes--;
  return 0;
}
API int napi_is_exception_pending(void *env, bool *r) {
  (void)env;
  *r = false;
  return 0;
}
API int napi_get_and_clear_last_exception(void *env, void **r) {
  (void)env;
  *r = NULL;
  return 0;
}
API size_t uv_handle_size(int type) {
  (void)type;
  return sizeof(fake_handle);
}
static int add_handle(void *h, int type, cb_fn *cb) {
  fake_handle *f = h;
  memset(f, 0, sizeof *f);
  f->type = type;
  f->cb = cb;
  f->refd = true;
  loop.handles[loop.nhandles++] = f;
  return 0;
}
API int uv_async_init(void *l, void *h, cb_fn *cb) {
  (void)l;
  add_handle(h, 1, cb);
  ((fake_handle *)h)->active = true;
  return 0;
}
API int uv_async_send(void *h) {
  atomic_store(&((fake_handle *)h)->pending, 1);
  atomic_fetch_add(&loop.sends, 1);
  return 0;
}
API int uv_prepare_init(void *l, void *h) {
  (void)l;
  return add_handle(h, 9, NULL);
}
API int uv_check_init(void *l, void *h) {
  (void)l;
  return add_handle(h, 2, NULL);
}
static int start(void *h, cb_fn *cb) {
  ((fake_handle *)h)->cb = cb;
  ((fake_handle *)h)->active = true;
  return 0;
}
API int uv_prepare_start(void *h, cb_fn *cb) { return start(h, cb); }
API int uv_check_start(void *h, cb_fn *cb) { return start(h, cb); }
API void uv_unref(void *h) { ((fake_handle *)h)->refd = false; }
API void uv_ref(void *h) { ((fake_handle *)h)->refd = true; }
API int uv_poll_init(void *l, void *h, int fd) {
  (void)l;
  add_handle(h, RIOCO_UV_POLL, NULL);
  ((fake_handle *)h)->fd = fd;
  return 0;
}
API int uv_poll_start(void *h, int events, poll_cb_fn *cb) {
  (void)events;
  ((fake_handle *)h)->poll_cb = cb;
  ((fake_handle *)h)->active = true;
  return 0;
}
API int uv_poll_stop(void *h) {
  ((fake_handle *)h)->active = false;
  return 0;
}
API void uv_close(void *h, cb_fn *cb) {
  ((fake_handle *)h)->closing = true;
  ((fake_handle *)h)->close_cb = cb;
}
API void uv_handle_set_data(void *h, void *d) { ((fake_handle *)h)->data = d; }
API void *uv_handle_get_data(const void *h) { return ((const fake_handle *)h)->data; }
API uint64_t uv_metrics_idle_time(void *l) {
  (void)l;
  return atomic_load(&loop.idle);
}

/* One turn of the fake loop: prepare, poll, check, async callbacks, closes. */
static void turn(bool hooks) {
  for (int i = 0; i < loop.nhandles; i++) {
    fake_handle *f = loop.handles[i];
    if (hooks && !f->closing && f->active && (f->type == 9)) f->cb(f);
  }
  for (int i = 0; i < loop.nhandles; i++) {
    fake_handle *f = loop.handles[i];
    if (f->closing || !f->active || f->type != RIOCO_UV_POLL) continue;
    struct pollfd p = {.fd = f->fd, .events = POLLIN};
    if (poll(&p, 1, 0) == 1) f->poll_cb(f, 0, 1);
  }
  for (int i = 0; i < loop.nhandles; i++) {
    fake_handle *f = loop.handles[i];
    if (hooks && !f->closing && f->active && (f->type == 2)) f->cb(f);
  }
  for (int i = 0; i < loop.nhandles; i++) {
    fake_handle *f = loop.handles[i];
    if (!f->closing && atomic_exchange(&f->pending, 0)) f->cb(f);
  }
  for (int i = 0; i < loop.nhandles;) {
    fake_handle *f = loop.handles[i];
    if (f->closing) {
      loop.handles[i] = loop.handles[--loop.nhandles];
      f->close_cb(f); /* frees f */
    } else {
      i++;
    }
  }
}

static struct {
  int32_t kind, watch, runtime_id, fiber_id;
  double ms;
  int calls;
  int scopes_seen;
} got;

static void on_report(int32_t kind, int32_t watch, int32_t runtime_id, int32_t fiber_id, double ms) {
  got.kind = kind;
  got.watch = watch;
  got.runtime_id = runtime_id;
  got.fiber_id = fiber_id;
  got.ms = ms;
  got.calls++;
  got.scopes_seen = callback_scopes;
}

static bool wait_sends(int n, int timeout_ms) {
  double deadline = now_ms() + timeout_ms;
  while (atomic_load(&loop.sends) < n) {
    if (now_ms() > deadline) return false;
    sleep_ms(1);
  }
  return true;
}

static bool live_async_hooks(void) {
  for (int i = 0; i < 8; i++)
    if (async_hooks[i].live) return true;
  return false;
}

TEST(host_attaches_unrefd_hooks_and_closes_cleanly) {
  CHECK(rioco_host_available() == 1);
  CHECK(rioco_host_open(NULL, on_report) == NULL);
  rioco_host *h = rioco_host_open(ENV, on_report);
  CHECK(h != NULL);
  CHECK(loop.nhandles == 3);
  for (int i = 0; i < loop.nhandles; i++) CHECK(loop.handles[i]->active && !loop.handles[i]->refd);
  CHECK(async_ctxs == 1 && live_async_hooks());
  rioco_region *r = rioco_region_create(61, 2, now_ms(), ENV);
  CHECK(nenv_hooks == 1);
  turn(true);
  double beat = rioco_region_header(r)->loop_beat;
  CHECK(beat > 0 && beat <= now_ms() + 1);
  rioco_host_close(h);
  CHECK(async_ctxs == 0);
  CHECK(live_async_hooks()); /* held until the handles are closed */
  turn(true);
  CHECK(loop.nhandles == 0 && !live_async_hooks());
  rioco_region_destroy(r);
  CHECK(nenv_hooks == 0);
}

TEST(loop_stall_is_reported_through_the_callback_scope) {
  memset(&got, 0, sizeof got);
  atomic_store(&loop.sends, 0);
  rioco_host *h = rioco_host_open(ENV, on_report);
  rioco_region *r = rioco_region_create(62, 2, now_ms(), ENV);
  rioco_slot *s = rioco_region_slots(r);
  s->state = RIOCO_S_RUNNING;
  s->id = 3;
  rioco_region_header(r)->current = 3;
  int32_t w = rioco_watch_add(h, 0, 30, 5);
  CHECK(w >= 0);
  /* An idle loop (idle time growing) is not stalled. */
  for (int i = 0; i < 40; i++) {
    atomic_fetch_add(&loop.idle, 1000000);
    sleep_ms(2);
  }
  CHECK(atomic_load(&loop.sends) == 0);
  /* Now nothing moves: stalled. */
  CHECK(wait_sends(1, 5000));
  turn(false);
  CHECK(got.calls == 1 && got.kind == RIOCO_REPORT_LOOP_STALL && got.watch == w);
  CHECK(got.runtime_id == 62 && got.fiber_id == 3 && got.ms >= 30);
  CHECK(got.scopes_seen == 1 && callback_scopes == 0 && handle_scopes == 0);
  rioco_watch_remove(w);
  rioco_host_close(h);
  turn(false);
  rioco_region_destroy(r);
  CHECK(loop.nhandles == 0 && rioco_monitor_tid() == 0);
}

TEST(stuck_fiber_report_falls_back_to_stderr_when_js_is_blocked) {
  memset(&got, 0, sizeof got);
  atomic_store(&loop.sends, 0);
  int fd = capture_begin();
  rioco_host *h = rioco_host_open(ENV, on_report);
  rioco_region *r = rioco_region_create(63, 2, now_ms(), ENV);
  rioco_slot *s = rioco_region_slots(r);
  s->state = RIOCO_S_RUNNING;
  s->name = rioco_string_put(r, "hog");
  s->id = 4;
  rioco_region_header(r)->current = 4;
  int32_t w = rioco_watch_add(h, 20, 0, 5);
  CHECK(wait_sends(1, 5000));
  /* The loop does not turn (JavaScript is blocked): one threshold later, stderr. */
  CHECK(capture_wait(fd, "has not taken the report\n", 5000));
  CHECK(strstr(capture_text(), "rioco: fiber #4 \"hog\" (runtime 63, thread ") != NULL);
  turn(false); /* when it turns at last, the callback still hears about it */
  CHECK(got.calls == 1 && got.kind == RIOCO_REPORT_STUCK_FIBER && got.fiber_id == 4);
  rioco_watch_remove(w);
  rioco_host_close(h);
  turn(false);
  rioco_region_destroy(r);
  capture_end(fd);
}

TEST(environment_teardown_closes_hosts_regions_and_signal) {
  uint32_t regions = rioco_region_count();
  rioco_host *h = rioco_host_open(ENV, on_report);
  int32_t w = rioco_watch_add(h, 1000, 1000, 0);
  CHECK(w >= 0 && rioco_monitor_tid() != 0);
  rioco_region_create(64, 2, now_ms(), ENV);
  CHECK(rioco_signal_install(ENV) == RIOCO_OK);
  CHECK(rioco_region_count() == regions + 1 && nenv_hooks == 2);
  /* The environment ends: Node runs the hooks, then turns the loop until the async
     cleanup hooks are removed. */
  for (int i = 0; i < 8; i++)
    if (async_hooks[i].live) async_hooks[i].hook(&async_hooks[i], async_hooks[i].arg);
  while (nenv_hooks > 0) {
    nenv_hooks--;
    env_hooks[nenv_hooks].fn(env_hooks[nenv_hooks].arg);
  }
  CHECK(rioco_monitor_tid() == 0);
  for (int i = 0; i < 10 && live_async_hooks(); i++) turn(false);
  CHECK(!live_async_hooks() && loop.nhandles == 0 && async_ctxs == 0);
  CHECK(rioco_region_count() == regions);
  rioco_watch_remove(w); /* stale: ignored */
}

/* ---- for test_io.c ---- */

void *fake_env(void) { return ENV; }
void fake_turn(void) { turn(false); }
int fake_handles(void) { return loop.nhandles; }
bool fake_poll_refd(void) {
  for (int i = 0; i < loop.nhandles; i++)
    if (loop.handles[i]->type == RIOCO_UV_POLL) return loop.handles[i]->refd;
  return false;
}
int fake_scopes_open(void) { return handle_scopes + callback_scopes; }
int fake_async_ctxs(void) { return async_ctxs; }
bool fake_async_hooks_live(void) { return live_async_hooks(); }
/* The environment ends: run its async cleanup hooks, then turn until they are gone. */
void fake_env_teardown(void) {
  for (int i = 0; i < 8; i++)
    if (async_hooks[i].live) async_hooks[i].hook(&async_hooks[i], async_hooks[i].arg);
  for (int i = 0; i < 10 && live_async_hooks(); i++) turn(false);
}
