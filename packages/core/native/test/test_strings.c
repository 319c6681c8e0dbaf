#include "../src/internal.h"
#include "check.h"

#include <string.h>

TEST(strings_put_get_drop_and_reuse) {
  rioco_region *r = rioco_region_create(1, 1, 0.0, NULL);
  char buf[256];
  int32_t a = rioco_string_put(r, "alpha");
  int32_t b = rioco_string_put(r, "beta");
  CHECK(a > 0 && b > 0 && a != b);
  CHECK(rioco_string_get(r, a, buf, sizeof buf) == 5 && strcmp(buf, "alpha") == 0);
  CHECK(rioco_string_get(r, b, buf, sizeof buf) == 4 && strcmp(buf, "beta") == 0);
  CHECK(rioco_string_drop(r, a) == RIOCO_OK);
  CHECK(rioco_string_get(r, a, buf, sizeof buf) == -1);
  CHECK(rioco_string_drop(r, a) == RIOCO_EINVAL); /* twice */
  CHECK(rioco_string_drop(r, 0) == RIOCO_EINVAL);
  CHECK(rioco_string_drop(r, 9999) == RIOCO_EINVAL);
  int32_t c = rioco_string_put(r, "gamma");
  CHECK(c == a); /* recycled */
  CHECK(rioco_string_get(r, 0, buf, sizeof buf) == -1);
  CHECK(rioco_string_get(r, c, buf, 3) == 2 && strcmp(buf, "ga") == 0);
  CHECK(rioco_string_put(r, NULL) == RIOCO_EINVAL);
  rioco_region_destroy(r); /* frees what is still stored */
}

TEST(strings_many_grow_the_area) {
  rioco_region *r = rioco_region_create(1, 1, 0.0, NULL);
  char name[32], buf[32];
  int32_t ids[1000];
  for (int i = 0; i < 1000; i++) {
    snprintf(name, sizeof name, "fiber %d", i);
    ids[i] = rioco_string_put(r, name);
    CHECK(ids[i] > 0);
  }
  for (int i = 0; i < 1000; i += 2) CHECK(rioco_string_drop(r, ids[i]) == RIOCO_OK);
  for (int i = 1; i < 1000; i += 2) {
    snprintf(name, sizeof name, "fiber %d", i);
    CHECK(rioco_string_get(r, ids[i], buf, sizeof buf) > 0 && strcmp(buf, name) == 0);
  }
  rioco_region_destroy(r);
}

TEST(strings_are_cleaned_and_truncated_at_utf8_boundaries) {
  rioco_region *r = rioco_region_create(1, 1, 0.0, NULL);
  char buf[512];
  int32_t id = rioco_string_put(r, "a\nb\tc\x7f");
  CHECK(rioco_string_get(r, id, buf, sizeof buf) == 6 && strcmp(buf, "a?b?c?") == 0);
  /* 199 ASCII bytes then "é" (2 bytes) straddles the 200-byte limit: cut before it. */
  char long_name[300];
  memset(long_name, 'x', 199);
  strcpy(long_name + 199, "\xc3\xa9tail");
  id = rioco_string_put(r, long_name);
  CHECK(rioco_string_get(r, id, buf, sizeof buf) == 199);
  memset(long_name, 'y', 250);
  long_name[250] = '\0';
  id = rioco_string_put(r, long_name);
  CHECK(rioco_string_get(r, id, buf, sizeof buf) == RIOCO_NAME_MAX);
  rioco_region_destroy(r);
}

TEST(reasons_are_indexed_by_id) {
  rioco_region *r = rioco_region_create(1, 1, 0.0, NULL);
  CHECK(rioco_reason_set(r, 0, "nothing") == RIOCO_OK);
  CHECK(rioco_reason_set(r, 40, "channel recv") == RIOCO_OK);
  CHECK(rioco_reason_set(r, 3, "join") == RIOCO_OK);
  CHECK(rioco_reason_set(r, 3, "join again") == RIOCO_OK); /* replaced, old one freed */
  pthread_mutex_lock(&g_lock);
  CHECK(strcmp(rioco_reason_peek(r, 40), "channel recv") == 0);
  CHECK(strcmp(rioco_reason_peek(r, 3), "join again") == 0);
  CHECK(rioco_reason_peek(r, 5) == NULL);
  CHECK(rioco_reason_peek(r, 41) == NULL);
  pthread_mutex_unlock(&g_lock);
  CHECK(rioco_reason_set(r, -1, "x") == RIOCO_EINVAL);
  CHECK(rioco_reason_set(r, 1, NULL) == RIOCO_EINVAL);
  rioco_region_destroy(r);
}
