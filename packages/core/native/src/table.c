/*
 * table.c - regions: one header + slot array per runtime, in a process-wide registry.
 *
 * Invariants:
 *  - A region is in g_regions from create to destroy; both run on the owning thread
 *    and take g_lock, so a reader holding g_lock never sees a freed region.
 *  - r->slots and r->capacity change together under g_lock (grow). The old array is
 *    kept in r->retired until destroy: JavaScript may still hold a view of it for a
 *    moment, and writes through a stale view must land in live memory.
 *  - New slots are zeroed (ID 0 = free), so a reader never mistakes garbage for a fiber.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
rioco_region *g_regions;

int32_t rioco_abi_version(void) { return RIOCO_ABI_VERSION; }

int64_t rioco_mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

pid_t rioco_gettid(void) { return (pid_t)syscall(SYS_gettid); }

double rioco_region_js_ms(const rioco_region *r, int64_t mono_ns) {
  return (double)mono_ns / 1e6 - r->clock_offset_ms;
}

/*
 * Pin the library: worker threads load and unload it through koffi, but the monitor
 * thread and the SIGQUIT handler run its code at any time, so it must never be
 * unmapped. RTLD_NOLOAD|RTLD_NODELETE marks the already-loaded object as permanent.
 */
__attribute__((constructor)) static void rioco_pin(void) {
  Dl_info info;
  if (dladdr((void *)&rioco_pin, &info) != 0 && info.dli_fname != NULL) {
    void *self = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
    (void)self; /* the extra reference is intentional */
  }
}

static void *alloc_slots(uint32_t capacity) {
  size_t bytes = (size_t)capacity * RIOCO_SLOT_BYTES;
  void *p = NULL;
  if (posix_memalign(&p, 64, bytes ? bytes : 64) != 0) return NULL;
  memset(p, 0, bytes);
  return p;
}

static void region_env_gone(void *arg);

rioco_region *rioco_region_create(int32_t runtime_id, uint32_t capacity, double now_ms,
                                  void *napi_env) {
  if (capacity == 0 || capacity > RIOCO_MAX_SLOTS) return NULL;
  rioco_region *r = calloc(1, sizeof *r);
  if (r == NULL) return NULL;
  void *h = NULL;
  if (posix_memalign(&h, 64, RIOCO_HEADER_BYTES) != 0) {
    free(r);
    return NULL;
  }
  memset(h, 0, RIOCO_HEADER_BYTES);
  r->header = h;
  r->slots = alloc_slots(capacity);
  if (r->slots == NULL) {
    free(h);
    free(r);
    return NULL;
  }
  r->runtime_id = runtime_id;
  r->capacity = capacity;
  r->tid = rioco_gettid();
  r->clock_offset_ms = (double)rioco_mono_ns() / 1e6 - now_ms;
  if (napi_env != NULL && rioco_env_hook_add(napi_env, region_env_gone, r)) r->env = napi_env;
  pthread_mutex_lock(&g_lock);
  r->next = g_regions;
  g_regions = r;
  pthread_mutex_unlock(&g_lock);
  return r;
}

static void region_free(rioco_region *r) {
  pthread_mutex_lock(&g_lock);
  for (rioco_region **p = &g_regions; *p != NULL; p = &(*p)->next) {
    if (*p == r) {
      *p = r->next;
      break;
    }
  }
  pthread_mutex_unlock(&g_lock);
  for (uint32_t i = 0; i < r->nretired; i++) free(r->retired[i]);
  free(r->retired);
  rioco_strings_free(r);
  free(r->slots);
  free(r->header);
  free(r);
}

/* The owning environment ended without destroying the region (worker terminated). */
static void region_env_gone(void *arg) { region_free(arg); }

void rioco_region_destroy(rioco_region *r) {
  if (r == NULL) return;
  if (r->env != NULL) rioco_env_hook_remove(r->env, region_env_gone, r);
  region_free(r);
}

rioco_header *rioco_region_header(rioco_region *r) { return r->header; }
rioco_slot *rioco_region_slots(rioco_region *r) { return r->slots; }
uint32_t rioco_region_capacity(rioco_region *r) { return r->capacity; }

int rioco_region_grow(rioco_region *r, uint32_t capacity) {
  if (r == NULL) return RIOCO_EINVAL;
  if (capacity <= r->capacity) return RIOCO_OK;
  if (capacity > RIOCO_MAX_SLOTS) return RIOCO_EFULL;
  rioco_slot *fresh = alloc_slots(capacity);
  if (fresh == NULL) return RIOCO_ENOMEM;
  void **retired = realloc(r->retired, (r->nretired + 1) * sizeof *retired);
  if (retired == NULL) {
    free(fresh);
    return RIOCO_ENOMEM;
  }
  r->retired = retired;
  /* Only this thread writes slots, and it is here: the copy is consistent. */
  memcpy(fresh, r->slots, (size_t)r->capacity * RIOCO_SLOT_BYTES);
  pthread_mutex_lock(&g_lock);
  r->retired[r->nretired++] = r->slots;
  r->slots = fresh;
  r->capacity = capacity;
  pthread_mutex_unlock(&g_lock);
  return RIOCO_OK;
}

void rioco_region_set_runtime(rioco_region *r, int32_t runtime_id) {
  pthread_mutex_lock(&g_lock);
  r->runtime_id = runtime_id;
  pthread_mutex_unlock(&g_lock);
}

uint32_t rioco_region_count(void) {
  uint32_t n = 0;
  pthread_mutex_lock(&g_lock);
  for (rioco_region *r = g_regions; r != NULL; r = r->next) n++;
  pthread_mutex_unlock(&g_lock);
  return n;
}

void rioco_free(void *p) { free(p); }
