/*
 * monitor.c - the monitor thread: stuck-fiber and loop-stall detection, and the dump
 * that SIGQUIT or rioco_dump_request asks for.
 *
 * One thread per process, running while anything needs it (watches, the signal
 * handler), reference counted under g_svc_lock and joined when the count drops to 0.
 * It blocks in poll(2) on a wake pipe: with no watch the timeout is infinite, with
 * watches it is the shortest sampling period, so an idle process costs one wake-up per
 * period and nothing else. It blocks all signals; the SIGQUIT handler (any thread)
 * sets g_dump_pending and writes one byte to the pipe, both async-signal-safe.
 * The pipe is created once and never closed, so a late signal never writes to a
 * recycled descriptor.
 *
 * Detection, every sampling period, under g_lock:
 *  - stuck fiber: a region whose header has CURRENT != 0 with the same CURRENT and
 *    SWITCH_SEQ as at the previous samples; the episode starts when the pair was first
 *    seen and ends when either moves. Each watch hears about an episode once.
 *  - loop stall: a host whose loop neither stamped a beat (prepare/check) nor spent
 *    time idle in the kernel (uv_metrics_idle_time) since the last sample in which it
 *    did. A loop blocked in a callback run from the poll phase is caught too, since
 *    its idle time stops growing as well.
 * Reports for a watch with a host are queued there and the host's uv_async is sent;
 * if JavaScript has not taken a report one threshold later (the thread is still
 * blocked), it is also written to stderr. Watches without a host write to stderr.
 * The monitor never calls into JavaScript and never blocks on a JavaScript thread.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

rioco_watch g_watches[RIOCO_MAX_WATCHES];
int g_report_fd = 2;

static pthread_mutex_t g_svc_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_svc_refs;
static pthread_t g_svc_thread;
static int g_wake_r = -1;
static _Atomic int g_wake_w = -1;
static _Atomic bool g_svc_stop;
static _Atomic int g_dump_pending;
static _Atomic int32_t g_svc_tid;
static sem_t g_svc_started; /* posted once the thread has published its tid */
static uint32_t g_watch_gen; /* under g_lock */
static uint32_t g_watch_ids[RIOCO_MAX_WATCHES];

#define WATCH_ID(idx) ((int32_t)((g_watch_ids[idx] << 6) | (uint32_t)(idx)))

static void wake(char c) {
  int fd = atomic_load(&g_wake_w);
  if (fd >= 0) {
    ssize_t n = write(fd, &c, 1); /* EAGAIN: the pipe is full, the thread will wake */
    (void)n;
  }
}

void rioco_service_signal_dump(void) {
  atomic_store(&g_dump_pending, 1);
  wake('d');
}

void rioco_dump_request(void) { rioco_service_signal_dump(); }

int32_t rioco_monitor_tid(void) { return atomic_load(&g_svc_tid); }

/* ---- reports ---- */

static const rioco_region *region_of(pid_t tid, int32_t runtime_id) {
  for (const rioco_region *r = g_regions; r != NULL; r = r->next)
    if (r->tid == tid && r->runtime_id == runtime_id) return r;
  return NULL;
}

static const rioco_region *running_region_of(pid_t tid) {
  for (const rioco_region *r = g_regions; r != NULL; r = r->next)
    if (r->tid == tid && rd_i32(&r->header->current) != 0) return r;
  return NULL;
}

static void put_fiber(rioco_buf *b, const rioco_region *r, int32_t fiber_id) {
  rioco_slot s;
  rioco_buf_printf(b, "fiber #%d ", fiber_id);
  const char *name = NULL;
  if (r != NULL && rioco_find_fiber(r, fiber_id, &s)) name = rioco_string_peek(r, s.name);
  if (name != NULL)
    rioco_buf_puts_quoted(b, name);
  else
    rioco_buf_printf(b, "\"fiber-%d\"", fiber_id);
}

