/*
 * host.c - the library's link to a Node.js thread: its event loop and its napi_env.
 *
 * The uv_* and napi_* symbols are resolved at run time from the process (the node
 * executable exports them), so the library links and its C tests run without Node.
 *
 * A host belongs to one JavaScript thread and lives on that thread's own loop (from
 * napi_get_uv_event_loop; in a worker, uv_default_loop() would be the main thread's):
 *  - an unref'd uv_async: the monitor thread queues reports under g_lock and calls
 *    uv_async_send (the only uv call that is safe from another thread); the callback
 *    runs on the loop and calls the JavaScript report function inside a callback scope
 *    so the promise jobs it schedules run;
 *  - unref'd uv_prepare/uv_check hooks that stamp `beat_ns` (atomic) and, when g_lock
 *    is free, LOOP_BEAT in the headers of the thread's regions.
 * None of the handles keeps the process alive.
 *
 * Lifetime: open and close run on the loop thread. Closing detaches the host under
 * g_lock (so the monitor thread stops touching it), drops its watches, then uv_closes
 * the three handles; the host is freed by the last close callback. An async cleanup
 * hook registered at open closes the host if the environment ends first (worker exit,
 * process end) and holds the environment's teardown until the handles are closed.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAPI_AUTO_LENGTH_ SIZE_MAX

struct rioco_node_api rioco_node;

static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;
static bool resolved, io_resolved;

#define SYM(field, name)                                      \
  do {                                                        \
    *(void **)(&rioco_node.field) = dlsym(RTLD_DEFAULT, name); \
    if (rioco_node.field == NULL) ok = false;                 \
  } while (0)

static void resolve(void) {
  bool ok = true;
  SYM(get_uv_event_loop, "napi_get_uv_event_loop");
  SYM(add_env_cleanup_hook, "napi_add_env_cleanup_hook");
  SYM(remove_env_cleanup_hook, "napi_remove_env_cleanup_hook");
  SYM(add_async_cleanup_hook, "napi_add_async_cleanup_hook");
  SYM(remove_async_cleanup_hook, "napi_remove_async_cleanup_hook");
  SYM(open_handle_scope, "napi_open_handle_scope");
  SYM(close_handle_scope, "napi_close_handle_scope");
  SYM(create_object, "napi_create_object");
  SYM(create_string_utf8, "napi_create_string_utf8");
  SYM(async_init, "napi_async_init");
  SYM(async_destroy, "napi_async_destroy");
  SYM(open_callback_scope, "napi_open_callback_scope");
  SYM(close_callback_scope, "napi_close_callback_scope");
  SYM(is_exception_pending, "napi_is_exception_pending");
  SYM(get_and_clear_last_exception, "napi_get_and_clear_last_exception");
  SYM(handle_size, "uv_handle_size");
  SYM(async_init_uv, "uv_async_init");
  SYM(async_send, "uv_async_send");
  SYM(prepare_init, "uv_prepare_init");
  SYM(prepare_start, "uv_prepare_start");
  SYM(check_init, "uv_check_init");
  SYM(check_start, "uv_check_start");
  SYM(unref, "uv_unref");
  SYM(close, "uv_close");
  SYM(set_data, "uv_handle_set_data");
  SYM(get_data, "uv_handle_get_data");
  *(void **)(&rioco_node.metrics_idle_time) = dlsym(RTLD_DEFAULT, "uv_metrics_idle_time");
  resolved = ok;
  /* The sockets' readiness path (io.c) needs uv_poll on top of the host's symbols. */
  SYM(poll_init, "uv_poll_init");
  SYM(poll_start, "uv_poll_start");
  SYM(poll_stop, "uv_poll_stop");
  SYM(ref, "uv_ref");
  io_resolved = ok;
}

bool rioco_host_resolve(void) {
  pthread_once(&resolve_once, resolve);
  return resolved;
}

bool rioco_io_resolve(void) {
  pthread_once(&resolve_once, resolve);
  return io_resolved;
}

int32_t rioco_host_available(void) { return rioco_host_resolve() ? 1 : 0; }

