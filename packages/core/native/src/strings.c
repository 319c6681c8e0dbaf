/*
 * strings.c - a region's string area: fiber names (ids from rioco_string_put, stored
 * in a slot's NAME) and wait-reason labels (ids chosen by JavaScript, stored in REASON).
 *
 * Invariants: every change happens under g_lock (the monitor may be formatting a dump
 * that reads these strings). Name ids are > 0 and recycled LIFO after a drop. Stored
 * text is valid UTF-8 with control characters replaced by '?', at most RIOCO_NAME_MAX
 * bytes, so a dump line is always one line.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* Copy at most max bytes of s, cutting at a UTF-8 boundary, replacing control chars. */
static char *clean_copy(const char *s, size_t max) {
  size_t n = strlen(s);
  if (n > max) {
    n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--; /* don't split a sequence */
  }
  char *c = malloc(n + 1);
  if (c == NULL) return NULL;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    c[i] = (ch < 0x20 || ch == 0x7F) ? '?' : (char)ch;
  }
  c[n] = '\0';
  return c;
}

int32_t rioco_string_put(rioco_region *r, const char *utf8) {
  if (r == NULL || utf8 == NULL) return RIOCO_EINVAL;
  char *copy = clean_copy(utf8, RIOCO_NAME_MAX);
  if (copy == NULL) return RIOCO_ENOMEM;
  pthread_mutex_lock(&g_lock);
  int32_t id;
  if (r->nfree > 0) {
    id = r->free_ids[--r->nfree];
  } else {
    if (r->nstrings == 0) r->nstrings = 1; /* id 0 means "unnamed" */
    if (r->nstrings >= r->capstrings) {
      uint32_t cap = r->capstrings ? r->capstrings * 2 : 64;
      if (cap > (uint32_t)INT32_MAX) goto full;
      char **s = realloc(r->strings, cap * sizeof *s);
      if (s == NULL) goto full;
      memset(s + r->capstrings, 0, (cap - r->capstrings) * sizeof *s);
      r->strings = s;
      r->capstrings = cap;
    }
    id = (int32_t)r->nstrings++;
  }
  r->strings[id] = copy;
  pthread_mutex_unlock(&g_lock);
  return id;
full:
  pthread_mutex_unlock(&g_lock);
  free(copy);
  return RIOCO_ENOMEM;
}

int rioco_string_drop(rioco_region *r, int32_t id) {
  if (r == NULL) return RIOCO_EINVAL;
  pthread_mutex_lock(&g_lock);
  if (id <= 0 || (uint32_t)id >= r->nstrings || r->strings[id] == NULL) {
    pthread_mutex_unlock(&g_lock);
    return RIOCO_EINVAL;
  }
  if (r->nfree == r->capfree) {
    uint32_t cap = r->capfree ? r->capfree * 2 : 64;
    int32_t *f = realloc(r->free_ids, cap * sizeof *f);
    if (f == NULL) {
      /* Keep the string rather than lose track of the id; it is freed with the region. */
      pthread_mutex_unlock(&g_lock);
      return RIOCO_ENOMEM;
    }
    r->free_ids = f;
    r->capfree = cap;
  }
  free(r->strings[id]);
  r->strings[id] = NULL;
  r->free_ids[r->nfree++] = id;
  pthread_mutex_unlock(&g_lock);
  return RIOCO_OK;
}

int32_t rioco_string_get(rioco_region *r, int32_t id, char *buf, uint32_t cap) {
  if (r == NULL || buf == NULL || cap == 0) return -1;
  pthread_mutex_lock(&g_lock);
  const char *s = rioco_string_peek(r, id);
  int32_t n = -1;
  if (s != NULL) {
    size_t len = strlen(s);
    if (len >= cap) len = cap - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    n = (int32_t)len;
  }
  pthread_mutex_unlock(&g_lock);
  return n;
}

const char *rioco_string_peek(const rioco_region *r, int32_t id) {
  if (id <= 0 || (uint32_t)id >= r->nstrings) return NULL;
  return r->strings[id];
}

int rioco_reason_set(rioco_region *r, int32_t id, const char *label) {
  if (r == NULL || label == NULL || id < 0 || id > 1000000) return RIOCO_EINVAL;
  char *copy = clean_copy(label, RIOCO_NAME_MAX);
  if (copy == NULL) return RIOCO_ENOMEM;
  pthread_mutex_lock(&g_lock);
  if ((uint32_t)id >= r->nreasons) {
    uint32_t n = (uint32_t)id + 1;
    if (n < r->nreasons * 2) n = r->nreasons * 2;
    char **s = realloc(r->reasons, n * sizeof *s);
    if (s == NULL) {
      pthread_mutex_unlock(&g_lock);
      free(copy);
      return RIOCO_ENOMEM;
    }
    memset(s + r->nreasons, 0, (n - r->nreasons) * sizeof *s);
    r->reasons = s;
    r->nreasons = n;
  }
  free(r->reasons[id]);
  r->reasons[id] = copy;
  pthread_mutex_unlock(&g_lock);
  return RIOCO_OK;
}

const char *rioco_reason_peek(const rioco_region *r, int32_t id) {
  if (id < 0 || (uint32_t)id >= r->nreasons) return NULL;
  return r->reasons[id];
}

void rioco_strings_free(rioco_region *r) {
  for (uint32_t i = 0; i < r->nstrings; i++) free(r->strings[i]);
  for (uint32_t i = 0; i < r->nreasons; i++) free(r->reasons[i]);
  free(r->strings);
  free(r->reasons);
  free(r->free_ids);
  r->strings = NULL;
  r->reasons = NULL;
  r->free_ids = NULL;
}
