/*
 * dump.c - the fiber dump: every fiber of every region, formatted from native memory.
 *
 * Runs on the monitor thread (SIGQUIT) or the calling thread (rioco_dump), never in a
 * signal handler: it allocates. It holds g_lock while formatting, so regions, slot
 * arrays and strings cannot be freed under it; slots themselves are being written by
 * their JavaScript thread, so each one is read field by field with relaxed loads and
 * skipped if its ID changed in between (a torn record is dropped, never printed).
 */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const STATE_NAMES[] = {"free",   "ready",             "running",
                                          "parked", "awaiting children", "done"};

void rioco_buf_printf(rioco_buf *b, const char *fmt, ...) {
  if (b->oom) return;
  for (;;) {
    size_t room = b->cap - b->len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < room) {
      b->len += (size_t)n;
      return;
    }
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len <= (size_t)n) cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL) {
      b->oom = true;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
}

void rioco_buf_puts_quoted(rioco_buf *b, const char *s) {
  /* Stored strings are already free of control characters; escape quotes only. */
  rioco_buf_printf(b, "\"");
  for (const char *q = s; *q != '\0'; q++) {
    if (*q == '"' || *q == '\\')
      rioco_buf_printf(b, "\\%c", *q);
    else
      rioco_buf_printf(b, "%c", *q);
  }
  rioco_buf_printf(b, "\"");
}

/* Read one slot consistently enough for a report; false if free or torn. */
static bool read_slot(const rioco_slot *s, rioco_slot *out) {
  int32_t id = rd_i32(&s->id);
  if (id <= 0) return false;
  out->id = id;
  out->state = rd_i32(&s->state);
  out->priority = rd_i32(&s->priority);
  out->parent = rd_i32(&s->parent);
  out->reason = rd_i32(&s->reason);
  out->name = rd_i32(&s->name);
  out->runtime = rd_i32(&s->runtime);
  out->flags = rd_i32(&s->flags);
  out->spawned = rd_f64(&s->spawned);
  out->since = rd_f64(&s->since);
  out->switches = rd_f64(&s->switches);
  out->reserved = 0;
  return rd_i32(&s->id) == id;
}

bool rioco_find_fiber(const rioco_region *r, int32_t id, rioco_slot *out) {
  for (uint32_t i = 0; i < r->capacity; i++) {
    if (rd_i32(&r->slots[i].id) == id && read_slot(&r->slots[i], out) && out->id == id) return true;
  }
  return false;
}

static void put_age(rioco_buf *b, double now_ms, double then_ms) {
  double age = now_ms - then_ms;
  if (then_ms <= 0 || age < 0 || age > 1e12)
    rioco_buf_printf(b, "?");
  else
    rioco_buf_printf(b, "%.0fms", age);
}

static void put_name(rioco_buf *b, const rioco_region *r, int32_t name_id, int32_t fiber_id) {
  const char *name = rioco_string_peek(r, name_id);
  if (name != NULL)
    rioco_buf_puts_quoted(b, name);
  else
    rioco_buf_printf(b, "\"fiber-%d\"", fiber_id);
}

static void format_region(rioco_buf *b, const rioco_region *r, int64_t now_ns) {
  double now = rioco_region_js_ms(r, now_ns);
  const rioco_header *h = r->header;
  int32_t current = rd_i32(&h->current);
  rioco_buf_printf(b, "runtime %d (thread %d): %d live, %.0f switches, running ", r->runtime_id,
                   (int)r->tid, rd_i32(&h->live), rd_f64(&h->switch_seq));
  if (current != 0)
    rioco_buf_printf(b, "#%d", current);
  else
    rioco_buf_printf(b, "nothing");
  rioco_buf_printf(b, ", last drain ");
  put_age(b, now, rd_f64(&h->heartbeat));
  rioco_buf_printf(b, " ago");
  double beat = rd_f64(&h->loop_beat);
  if (beat > 0) {
    rioco_buf_printf(b, ", event loop turned ");
    put_age(b, now, beat);
    rioco_buf_printf(b, " ago");
  }
  rioco_buf_printf(b, "\n");
  for (uint32_t i = 0; i < r->capacity; i++) {
    rioco_slot s;
    if (!read_slot(&r->slots[i], &s)) continue;
    rioco_buf_printf(b, "  fiber #%d ", s.id);
    put_name(b, r, s.name, s.id);
    const char *state = (s.state >= 0 && s.state <= RIOCO_S_DONE) ? STATE_NAMES[s.state] : "?";
    rioco_buf_printf(b, " state=%s prio=%d parent=", state, s.priority);
    if (s.parent > 0)
      rioco_buf_printf(b, "#%d", s.parent);
    else
      rioco_buf_printf(b, "-");
    rioco_buf_printf(b, " waiting-on=");
    const char *label = s.reason != 0 ? rioco_reason_peek(r, s.reason) : NULL;
    if (label != NULL)
      rioco_buf_puts_quoted(b, label);
    else if (s.reason != 0)
      rioco_buf_printf(b, "reason-%d", s.reason);
    else
      rioco_buf_printf(b, "-");
    rioco_buf_printf(b, " for=");
    put_age(b, now, s.since);
    rioco_buf_printf(b, " switches=%.0f", s.switches);
    if (s.flags & (RIOCO_F_SUPERVISOR | RIOCO_F_CANCEL_REQUESTED | RIOCO_F_IN_CLEANUP)) {
      rioco_buf_printf(b, " flags=%s%s%s", (s.flags & RIOCO_F_SUPERVISOR) ? "supervisor," : "",
                       (s.flags & RIOCO_F_CANCEL_REQUESTED) ? "cancel-requested," : "",
                       (s.flags & RIOCO_F_IN_CLEANUP) ? "in-cleanup," : "");
      if (!b->oom) b->len--; /* drop the trailing comma */
    }
    if (s.id == current && s.state == RIOCO_S_RUNNING) rioco_buf_printf(b, " <- running now");
    rioco_buf_printf(b, "\n");
  }
}

/* A region kept for the thread's next runtime (runtime id 0, no fibers) is not one. */
static bool in_use(const rioco_region *r) { return r->runtime_id != 0 || rd_i32(&r->header->live) != 0; }

void rioco_dump_format(rioco_buf *b) {
  int64_t now_ns = rioco_mono_ns();
  uint32_t nregions = 0;
  int64_t nfibers = 0;
  for (rioco_region *r = g_regions; r != NULL; r = r->next) {
    if (!in_use(r)) continue;
    nregions++;
    nfibers += rd_i32(&r->header->live);
  }
  rioco_buf_printf(b, "=== rioco fiber dump: pid %d, %u runtime(s), %lld live fiber(s) ===\n",
                   (int)getpid(), nregions, (long long)nfibers);
  /* Regions are pushed at the head; print the oldest first. */
  rioco_region *order[256];
  uint32_t n = 0;
  for (rioco_region *r = g_regions; r != NULL && n < 256; r = r->next)
    if (in_use(r)) order[n++] = r;
  for (uint32_t i = n; i > 0; i--) format_region(b, order[i - 1], now_ns);
  if (nregions > n) rioco_buf_printf(b, "(%u more runtime(s) not shown)\n", nregions - n);
  rioco_buf_printf(b, "=== end of rioco fiber dump ===\n");
}

char *rioco_dump(void) {
  rioco_buf b = {0};
  pthread_mutex_lock(&g_lock);
  rioco_dump_format(&b);
  pthread_mutex_unlock(&g_lock);
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  return b.p;
}

void rioco_write_all(int fd, const char *p, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    p += n;
    len -= (size_t)n;
  }
}