bool rioco_call_begin(void *env, void *actx, rioco_call_scope *s) {
  void *resource = NULL;
  s->hs = s->cs = NULL;
  if (rioco_node.open_handle_scope(env, &s->hs) != 0) return false;
  if (rioco_node.create_object(env, &resource) != 0 ||
      rioco_node.open_callback_scope(env, resource, actx, &s->cs) != 0)
    s->cs = NULL;
  return true;
}

bool rioco_call_check(void *env, const char *what) {
  bool pending = false;
  if (rioco_node.is_exception_pending(env, &pending) != 0 || !pending) return true;
  /* The JavaScript side catches everything; an exception here must not leak into the
     next unrelated napi call, so clear it and say so. */
  void *ex = NULL;
  rioco_node.get_and_clear_last_exception(env, &ex);
  rioco_buf b = {0};
  rioco_buf_printf(&b, "rioco: %s threw; it was dropped\n", what);
  if (!b.oom) rioco_write_all(g_report_fd, b.p, b.len);
  free(b.p);
  return false;
}

void rioco_call_end(void *env, rioco_call_scope *s) {
  /* Closing the callback scope runs the microtasks and nextTicks the callback queued. */
  if (s->cs != NULL) rioco_node.close_callback_scope(env, s->cs);
  rioco_node.close_handle_scope(env, s->hs);
}

rioco_host *g_hosts;

bool rioco_env_hook_add(void *env, void (*fn)(void *), void *arg) {
  return rioco_host_resolve() && rioco_node.add_env_cleanup_hook(env, fn, arg) == 0;
}

void rioco_env_hook_remove(void *env, void (*fn)(void *), void *arg) {
  if (rioco_host_resolve()) rioco_node.remove_env_cleanup_hook(env, fn, arg);
}

void rioco_host_wake(rioco_host *h) { rioco_node.async_send(h->async); }

uint64_t rioco_host_idle_ns(rioco_host *h) {
  return rioco_node.metrics_idle_time != NULL ? rioco_node.metrics_idle_time(h->loop) : 0;
}

/* ---- loop hooks (loop thread) ---- */

static void stamp(rioco_host *h, int in_poll) {
  int64_t now = rioco_mono_ns();
  atomic_store_explicit(&h->beat_ns, now, memory_order_relaxed);
  atomic_store_explicit(&h->in_poll, in_poll, memory_order_relaxed);
  /* LOOP_BEAT is informational; never make the loop wait for the monitor. */
  if (pthread_mutex_trylock(&g_lock) != 0) return;
  for (rioco_region *r = g_regions; r != NULL; r = r->next) {
    if (r->tid == h->tid) r->header->loop_beat = rioco_region_js_ms(r, now);
  }
  pthread_mutex_unlock(&g_lock);
}

static void on_prepare(void *handle) { stamp(rioco_node.get_data(handle), 1); }
static void on_check(void *handle) { stamp(rioco_node.get_data(handle), 0); }

static void on_async(void *handle) {
  rioco_host *h = rioco_node.get_data(handle);
  if (h->closing) return;
  rioco_report batch[RIOCO_REPORT_QUEUE];
  pthread_mutex_lock(&g_lock);
  uint32_t n = h->nqueue;
  memcpy(batch, h->queue, n * sizeof batch[0]);
  h->nqueue = 0;
  pthread_mutex_unlock(&g_lock);
  if (n == 0) return;
  rioco_call_scope scope;
  if (!rioco_call_begin(h->env, h->actx, &scope)) return;
  for (uint32_t i = 0; i < n && !h->closing; i++) {
    h->cb(batch[i].kind, batch[i].watch, batch[i].runtime_id, batch[i].fiber_id, batch[i].ms);
    rioco_call_check(h->env, "a monitor report callback");
  }
  rioco_call_end(h->env, &scope);
}

/* ---- open / close ---- */

static void host_free(rioco_host *h) {
  if (h->cleanup != NULL) rioco_node.remove_async_cleanup_hook(h->cleanup);
  free(h);
}

static void on_closed(void *handle) {
  rioco_host *h = rioco_node.get_data(handle);
  free(handle);
  if (--h->open_handles == 0) host_free(h);
}