/* One stderr line for a report (g_lock held). */
static void format_report(rioco_buf *b, pid_t tid, const rioco_report *rep, bool late) {
  if (rep->kind == RIOCO_REPORT_STUCK_FIBER) {
    rioco_buf_printf(b, "rioco: ");
    put_fiber(b, region_of(tid, rep->runtime_id), rep->fiber_id);
    rioco_buf_printf(b, " (runtime %d, thread %d) has run %.0f ms without yielding", rep->runtime_id,
                     (int)tid, rep->ms);
  } else {
    rioco_buf_printf(b, "rioco: the event loop of thread %d has not turned for %.0f ms", (int)tid,
                     rep->ms);
    if (rep->fiber_id != 0) {
      rioco_buf_printf(b, " (running ");
      put_fiber(b, region_of(tid, rep->runtime_id), rep->fiber_id);
      rioco_buf_printf(b, ")");
    }
  }
  rioco_buf_printf(b, "%s\n", late ? "; JavaScript on that thread has not taken the report" : "");
}

static void emit(rioco_buf *out, int idx, int32_t kind, int32_t runtime_id, int32_t fiber_id,
                 double ms, int64_t now, uint32_t threshold_ms) {
  rioco_watch *w = &g_watches[idx];
  rioco_report rep = {.kind = kind,
                      .watch = WATCH_ID(idx),
                      .runtime_id = runtime_id,
                      .fiber_id = fiber_id,
                      .ms = ms,
                      .stderr_at_ns = now + (int64_t)threshold_ms * 1000000,
                      .stderr_done = false};
  rioco_host *h = w->host;
  if (h == NULL || !h->attached || h->nqueue == RIOCO_REPORT_QUEUE) {
    format_report(out, w->tid, &rep, false);
    return;
  }
  h->queue[h->nqueue++] = rep;
  rioco_host_wake(h);
}

static int sample_period_ms(void) {
  int period = -1;
  pthread_mutex_lock(&g_lock);
  for (int i = 0; i < RIOCO_MAX_WATCHES; i++) {
    if (g_watches[i].used && (period < 0 || (int)g_watches[i].sample_ms < period))
      period = (int)g_watches[i].sample_ms;
  }
  pthread_mutex_unlock(&g_lock);
  return period;
}

static void sample(void) {
  rioco_buf out = {0};
  pthread_mutex_lock(&g_lock);
  int64_t now = rioco_mono_ns();
  for (rioco_region *r = g_regions; r != NULL; r = r->next) {
    int32_t cur = rd_i32(&r->header->current);
    double seq = rd_f64(&r->header->switch_seq);
    if (cur == 0 || cur != r->ep_current || seq != r->ep_seq) {
      r->ep_current = cur;
      r->ep_seq = seq;
      r->ep_first_ns = now;
      r->ep_reported = 0;
      continue;
    }
    double ms = (double)(now - r->ep_first_ns) / 1e6;
    for (int i = 0; i < RIOCO_MAX_WATCHES; i++) {
      rioco_watch *w = &g_watches[i];
      if (!w->used || w->tid != r->tid || w->stuck_ms == 0 || ms < w->stuck_ms ||
          (r->ep_reported & (1ull << i)))
        continue;
      r->ep_reported |= 1ull << i;
      emit(&out, i, RIOCO_REPORT_STUCK_FIBER, r->runtime_id, cur, ms, now, w->stuck_ms);
    }
  }
  for (rioco_host *h = g_hosts; h != NULL; h = h->next) {
    uint64_t idle = rioco_host_idle_ns(h);
    int64_t beat = atomic_load_explicit(&h->beat_ns, memory_order_relaxed);
    bool in_poll = atomic_load_explicit(&h->in_poll, memory_order_relaxed) != 0;
    /* Without loop metrics (idle always 0), a loop parked in poll counts as turning. */
    if (h->progress_ns == 0 || idle != h->last_idle || beat != h->last_beat ||
        (idle == 0 && in_poll)) {
      h->last_idle = idle;
      h->last_beat = beat;
      h->progress_ns = now;
      h->stall_reported = 0;
    } else {
      double ms = (double)(now - h->progress_ns) / 1e6;
      const rioco_region *running = running_region_of(h->tid);
      for (int i = 0; i < RIOCO_MAX_WATCHES; i++) {
        rioco_watch *w = &g_watches[i];
        if (!w->used || w->host != h || w->stall_ms == 0 || ms < w->stall_ms ||
            (h->stall_reported & (1ull << i)))
          continue;
        h->stall_reported |= 1ull << i;
        emit(&out, i, RIOCO_REPORT_LOOP_STALL, running ? running->runtime_id : 0,
             running ? rd_i32(&running->header->current) : 0, ms, now, w->stall_ms);
      }
    }
    /* Reports JavaScript has not taken one threshold later: its thread is blocked. */
    for (uint32_t q = 0; q < h->nqueue; q++) {
      rioco_report *rep = &h->queue[q];
      if (!rep->stderr_done && now >= rep->stderr_at_ns) {
        rep->stderr_done = true;
        format_report(&out, h->tid, rep, true);
      }
    }
  }
  pthread_mutex_unlock(&g_lock);
  if (out.len > 0) rioco_write_all(g_report_fd, out.p, out.len);
  free(out.p);
}

