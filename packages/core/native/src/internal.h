/*
 * internal.h - private structures shared by the library's source files.
 *
 * Locking: g_lock (table.c) guards the region list, each region's slot pointer,
 * retired slot arrays and string areas, the host list, the watch array and every
 * host's report queue. The monitor thread holds it while it samples or formats; it is
 * never held across a call into JavaScript, a join or a blocking write.
 * The uv hooks that stamp LOOP_BEAT only try-lock it (they never block the loop).
 * g_svc_lock (monitor.c) guards the monitor thread's start/stop and is never taken by
 * the monitor thread itself, so a join under it cannot deadlock.
 * Lock order: g_svc_lock, then g_lock.
 */
#ifndef RIOCO_INTERNAL_H
#define RIOCO_INTERNAL_H

#include "rioco.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- clock and threads ---- */

int64_t rioco_mono_ns(void);
pid_t rioco_gettid(void);

/* ---- regions (table.c) ---- */

struct rioco_region {
  int32_t runtime_id;
  pid_t tid;              /* owning thread */
  double clock_offset_ms; /* monotonic ms - owner's performance.now() ms */
  rioco_header *header;   /* stable */
  rioco_slot *slots;      /* moves on grow (under g_lock) */
  uint32_t capacity;
  void **retired; /* replaced slot arrays, freed on destroy */
  uint32_t nretired;
  /* string area (strings.c) */
  char **strings; /* index = string id; [0] unused */
  uint32_t nstrings, capstrings;
  int32_t *free_ids;
  uint32_t nfree, capfree;
  char **reasons; /* index = wait-reason id */
  uint32_t nreasons;
  /* stuck-fiber episode (monitor thread only, under g_lock) */
  int32_t ep_current;
  double ep_seq;
  int64_t ep_first_ns;
  uint64_t ep_reported; /* watch bits already told about this episode */
  /* napi env cleanup hook, if registered */
  void *env;
  struct rioco_region *next;
};

extern pthread_mutex_t g_lock;
extern rioco_region *g_regions; /* under g_lock */

double rioco_region_js_ms(const rioco_region *r, int64_t mono_ns);
void rioco_strings_free(rioco_region *r);
/** Name of a string id, or NULL (g_lock held). */
const char *rioco_string_peek(const rioco_region *r, int32_t id);
/** Label of a reason id, or NULL (g_lock held). */
const char *rioco_reason_peek(const rioco_region *r, int32_t id);