static void host_begin_close(rioco_host *h) {
  if (h->closing) return;
  h->closing = true;
  pthread_mutex_lock(&g_lock);
  for (rioco_host **p = &g_hosts; *p != NULL; p = &(*p)->next) {
    if (*p == h) {
      *p = h->next;
      break;
    }
  }
  h->attached = false;
  h->nqueue = 0;
  int dropped = rioco_watches_drop_host(h);
  pthread_mutex_unlock(&g_lock);
  /* Joins the monitor thread if it was the last user: it no longer sees this host. */
  for (int i = 0; i < dropped; i++) rioco_service_release();
  if (h->actx != NULL) {
    rioco_node.async_destroy(h->env, h->actx);
    h->actx = NULL;
  }
  void *handles[3] = {h->async, h->prepare, h->check};
  int n = h->open_handles;
  if (n == 0) {
    for (int i = 0; i < 3; i++) free(handles[i]);
    host_free(h);
    return;
  }
  for (int i = 0; i < 3; i++) {
    if (i < n)
      rioco_node.close(handles[i], on_closed);
    else
      free(handles[i]);
  }
}

static void on_env_cleanup(void *handle, void *arg) {
  rioco_host *h = arg;
  h->cleanup = handle;
  if (h->closing) return; /* already closing: the last close callback removes the hook */
  host_begin_close(h);
}

rioco_host *rioco_host_open(void *env, rioco_report_fn *cb) {
  if (env == NULL || cb == NULL || !rioco_host_resolve()) return NULL;
  void *loop = NULL;
  if (rioco_node.get_uv_event_loop(env, &loop) != 0 || loop == NULL) return NULL;
  rioco_host *h = calloc(1, sizeof *h);
  if (h == NULL) return NULL;
  h->env = env;
  h->loop = loop;
  h->tid = rioco_gettid();
  h->cb = cb;
  h->async = calloc(1, rioco_node.handle_size(RIOCO_UV_ASYNC));
  h->prepare = calloc(1, rioco_node.handle_size(RIOCO_UV_PREPARE));
  h->check = calloc(1, rioco_node.handle_size(RIOCO_UV_CHECK));
  void *name = NULL, *resource = NULL;
  if (h->async == NULL || h->prepare == NULL || h->check == NULL ||
      rioco_node.create_string_utf8(env, "rioco.monitor", NAPI_AUTO_LENGTH_, &name) != 0 ||
      rioco_node.create_object(env, &resource) != 0 || rioco_node.async_init(env, resource, name, &h->actx) != 0) {
    h->actx = NULL;
    host_begin_close(h);
    return NULL;
  }
  /* Handles are counted as they are initialised so a failure closes exactly those. */
  if (rioco_node.async_init_uv(loop, h->async, on_async) != 0) goto fail;
  rioco_node.set_data(h->async, h);
  rioco_node.unref(h->async);
  h->open_handles++;
  if (rioco_node.prepare_init(loop, h->prepare) != 0) goto fail;
  rioco_node.set_data(h->prepare, h);
  rioco_node.unref(h->prepare);
  h->open_handles++;
  if (rioco_node.check_init(loop, h->check) != 0) goto fail;
  rioco_node.set_data(h->check, h);
  rioco_node.unref(h->check);
  h->open_handles++;
  if (rioco_node.prepare_start(h->prepare, on_prepare) != 0 || rioco_node.check_start(h->check, on_check) != 0)
    goto fail;
  if (rioco_node.add_async_cleanup_hook(env, on_env_cleanup, h, &h->cleanup) != 0) {
    h->cleanup = NULL;
    goto fail;
  }
  atomic_store(&h->beat_ns, rioco_mono_ns());
  pthread_mutex_lock(&g_lock);
  h->next = g_hosts;
  g_hosts = h;
  h->attached = true;
  pthread_mutex_unlock(&g_lock);
  return h;
fail:
  host_begin_close(h);
  return NULL;
}

void rioco_host_close(rioco_host *h) {
  if (h != NULL) host_begin_close(h);
}