static void dump_to_stderr(void) {
  rioco_buf b = {0};
  pthread_mutex_lock(&g_lock);
  rioco_dump_format(&b);
  pthread_mutex_unlock(&g_lock);
  if (b.oom) {
    static const char msg[] = "rioco: fiber dump failed: out of memory\n";
    rioco_write_all(g_report_fd, msg, sizeof msg - 1);
  } else {
    rioco_write_all(g_report_fd, b.p, b.len);
  }
  free(b.p);
}

static void *svc_main(void *arg) {
  (void)arg;
  atomic_store(&g_svc_tid, (int32_t)rioco_gettid());
  sem_post(&g_svc_started);
  int64_t next_sample = 0;
  for (;;) {
    int period = sample_period_ms();
    int timeout = -1;
    if (period >= 0) {
      int64_t now = rioco_mono_ns();
      if (next_sample == 0) next_sample = now + (int64_t)period * 1000000;
      int64_t left = next_sample - now;
      timeout = left <= 0 ? 0 : (int)((left + 999999) / 1000000);
    } else {
      next_sample = 0;
    }
    struct pollfd p = {.fd = g_wake_r, .events = POLLIN};
    int rc = poll(&p, 1, timeout);
    if (rc > 0) {
      char buf[64];
      while (read(g_wake_r, buf, sizeof buf) > 0) {
      }
    }
    if (atomic_load(&g_svc_stop)) break;
    if (atomic_exchange(&g_dump_pending, 0)) dump_to_stderr();
    if (period >= 0 && rioco_mono_ns() >= next_sample) {
      sample();
      next_sample = rioco_mono_ns() + (int64_t)period * 1000000;
    }
  }
  atomic_store(&g_svc_tid, 0);
  return NULL;
}

int rioco_service_acquire(void) {
  pthread_mutex_lock(&g_svc_lock);
  if (g_svc_refs == 0) {
    if (g_wake_r < 0) {
      int fds[2];
      if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
        pthread_mutex_unlock(&g_svc_lock);
        return RIOCO_ESYS;
      }
      g_wake_r = fds[0];
      atomic_store(&g_wake_w, fds[1]);
      sem_init(&g_svc_started, 0, 0);
    }
    atomic_store(&g_svc_stop, false);
    sigset_t all, old;
    sigfillset(&all);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the thread starts with every signal blocked */
    int rc = pthread_create(&g_svc_thread, &attr, svc_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
      pthread_mutex_unlock(&g_svc_lock);
      errno = rc;
      return RIOCO_ESYS;
    }
    pthread_setname_np(g_svc_thread, "rioco-monitor");
    while (sem_wait(&g_svc_started) != 0) {
    }
  }
  g_svc_refs++;
  pthread_mutex_unlock(&g_svc_lock);
  return RIOCO_OK;
}