/* Relaxed loads of fields another thread writes. */
static inline int32_t rd_i32(const int32_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline double rd_f64(const double *p) {
  double v;
  __atomic_load(p, &v, __ATOMIC_RELAXED);
  return v;
}

/* ---- text buffers (dump.c) ---- */

typedef struct rioco_buf {
  char *p;
  size_t len, cap;
  bool oom;
} rioco_buf;

void rioco_buf_printf(rioco_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rioco_buf_puts_quoted(rioco_buf *b, const char *s);
/** Format the dump of every region (g_lock held). */
void rioco_dump_format(rioco_buf *b);
/** Find fiber `id` in region r (g_lock held); returns a stable copy or false. */
bool rioco_find_fiber(const rioco_region *r, int32_t id, rioco_slot *out);
/** write(2) the whole buffer to fd, retrying on EINTR and short writes. */
void rioco_write_all(int fd, const char *p, size_t len);

/* ---- hosts (host.c) ---- */

#define RIOCO_REPORT_QUEUE 32

typedef struct rioco_report {
  int32_t kind, watch, runtime_id, fiber_id;
  double ms;
  int64_t stderr_at_ns; /* write to stderr if not delivered by then */
  bool stderr_done;
} rioco_report;

struct rioco_host {
  void *env;  /* napi_env */
  void *loop; /* uv_loop_t* */
  pid_t tid;
  rioco_report_fn *cb;
  void *async, *prepare, *check; /* uv handles (malloc'd, uv_handle_size) */
  void *actx;                    /* napi_async_context */
  void *cleanup;                 /* napi_async_cleanup_hook_handle */
  int open_handles;              /* loop thread only */
  bool closing;                  /* loop thread only */
  bool attached;                 /* in g_hosts (under g_lock) */
  _Atomic int64_t beat_ns;       /* written by the loop hooks */
  _Atomic int in_poll;
  /* loop-stall episode (monitor thread, under g_lock) */
  uint64_t last_idle;
  int64_t last_beat, progress_ns;
  uint64_t stall_reported;
  /* reports waiting for the loop (under g_lock) */
  rioco_report queue[RIOCO_REPORT_QUEUE];
  uint32_t nqueue;
  struct rioco_host *next;
};

extern rioco_host *g_hosts; /* under g_lock */

/* Node's uv_* and napi_* functions, found in the process with dlsym (host.c). */
typedef void rioco_uv_cb(void *handle);
typedef void rioco_uv_poll_cb(void *handle, int status, int events);
typedef void rioco_napi_async_cleanup_fn(void *handle, void *arg);

struct rioco_node_api {
  int (*get_uv_event_loop)(void *env, void **loop);
  int (*add_env_cleanup_hook)(void *env, void (*fn)(void *), void *arg);
  int (*remove_env_cleanup_hook)(void *env, void (*fn)(void *), void *arg);
  int (*add_async_cleanup_hook)(void *env, rioco_napi_async_cleanup_fn *fn, void *arg, void **handle);
  int (*remove_async_cleanup_hook)(void *handle);
  int (*open_handle_scope)(void *env, void **scope);
  int (*close_handle_scope)(void *env, void *scope);
  int (*create_object)(void *env, void **result);
  int (*create_string_utf8)(void *env, const char *s, size_t len, void **result);
  int (*async_init)(void *env, void *resource, void *name, void **ctx);
  int (*async_destroy)(void *env, void *ctx);
  int (*open_callback_scope)(void *env, void *resource, void *ctx, void **scope);
  int (*close_callback_scope)(void *env, void *scope);
  int (*is_exception_pending)(void *env, bool *result);
  int (*get_and_clear_last_exception)(void *env, void **result);
  size_t (*handle_size)(int type);
  int (*async_init_uv)(void *loop, void *handle, rioco_uv_cb *cb);
  int (*async_send)(void *handle);
  int (*prepare_init)(void *loop, void *handle);
  int (*prepare_start)(void *handle, rioco_uv_cb *cb);
  int (*check_init)(void *loop, void *handle);
  int (*check_start)(void *handle, rioco_uv_cb *cb);
  void (*unref)(void *handle);
  void (*close)(void *handle, rioco_uv_cb *cb);
  void (*set_data)(void *handle, void *data);
  void *(*get_data)(const void *handle);
  uint64_t (*metrics_idle_time)(void *loop); /* optional */
  /* io.c only (rioco_io_resolve) */
  int (*poll_init)(void *loop, void *handle, int fd);
  int (*poll_start)(void *handle, int events, rioco_uv_poll_cb *cb);
  int (*poll_stop)(void *handle);
  void (*ref)(void *handle);
};
extern struct rioco_node_api rioco_node;

/** libuv handle type numbers (stable across libuv 1.x). */
enum { RIOCO_UV_ASYNC = 1, RIOCO_UV_CHECK = 2, RIOCO_UV_POLL = 8, RIOCO_UV_PREPARE = 9 };

/** Whether the host's symbols resolved (host.c). */
bool rioco_host_resolve(void);
/** Whether the symbols io.c needs resolved too (uv_poll_*, uv_ref). */
bool rioco_io_resolve(void);

/**
 * Calling JavaScript from a uv callback: a handle scope plus a callback scope of the
 * async context `actx` (begin), a check after each call that clears and reports an
 * exception the callback let escape (check; false if there was one), and the close that
 * runs the microtasks and nextTicks the calls queued (end).
 */
typedef struct rioco_call_scope {
  void *hs, *cs;
} rioco_call_scope;
bool rioco_call_begin(void *env, void *actx, rioco_call_scope *s);
bool rioco_call_check(void *env, const char *what);
void rioco_call_end(void *env, rioco_call_scope *s);
/** uv_async_send on a host (g_lock held, host attached). */
void rioco_host_wake(rioco_host *h);
/** uv_metrics_idle_time of the host's loop (g_lock held, host attached). */
uint64_t rioco_host_idle_ns(rioco_host *h);
/** napi env cleanup hooks, no-ops when Node is absent. */
bool rioco_env_hook_add(void *env, void (*fn)(void *), void *arg);
void rioco_env_hook_remove(void *env, void (*fn)(void *), void *arg);

/* ---- watches (monitor.c) ---- */

#define RIOCO_MAX_WATCHES 64

typedef struct rioco_watch {
  bool used;
  pid_t tid;
  rioco_host *host; /* NULL: stderr only */
  uint32_t stuck_ms, stall_ms, sample_ms;
} rioco_watch;

extern rioco_watch g_watches[RIOCO_MAX_WATCHES]; /* under g_lock */

/** Acquire/release the monitor thread (reference counted; release joins at zero). */
int rioco_service_acquire(void);
void rioco_service_release(void);
/** Async-signal-safe: ask the monitor thread for a dump. */
void rioco_service_signal_dump(void);
/** Remove every watch of a host (g_lock held); returns how many were removed. */
int rioco_watches_drop_host(rioco_host *h);

/** Test hook: where reports that go to stderr are written (default 2). */
extern int g_report_fd;

#endif