void rioco_service_release(void) {
  pthread_mutex_lock(&g_svc_lock);
  if (g_svc_refs > 0 && --g_svc_refs == 0) {
    atomic_store(&g_svc_stop, true);
    wake('s');
    pthread_join(g_svc_thread, NULL);
  }
  pthread_mutex_unlock(&g_svc_lock);
}

/* ---- watches ---- */

static void forget_watch(int idx) {
  g_watches[idx].used = false;
  uint64_t keep = ~(1ull << idx);
  for (rioco_region *r = g_regions; r != NULL; r = r->next) r->ep_reported &= keep;
  for (rioco_host *h = g_hosts; h != NULL; h = h->next) {
    h->stall_reported &= keep;
    uint32_t k = 0;
    for (uint32_t q = 0; q < h->nqueue; q++)
      if (h->queue[q].watch != WATCH_ID(idx)) h->queue[k++] = h->queue[q];
    h->nqueue = k;
  }
}

int32_t rioco_watch_add(rioco_host *host, uint32_t stuck_ms, uint32_t loop_stall_ms,
                        uint32_t sample_ms) {
  if (stuck_ms == 0 && loop_stall_ms == 0) return RIOCO_EINVAL;
  if (sample_ms == 0) {
    uint32_t t = stuck_ms;
    if (t == 0 || (loop_stall_ms != 0 && loop_stall_ms < t)) t = loop_stall_ms;
    sample_ms = t / 4;
    if (sample_ms > 100) sample_ms = 100;
    if (sample_ms < 5) sample_ms = 5;
  }
  if (sample_ms > 60000) sample_ms = 60000;
  pthread_mutex_lock(&g_lock);
  if (host != NULL && !host->attached) {
    pthread_mutex_unlock(&g_lock);
    return RIOCO_EINVAL;
  }
  int idx = -1;
  for (int i = 0; i < RIOCO_MAX_WATCHES; i++) {
    if (!g_watches[i].used) {
      idx = i;
      break;
    }
  }
  if (idx < 0) {
    pthread_mutex_unlock(&g_lock);
    return RIOCO_EFULL;
  }
  g_watch_gen = (g_watch_gen + 1) & 0xFFFFFF;
  g_watch_ids[idx] = g_watch_gen;
  g_watches[idx] = (rioco_watch){.used = true,
                                 .tid = host != NULL ? host->tid : rioco_gettid(),
                                 .host = host,
                                 .stuck_ms = stuck_ms,
                                 .stall_ms = loop_stall_ms,
                                 .sample_ms = sample_ms};
  int32_t id = WATCH_ID(idx);
  pthread_mutex_unlock(&g_lock);
  int rc = rioco_service_acquire();
  if (rc != RIOCO_OK) {
    pthread_mutex_lock(&g_lock);
    forget_watch(idx);
    pthread_mutex_unlock(&g_lock);
    return rc;
  }
  wake('p'); /* the thread may be blocked without a timeout: make it sample */
  return id;
}

void rioco_watch_remove(int32_t watch) {
  if (watch < 0) return;
  int idx = watch & 63;
  bool removed = false;
  pthread_mutex_lock(&g_lock);
  if (g_watches[idx].used && WATCH_ID(idx) == watch) {
    forget_watch(idx);
    removed = true;
  }
  pthread_mutex_unlock(&g_lock);
  if (removed) rioco_service_release();
}

int rioco_watches_drop_host(rioco_host *h) {
  int n = 0;
  for (int i = 0; i < RIOCO_MAX_WATCHES; i++) {
    if (g_watches[i].used && g_watches[i].host == h) {
      forget_watch(i);
      n++;
    }
  }
  return n;
}
